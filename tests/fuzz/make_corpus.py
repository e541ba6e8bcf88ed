#!/usr/bin/python3
"""Write the seed corpus of the fuzz targets (tests/fuzz/corpus/).

reader/: byte 0 flags (bit 0: small limits), byte 1 chunk seed, then a
         MessagePack-RPC stream.
params/: byte 0 method index (order of methods[] in fuzz_params.c), then the
         params value of a request.

Seeds are named seed-*; crash regressions found by fuzzing are kept as
crash-* and never rewritten here. Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
# The order of methods[] in fuzz_params.c: append only.
METHODS = ["daemon.hello", "daemon.ping", "daemon.shutdown", "process.spawn",
           "process.join", "process.terminate", "process.signal", "process.info",
           "process.list", "process.start", "process.restart", "pool.create",
           "pool.info", "pool.list", "pool.scale", "pool.restart", "pool.close",
           "pool.join", "pool.terminate", "pool.delete", "events.subscribe"]

PARAMS = {
    "daemon.hello": [[], [{}]],
    "daemon.ping": [[]],
    "daemon.shutdown": [[]],
    "process.spawn": [
        [{"argv": ["sleep", "5"]}],
        [{"argv": ["sh", "-c", "echo hi"], "name": "web.1", "pool": "web",
          "env": {"A": "1", "PATH": "/bin"}, "env_clear": True, "cwd": "/tmp",
          "stdin": b"input\x00bytes"}],
        [{"argv": ["cat"], "stdin": "text", "name": None}],
        [{"argv": []}],
        [{"argv": ["a"], "env": {"A": "1", "A=": "2"}}],
        [{"argv": ["a"], "name": "123"}],
        [{"argv": ["a"], "bogus": 1}],
    ],
    "process.join": [[{"id": 1}], [{"name": "web.1", "timeout": 1.5}],
                     [{"id": 1, "name": "x"}], [{"id": 1, "timeout": -1}]],
    "process.terminate": [[{"id": 2, "signal": "KILL", "grace": 0, "wait": True}],
                          [{"name": "w", "signal": 9}], [{"name": "w", "signal": "RTMIN+2"}]],
    "process.signal": [[{"id": 3, "signal": "SIGUSR1", "group": True}],
                       [{"id": 3, "signal": "FOO"}], [{"id": 3}]],
    "process.info": [[{"id": 4}], [{"name": "web.1"}], [{}]],
    "process.list": [[], [{"pool": "web", "live": True}], [{"live": "yes"}]],
}


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def write(sub, name, data):
    path = os.path.join(HERE, "corpus", sub, "seed-" + name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def reader_seeds():
    msgid = 0
    stream = b""
    for method, cases in PARAMS.items():
        for i, params in enumerate(cases):
            msgid += 1
            req = pack([0, msgid, method, params])
            stream += req
            write("reader", "%s-%d" % (method, i), b"\x00\x07" + req)
    write("reader", "stream", b"\x00\x2a" + stream)
    write("reader", "stream-small", b"\x01\x03" + stream)
    responses = (pack([1, 1, None, {"pid": 1}]) +
                 pack([1, 2, {"code": "not_found", "message": "no", "field": "id"}, None]) +
                 pack([1, 3, {"code": "new_code", "message": "m"}, None]) +
                 pack([2, "event", []]))
    write("reader", "responses", b"\x00\x01" + responses)
    hostile = {
        "array32-huge": b"\xdd\xff\xff\xff\xff",
        "map32-huge": b"\xdf\xff\xff\xff\xff",
        "str32-huge": b"\x94\x00\x01\xdb\xff\xff\xff\xff",
        "bin32-huge": b"\x94\x00\x01\xc6\xff\xff\xff\xff",
        "ext32-huge": b"\x94\x00\x01\xc9\xff\xff\xff\xff\x01",
        "deep": b"\x91" * 10000,
        "deep-33": b"\x94\x00\x01\xa1m" + b"\x91" * 31 + b"\x90",
        "c1": b"\x94\x00\x01\xc1",
        "not-array": pack(5),
        "type-3": pack([3, 1, "m", []]),
        "msgid-negative": pack([0, -1, "m", []]),
        "msgid-big": pack([0, 2 ** 32, "m", []]),
        "method-int": pack([0, 1, 2, []]),
        "params-map": pack([0, 1, "m", {}]),
        "method-long": pack([0, 1, "m" * 100, []]),
        "method-nul": pack([0, 1, "daemon.ping\x00", []]),
        "many-nils": pack([0, 1, "m", [None] * 300]),
        "floats-ext": pack([0, 1, "m", [1.5, -2, 2 ** 63, msgpack.ExtType(5, b"xyz")]]),
        # a timestamp (fixext 4, type -1) inside params
        "timestamp": b"\x94\x00\x01\xa1m\x91\xd6\xff\x00\x00\x00\x01",
        "truncated": pack([0, 1, "process.spawn", [{"argv": ["a", "b"]}]])[:-3],
    }
    for name, data in hostile.items():
        write("reader", "hostile-" + name, b"\x00\x05" + data)
        write("reader", "hostile-small-" + name, b"\x01\x09" + data)


def params_seeds():
    for method, cases in PARAMS.items():
        idx = METHODS.index(method)
        for i, params in enumerate(cases):
            write("params", "%s-%d" % (method, i), bytes([idx]) + pack(params))
    write("params", "not-array", bytes([3]) + pack({"argv": ["a"]}))
    write("params", "two-maps", bytes([3]) + pack([{}, {}]))
    write("params", "key-int", bytes([3]) + pack([{1: 2}]))
    write("params", "env-many", bytes([3]) + pack(
        [{"argv": ["a"], "env": {"K%d" % i: "v" for i in range(100)}}]))
    write("params", "seconds-nan", bytes([4]) + pack([{"id": 1, "timeout": float("nan")}]))
    write("params", "seconds-f32", bytes([4]) + b"\x91\x82\xa2id\x01\xa7timeout\xca" +
          struct.pack(">f", 0.25))


if __name__ == "__main__":
    reader_seeds()
    params_seeds()
