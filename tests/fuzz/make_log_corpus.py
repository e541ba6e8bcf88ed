#!/usr/bin/python3
"""Write the seed corpus of fuzz_log_replay (tests/fuzz/corpus/log_replay/).

Input of the target: byte 0 flags (bit 0: structured -- the target puts the
magic in front and fixes every record's CRC; bit 1: ack the message taken
after the replay), then a durable queue's log file (without its magic when
structured). The log format is daemon/queue-log.c's:

    "CORRALQ1", then records: u32 n, u32 CRC-32 of the n bytes that follow,
    u8 type, payload (little-endian integers, IEEE doubles as their bits)
      1 config   u64 maxsize, u64 max_bytes, u8 fsync, u8 durable,
                 f64 visibility_timeout, u32 max_attempts, u8 len, dead_letter,
                 u64 next_id
      2 put      u64 id, i32 priority, u32 attempts, f64 visible_wall, u32 len, data
      3 ack      u64 id
      4 attempt  u64 id, u32 attempts
      5 delay    u64 id, f64 visible_wall

Valid logs and damaged ones (torn, corrupt, impossible lengths, odd values).
Seeds are named seed-*; crash regressions found by fuzzing are kept as
crash-* and never rewritten here. Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_log_corpus.py
"""
import os
import struct
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "log_replay")
MAGIC = b"CORRALQ1"
RAW, STRUCTURED, ACK = 0, 1, 2


def record(payload):
    return struct.pack("<II", len(payload), zlib.crc32(payload) & 0xFFFFFFFF) + payload


def config(maxsize=0, max_bytes=0, fsync=0, visibility=30.0, max_attempts=0, dead_letter=b"",
           next_id=1):
    return record(struct.pack("<BQQBBdIB", 1, maxsize, max_bytes, fsync, 1, visibility,
                              max_attempts, len(dead_letter)) + dead_letter +
                  struct.pack("<Q", next_id))


def put(msg_id, data, priority=0, attempts=0, visible_wall=0.0):
    return record(struct.pack("<BQiIdI", 2, msg_id, priority, attempts, visible_wall, len(data)) +
                  data)


def ack(msg_id):
    return record(struct.pack("<BQ", 3, msg_id))


def attempt(msg_id, attempts):
    return record(struct.pack("<BQI", 4, msg_id, attempts))


def delay(msg_id, visible_wall):
    return record(struct.pack("<BQd", 5, msg_id, visible_wall))


def write(name, flags, body):
    """body: the log without its magic."""
    data = bytes([flags]) + (body if flags & STRUCTURED else MAGIC + body)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    now = time.time()
    valid = (config(maxsize=100, max_bytes=1 << 20, visibility=30.0, max_attempts=5, next_id=1) +
             put(1, b"first") + put(2, b"second", priority=-3) + put(3, b"third", attempts=2) +
             ack(2) + attempt(3, 3) + put(4, b"later", visible_wall=now + 3600) +
             delay(1, now + 7200) + put(5, b""))
    write("seed-valid", RAW, valid)
    write("seed-valid-ack", RAW | ACK, valid)
    write("seed-valid-structured", STRUCTURED, valid)
    write("seed-valid-structured-ack", STRUCTURED | ACK, valid)
    write("seed-config-only", RAW, config())
    write("seed-config-only-structured", STRUCTURED | ACK, config(next_id=1000))
    # Damaged: torn in the middle of the last record, in a header, after the magic.
    write("seed-torn-record", RAW, valid[:-3])
    write("seed-torn-header", RAW, valid[:len(config(maxsize=100, max_bytes=1 << 20,
                                                      max_attempts=5)) + 5])
    write("seed-magic-only", RAW, b"")
    write("seed-empty-file", STRUCTURED, b"")
    corrupt = bytearray(valid)
    corrupt[len(valid) // 2] ^= 0x40
    write("seed-corrupt-crc", RAW, bytes(corrupt))
    with open(os.path.join(OUT, "seed-bad-magic"), "wb") as f:
        f.write(bytes([RAW]) + b"CORRALQ2" + valid)
    with open(os.path.join(OUT, "seed-short-magic"), "wb") as f:
        f.write(bytes([RAW]) + b"CORR")
    write("seed-zero-length", RAW, config() + struct.pack("<II", 0, 0) + put(1, b"x"))
    write("seed-huge-length", RAW, config() + struct.pack("<II", 0xFFFFFFFF, 0) + b"x" * 16)
    write("seed-length-past-end", STRUCTURED, config() + struct.pack("<II", 64, 0) + b"y" * 8)
    # Fields that do not add up: a put whose data length disagrees, an unknown type,
    # an ack or a delay of the wrong size, a config too short.
    bad_put = struct.pack("<BQiIdI", 2, 7, 0, 0, 0.0, 100) + b"short"
    write("seed-put-bad-len", STRUCTURED, config() + record(bad_put) + put(8, b"after"))
    write("seed-unknown-type", STRUCTURED, config() + record(b"\x09abcdefgh") + put(1, b"x"))
    write("seed-ack-wrong-size", STRUCTURED, config() + put(1, b"x") + record(b"\x03\x01\x00\x00"))
    write("seed-delay-wrong-size", STRUCTURED, config() + put(1, b"x") + record(b"\x05" + b"\0" * 9))
    write("seed-config-short", STRUCTURED, record(b"\x01" + b"\0" * 20) + put(1, b"x"))
    write("seed-no-config", STRUCTURED, put(1, b"x") + put(2, b"y"))
    # Values the writer never produces.
    write("seed-odd-values", STRUCTURED | ACK,
          config(maxsize=1, max_bytes=1, fsync=9, visibility=float("nan"), max_attempts=1,
                 dead_letter=b"x" * 200, next_id=0) +
          put(0, b"zero") + put(2**64 - 1, b"max", priority=-2**31, attempts=2**32 - 1,
                                visible_wall=float("inf")) +
          put(3, b"nan", visible_wall=float("nan")) + delay(3, -1e300) + attempt(99, 1) +
          ack(12345) + put(3, b"duplicate id"))
    write("seed-dead-letter-self", STRUCTURED,
          config(max_attempts=1, dead_letter=b"fz") + put(1, b"to itself", attempts=1))
    write("seed-dead-letter-other", STRUCTURED | ACK,
          config(max_attempts=2, dead_letter=b"elsewhere") + put(1, b"a", attempts=5))
    write("seed-second-config", STRUCTURED,
          config(next_id=5) + put(1, b"a") + config(maxsize=1, next_id=50) + put(2, b"b"))
    many = config(maxsize=0)
    for i in range(1, 200):
        many += put(i, bytes([i % 256]) * (i % 37))
        if i % 3 == 0:
            many += ack(i - 1)
    write("seed-many", STRUCTURED, many)
    write("seed-big-message", STRUCTURED, config() + put(1, b"B" * 70000))


if __name__ == "__main__":
    main()
