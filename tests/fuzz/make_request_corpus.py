#!/usr/bin/python3
"""Write the seed corpus of fuzz_request (tests/fuzz/corpus/request/).

Input of the target: byte 0 flags (bits 0-1 how the bytes arrive: 0 at
once, 1 small chunks, 2 large chunks, 3 a message at a time; bit 2 the
client hangs up at the end; bits 3-7 the chunk seed), then the client's
MessagePack-RPC stream. The notifications "fuzz.reconnect",
"fuzz.restart" and "fuzz.as_read", "fuzz.as_scoped", "fuzz.as_none" (connect
again as nobody: read; daemon: control of pool and queue "a"; bin: no rule)
are commands to the harness (see fuzz_request.c).

Programs are tests/fuzz/mock_spawn.c's: true, false, exit N, echo ...,
warn ..., cat, ready [STATUS], crash, deaf, missing*, noexec, eagain; anything
else (sleep) runs until signalled. file: destinations under /fuzz/ land in
the harness's sandbox.

Seeds are named seed-*; crash regressions found by fuzzing are kept as
crash-* and never rewritten here. Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_request_corpus.py
"""
import os

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "request")

AT_ONCE, SMALL, LARGE, PER_MESSAGE = 0, 1, 2, 3
HANGUP = 4


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


class Stream:
    """A client's requests, numbered in order."""

    def __init__(self):
        self.msgid = 0
        self.data = b""

    def req(self, method, params=None):
        self.msgid += 1
        self.data += pack([0, self.msgid, method, [] if params is None else [params]])
        return self

    def note(self, method, params=None):
        self.data += pack([2, method, [] if params is None else [params]])
        return self

    def raw(self, data):
        self.data += data
        return self

    def restart(self):
        return self.note("fuzz.restart")

    def reconnect(self):
        return self.note("fuzz.reconnect")

    def as_user(self, who):
        return self.note("fuzz.as_" + who)


written = set()


def write(name, stream, flags=AT_ONCE):
    data = stream.data if isinstance(stream, Stream) else stream
    os.makedirs(OUT, exist_ok=True)
    assert name not in written, name
    written.add(name)
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(bytes([flags]) + data)


def S():
    return Stream()


def one_per_method():
    """Every method of daemon/method.c's table, with typical parameters."""
    write("daemon.hello", S().req("daemon.hello").req("daemon.hello", {}))
    write("daemon.ping", S().req("daemon.ping"), HANGUP)
    write("daemon.stats", S().req("queue.create", {"name": "q"}).req("queue.put", {
        "queue": "q", "data": b"x"}).req("daemon.stats"))
    write("daemon.reload", S().req("pool.create", {"name": "p", "size": 2})
          .req("daemon.reload").req("pool.list"))
    write("daemon.reopen_logs", S().req("process.spawn", {
        "argv": ["echo", "to", "a", "file"], "stdout": "file:/fuzz/a.log"})
          .req("daemon.reopen_logs").req("process.join", {"id": 1}))
    write("daemon.shutdown", S().req("process.spawn", {"argv": ["sleep", "9"]})
          .req("process.join", {"id": 1}).req("daemon.shutdown").req("daemon.ping")
          .req("process.list"))
    write("process.spawn", S().req("process.spawn", {"argv": ["sleep", "5"]}))
    write("process.spawn-full", S().req("process.spawn", {
        "argv": ["cat"], "name": "web.1", "pool": "web", "env": {"A": "1", "PATH": "/bin"},
        "env_clear": True, "cwd": "/", "stdin": b"input\x00bytes\n", "stdout": "capture",
        "stderr": "stdout", "log_buffer": 1024, "priority": -3, "wait": "ready",
        "follow": True, "restart": "on-failure", "success_codes": [0, 3],
        "restart_delay": 0, "restart_delay_max": 0.5, "min_uptime": 0,
        "start_limit_burst": 2, "start_limit_interval": 1, "failed_retry_after": 0,
        "ready": "spawned", "ready_timeout": 1, "stop_signal": "INT", "grace": 0}))
    write("process.join", S().req("process.spawn", {"argv": ["exit", "3"]})
          .req("process.join", {"id": 1, "output": True})
          .req("process.join", {"name": "exit.1", "timeout": 0}), PER_MESSAGE)
    write("process.terminate", S().req("process.spawn", {"argv": ["sleep", "1"], "name": "s"})
          .req("process.terminate", {"name": "s", "signal": "TERM", "grace": 0, "wait": True})
          .req("process.terminate", {"name": "s"}))
    write("process.signal", S().req("process.spawn", {"argv": ["sleep", "1"]})
          .req("process.signal", {"id": 1, "signal": "USR1"})
          .req("process.signal", {"id": 1, "signal": "CONT", "group": True})
          .req("process.signal", {"id": 1, "signal": 15})
          .req("process.signal", {"id": 1, "signal": "HUP"}))
    write("process.info", S().req("process.spawn", {"argv": ["true"]})
          .req("process.info", {"id": 1}).req("process.info", {"name": "true.1"})
          .req("process.info", {"id": 99}))
    write("process.list", S().req("process.spawn", {"argv": ["sleep"], "pool": "a"})
          .req("process.spawn", {"argv": ["true"]}).req("process.list")
          .req("process.list", {"pool": "a", "live": True}))
    write("process.start", S().req("process.spawn", {"argv": ["false"]})
          .req("process.join", {"id": 1}).req("process.start", {"id": 1, "wait": "ready"})
          .req("process.info", {"id": 1}))
    write("process.restart", S().req("process.spawn", {"argv": ["sleep"], "grace": 0})
          .req("process.restart", {"id": 1, "wait": "ready"})
          .req("process.restart", {"id": 1}).req("process.info", {"id": 1}))
    write("process.logs", S().req("process.spawn", {"argv": ["echo", "one", "two"]})
          .req("process.spawn", {"argv": ["warn", "three"], "stderr": "stdout"})
          .req("process.join", {"id": 1})
          .req("process.logs", {"id": 1}).req("process.logs", {"id": 1, "stream": "stdout",
                                                               "tail": 1})
          .req("process.logs", {"pool": "default", "follow": True}))
    write("pool.create", S().req("pool.create", {
        "name": "w", "size": 2, "replicas": {"argv": ["sleep"], "env": {"X": "y"},
                                             "cwd": "/", "count": 3},
        "restart": "always", "restart_delay": 0, "stdout": "null", "stderr": "capture",
        "log_buffer": 4096, "log_max_bytes": 100, "log_backups": 1, "umask": 0o22}))
    write("pool.info", S().req("pool.create", {"name": "p"}).req("pool.info", {"name": "p"})
          .req("pool.info", {"name": "default"}).req("pool.info", {"name": "none"}))
    write("pool.list", S().req("pool.create", {"name": "p"}).req("pool.list"))
    write("pool.scale", S().req("pool.create", {"name": "r", "replicas": {
        "argv": ["sleep"], "count": 1}, "grace": 0})
          .req("pool.scale", {"name": "r", "count": 4}).req("pool.scale", {"name": "r", "count": 0})
          .req("pool.info", {"name": "r"}))
    write("pool.restart", S().req("pool.create", {"name": "r", "replicas": {
        "argv": ["ready"], "count": 2}, "ready": "notify", "grace": 0})
          .req("pool.restart", {"name": "r"}).req("pool.restart", {"name": "r"}))
    write("pool.close", S().req("pool.create", {"name": "c"}).req("pool.close", {"name": "c"})
          .req("process.spawn", {"argv": ["true"], "pool": "c"}))
    write("pool.join", S().req("pool.create", {"name": "j"})
          .req("process.spawn", {"argv": ["true"], "pool": "j"})
          .req("pool.close", {"name": "j"}).req("pool.join", {"name": "j"})
          .req("pool.join", {"name": "j", "timeout": 0}))
    write("pool.terminate", S().req("pool.create", {"name": "t", "size": 1, "grace": 0})
          .req("process.spawn", {"argv": ["sleep"], "pool": "t"})
          .req("process.spawn", {"argv": ["sleep"], "pool": "t"})
          .req("pool.terminate", {"name": "t", "wait": True}).req("pool.info", {"name": "t"}))
    write("pool.delete", S().req("pool.create", {"name": "d", "grace": 0})
          .req("process.spawn", {"argv": ["deaf"], "pool": "d"})
          .req("pool.delete", {"name": "d"}).req("pool.delete", {"name": "default"})
          .req("pool.list"))
    write("events.subscribe", S().req("events.subscribe")
          .req("pool.create", {"name": "e"}).req("process.spawn", {"argv": ["false"], "pool": "e"})
          .req("queue.create", {"name": "q", "maxsize": 1})
          .req("queue.put", {"queue": "q", "data": "a"})
          .req("queue.put", {"queue": "q", "data": "b", "timeout": 0})
          .req("pool.delete", {"name": "e"}))
    write("events.subscribe-filter", S().req("events.subscribe", {
        "pools": ["a"], "types": ["process.state", "pool.created"]})
          .req("process.spawn", {"argv": ["true"], "pool": "a"})
          .req("process.spawn", {"argv": ["true"], "pool": "b"})
          .req("events.subscribe", {"types": ["queue.dead_lettered"]}))
    write("queue.create", S().req("queue.create", {
        "name": "dl"}).req("queue.create", {
            "name": "q", "maxsize": 10, "max_bytes": 1000, "durable": True, "fsync": "always",
            "visibility_timeout": 5, "max_attempts": 2, "dead_letter": "dl"})
          .req("queue.create", {"name": "q"}))
    write("queue.info", S().req("queue.create", {"name": "q"}).req("queue.info", {"name": "q"})
          .req("queue.info", {"name": "nope"}))
    write("queue.list", S().req("queue.create", {"name": "a"}).req("queue.create", {"name": "b"})
          .req("queue.list"))
    write("queue.purge", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": "a"})
          .req("queue.put", {"queue": "q", "data": "b", "delay": 5})
          .req("queue.purge", {"name": "q"}).req("queue.info", {"name": "q"}))
    write("queue.delete", S().req("queue.create", {"name": "q", "durable": True})
          .req("queue.get", {"queue": "q"}).req("queue.delete", {"name": "q"})
          .req("queue.delete", {"name": "q"}))
    write("queue.put", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": b"\x00\xff", "priority": -5, "delay": 0,
                             "timeout": 1}))
    write("queue.get", S().req("queue.create", {"name": "q"})
          .req("queue.get", {"queue": "q", "timeout": 0})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.put", {"queue": "q", "data": "m"}), LARGE | HANGUP)
    write("queue.ack", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True}).req("queue.ack", {"queue": "q",
                                                                         "msg_id": 1})
          .req("queue.ack", {"queue": "q", "msg_id": 1}), PER_MESSAGE)
    write("queue.nack", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.nack", {"queue": "q", "msg_id": 1, "delay": 0})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.nack", {"queue": "q", "msg_id": 1, "delay": 60}), PER_MESSAGE)
    write("queue.touch", S().req("queue.create", {"name": "q", "visibility_timeout": 1})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.touch", {"queue": "q", "msg_id": 1}), PER_MESSAGE)
    write("queue.peek", S().req("queue.create", {"name": "q"}).req("queue.peek", {"queue": "q"})
          .req("queue.put", {"queue": "q", "data": "m", "priority": 2})
          .req("queue.put", {"queue": "q", "data": "n", "priority": 1})
          .req("queue.peek", {"queue": "q"}))


def sequences():
    """Pipelined scenarios across the daemon's parts."""
    write("seq-queue-lifecycle", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": "1"})
          .req("queue.put", {"queue": "q", "data": "2"})
          .req("queue.get", {"queue": "q", "ack": True}).req("queue.ack", {"queue": "q",
                                                                         "msg_id": 1})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.nack", {"queue": "q", "msg_id": 2})
          .req("queue.get", {"queue": "q"}).req("queue.info", {"name": "q"})
          .req("queue.delete", {"name": "q"}), SMALL)
    write("seq-durable-restart", S().req("queue.create", {
        "name": "d", "durable": True, "fsync": "always"})
          .req("queue.create", {"name": "b", "durable": True, "fsync": "never"})
          .req("queue.put", {"queue": "d", "data": "keep"})
          .req("queue.put", {"queue": "d", "data": "later", "delay": 30})
          .req("queue.put", {"queue": "b", "data": "x" * 300})
          .req("queue.get", {"queue": "d", "ack": True}).restart()
          .req("queue.info", {"name": "d"}).req("queue.get", {"queue": "d", "ack": True})
          .req("queue.ack", {"queue": "d", "msg_id": 1}).restart()
          .req("queue.list"))
    write("seq-full-queue", S().req("queue.create", {"name": "q", "maxsize": 1, "max_bytes": 4})
          .req("queue.put", {"queue": "q", "data": "a"})
          .req("queue.put", {"queue": "q", "data": "b", "timeout": 0})
          .req("queue.put", {"queue": "q", "data": "c"})
          .req("queue.put", {"queue": "q", "data": "too large"})
          .req("queue.get", {"queue": "q"}).req("queue.get", {"queue": "q"}))
    write("seq-dead-letter", S().req("events.subscribe", {"types": ["queue.dead_lettered"]})
          .req("queue.create", {"name": "dlq"})
          .req("queue.create", {"name": "q", "max_attempts": 1, "dead_letter": "dlq"})
          .req("queue.create", {"name": "drop", "max_attempts": 1})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.put", {"queue": "drop", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.get", {"queue": "drop", "ack": True})
          .req("queue.nack", {"queue": "q", "msg_id": 1})
          .req("queue.nack", {"queue": "drop", "msg_id": 1})
          .req("queue.peek", {"queue": "dlq"}).req("queue.delete", {"name": "dlq"}))
    write("seq-visibility-expires", S().req("queue.create", {
        "name": "q", "visibility_timeout": 0})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True})
          .req("queue.get", {"queue": "q", "ack": True, "timeout": 0.000001})
          .req("queue.touch", {"queue": "q", "msg_id": 1}))
    write("seq-spawn-info-join", S().req("process.spawn", {"argv": ["echo", "hi"]})
          .req("process.info", {"id": 1}).req("process.join", {"id": 1, "output": True})
          .req("process.spawn", {"argv": ["crash"]}).req("process.join", {"id": 2}))
    write("seq-spawn-failures", S().req("process.spawn", {"argv": ["missing"]})
          .req("process.spawn", {"argv": ["noexec"]}).req("process.spawn", {"argv": ["eagain"]})
          .req("process.spawn", {"argv": ["true"], "cwd": "/nonexistent"})
          .req("process.spawn", {"argv": ["true"], "cwd": "/etc/hostname"})
          .req("process.spawn", {"argv": ["true"], "stdout": "journal"})
          .req("process.spawn", {"argv": ["true"], "stdout": "queue:none"})
          .req("process.spawn", {"argv": ["true"], "stdout": "file:/not/in/sandbox.log"})
          .req("process.spawn", {"argv": ["true"], "stdout": "file:relative"})
          .req("process.spawn", {"argv": ["true"], "stdout": "inherit", "stderr": "inherit"}))
    write("seq-dependencies", S().req("process.spawn", {"argv": ["sleep"], "name": "a"})
          .req("process.spawn", {"argv": ["true"], "name": "b", "after": ["a"]})
          .req("process.spawn", {"argv": ["true"], "name": "c", "after": [{"id": 2}, "a"]})
          .req("process.spawn", {"argv": ["false"], "name": "f"})
          .req("process.spawn", {"argv": ["true"], "after": ["f"]})
          .req("process.terminate", {"name": "a", "grace": 0})
          .req("process.join", {"name": "c"}).req("process.list"))
    write("seq-dependency-ok", S().req("process.spawn", {"argv": ["true"], "name": "a"})
          .req("process.spawn", {"argv": ["echo", "after"], "after": ["a"], "wait": "ready"})
          .req("process.join", {"id": 2}), PER_MESSAGE)
    write("seq-restart-policy", S().req("process.spawn", {
        "argv": ["false"], "restart": "on-failure", "restart_delay": 0, "start_limit_burst": 3,
        "start_limit_interval": 100})
          .req("process.join", {"id": 1}).req("process.start", {"id": 1})
          .req("process.spawn", {"argv": ["true"], "restart": "always", "restart_delay": 0,
                                 "restart_delay_max": 0, "start_limit_burst": 0})
          .req("process.terminate", {"id": 2, "wait": True}))
    write("seq-retry-after", S().req("process.spawn", {
        "argv": ["crash"], "restart": "always", "restart_delay": 0, "start_limit_burst": 1,
        "failed_retry_after": 0.000001})
          .req("process.info", {"id": 1}).req("process.terminate", {"id": 1}))
    write("seq-ready-notify", S().req("process.spawn", {
        "argv": ["ready", "all good"], "ready": "notify", "wait": "ready"})
          .req("process.spawn", {"argv": ["sleep"], "ready": "notify", "ready_timeout": 0,
                                 "restart": "on-failure", "restart_delay": 0})
          .req("process.spawn", {"argv": ["sleep"], "ready": "uptime", "min_uptime": 0,
                                 "wait": "ready"})
          .req("process.join", {"id": 2}).req("process.list"))
    write("seq-terminate-grace", S().req("process.spawn", {"argv": ["deaf"]})
          .req("process.terminate", {"id": 1, "grace": 0.000001, "wait": True})
          .req("process.spawn", {"argv": ["deaf"], "stop_signal": "KILL"})
          .req("process.terminate", {"id": 2})
          .req("process.spawn", {"argv": ["sleep"]})
          .req("process.terminate", {"id": 3, "signal": "WINCH", "grace": 30})
          .req("process.terminate", {"id": 3, "signal": 9}))
    write("seq-pool-replicas", S().req("pool.create", {
        "name": "web", "size": 2, "replicas": {"argv": ["sleep"], "count": 3},
        "restart_delay": 0, "grace": 0})
          .req("pool.scale", {"name": "web", "count": 1})
          .req("pool.scale", {"name": "web", "count": 5})
          .req("process.list", {"pool": "web"}).req("pool.list")
          .req("pool.restart", {"name": "web"}).req("pool.terminate", {"name": "web"})
          .req("pool.join", {"name": "web"}))
    write("seq-pool-crashing-replicas", S().req("pool.create", {
        "name": "c", "replicas": {"argv": ["crash"], "count": 2}, "restart_delay": 0,
        "start_limit_burst": 2})
          .req("pool.info", {"name": "c"}).req("process.list", {"pool": "c"}))
    write("seq-pool-pending", S().req("pool.create", {"name": "one", "size": 1})
          .req("process.spawn", {"argv": ["sleep"], "pool": "one", "name": "first"})
          .req("process.spawn", {"argv": ["sleep"], "pool": "one", "name": "second",
                                 "priority": 1})
          .req("process.spawn", {"argv": ["sleep"], "pool": "one", "name": "third",
                                 "priority": -1})
          .req("process.info", {"name": "second"})
          .req("process.terminate", {"name": "first", "grace": 0})
          .req("process.list", {"pool": "one"}))
    write("seq-pool-consume", S().req("queue.create", {"name": "jobs", "max_attempts": 2})
          .req("queue.put", {"queue": "jobs", "data": "job 1\n"})
          .req("queue.put", {"queue": "jobs", "data": "job 2\n"})
          .req("pool.create", {"name": "workers", "size": 2,
                               "consume": {"queue": "jobs", "argv": ["cat"], "env": {"A": "b"}}})
          .req("queue.put", {"queue": "jobs", "data": "job 3\n"})
          .req("queue.info", {"name": "jobs"}).req("pool.info", {"name": "workers"}))
    write("seq-pool-consume-failing", S().req("queue.create", {
        "name": "jobs", "max_attempts": 2, "durable": True})
          .req("queue.put", {"queue": "jobs", "data": "x"})
          .req("pool.create", {"name": "w", "consume": {"queue": "jobs", "argv": ["false"]},
                               "restart_delay": 0})
          .req("queue.info", {"name": "jobs"}).restart().req("queue.info", {"name": "jobs"}))
    write("seq-pool-saved-state", S().req("pool.create", {
        "name": "kept", "replicas": {"argv": ["sleep"], "count": 2}})
          .req("pool.create", {"name": "closed"}).req("pool.close", {"name": "closed"})
          .req("pool.scale", {"name": "kept", "count": 3}).restart()
          .req("pool.list").req("process.list"))
    write("seq-output-file-rotate", S().req("pool.create", {
        "name": "f", "stdout": "file:/fuzz/out.log", "stderr": "stdout", "log_max_bytes": 8,
        "log_backups": 2, "replicas": {"argv": ["echo", "a line of output"], "count": 2},
        "restart_delay": 0})
          .req("daemon.reopen_logs").req("pool.info", {"name": "f"}))
    write("seq-output-queue", S().req("queue.create", {"name": "lines", "maxsize": 2})
          .req("process.spawn", {"argv": ["echo", "one"], "stdout": "queue:lines"})
          .req("process.spawn", {"argv": ["echo", "two"], "stdout": "queue:lines",
                                 "stderr": "queue:lines"})
          .req("queue.get", {"queue": "lines"}).req("queue.get", {"queue": "lines"}))
    write("seq-stdin-queue", S().req("queue.create", {"name": "in"})
          .req("queue.put", {"queue": "in", "data": "fed"})
          .req("process.spawn", {"argv": ["cat"], "stdin_queue": "in", "follow": True})
          .req("queue.put", {"queue": "in", "data": "more"})
          .req("process.terminate", {"id": 1, "grace": 0}))
    write("seq-follow", S().req("process.spawn", {"argv": ["cat"], "stdin": "a\nb\nc",
                                                  "follow": True, "log_buffer": 16})
          .req("process.logs", {"id": 1, "follow": True})
          .req("process.spawn", {"argv": ["echo", "x"], "pool": "p"})
          .req("process.spawn", {"argv": ["warn", "y"], "pool": "p"})
          .req("process.logs", {"pool": "p", "follow": True, "stream": "stderr"}))
    write("seq-reconnect-parked", S().req("queue.create", {"name": "q"})
          .req("queue.get", {"queue": "q"})
          .req("process.spawn", {"argv": ["sleep"]}).req("process.join", {"id": 1})
          .req("events.subscribe").reconnect()
          .req("queue.put", {"queue": "q", "data": "m"}).req("queue.info", {"name": "q"}))
    write("seq-reconnect-reserved", S().req("queue.create", {"name": "q"})
          .req("queue.put", {"queue": "q", "data": "m"})
          .req("queue.get", {"queue": "q", "ack": True}).reconnect()
          .req("queue.get", {"queue": "q", "ack": True, "timeout": 0})
          .req("process.logs", {"pool": "default", "follow": True}).reconnect()
          .req("daemon.ping"))
    write("seq-shutdown-busy", S().req("pool.create", {"name": "w", "replicas": {
        "argv": ["deaf"], "count": 2}, "grace": 0})
          .req("process.spawn", {"argv": ["sleep"]}).req("process.join", {"id": 3})
          .req("queue.create", {"name": "q"}).req("queue.get", {"queue": "q"})
          .req("daemon.shutdown").req("daemon.shutdown").req("process.spawn", {"argv": ["true"]})
          .req("process.list"), HANGUP)
    write("seq-shutdown-restart", S().req("queue.create", {"name": "q", "durable": True})
          .req("queue.put", {"queue": "q", "data": "m"}).req("daemon.shutdown").restart()
          .req("queue.get", {"queue": "q"}))
    write("seq-limits", S().req("pool.create", {"name": "many", "replicas": {
        "argv": ["sleep"], "count": 40}}).req("daemon.stats"))
    write("seq-many-spawns", Stream().raw(b"".join(
        pack([0, i, "process.spawn", [{"argv": ["true"], "name": "n%d" % (i % 5)}]])
        for i in range(1, 60))), SMALL | HANGUP)
    write("seq-many-waits", Stream().raw(pack([0, 1, "queue.create", [{"name": "q"}]]) + b"".join(
        pack([0, i, "queue.get", [{"queue": "q"}]]) for i in range(2, 14))))
    write("seq-privs", S().req("pool.create", {
        "name": "u", "user": "nobody", "group": "nogroup", "nice": 5, "oom_score_adjust": 100,
        "nofile": 64, "nproc": 10, "core": 0, "as": 1 << 30, "cpu": 10,
        "replicas": {"argv": ["sleep"], "count": 1}})
          .req("pool.create", {"name": "bad", "user": "no-such-user-here"})
          .req("pool.create", {"name": "cg", "memory_max": 1 << 20, "cpu_max": "1000 10000",
                               "pids_max": 3}))
    write("seq-names", S().req("process.spawn", {"argv": ["sleep"], "name": "a.b-c_d"})
          .req("process.spawn", {"argv": ["sleep"], "name": "a.b-c_d"})
          .req("process.spawn", {"argv": ["true"], "name": "again"})
          .req("process.join", {"name": "again"})
          .req("process.spawn", {"argv": ["true"], "name": "again"})
          .req("process.info", {"name": "again"}))
    write("seq-history", Stream().raw(b"".join(
        pack([0, i, "process.spawn", [{"argv": ["true"]}]]) for i in range(1, 12)) +
        pack([0, 99, "process.list", []]) + pack([0, 100, "process.info", [{"id": 1}]])))
    write("seq-everything-reconnect-restart", S().req("events.subscribe")
          .req("queue.create", {"name": "q", "durable": True})
          .req("pool.create", {"name": "c", "consume": {"queue": "q", "argv": ["cat"]}})
          .req("queue.put", {"queue": "q", "data": "a"}).reconnect()
          .req("pool.create", {"name": "r", "replicas": {"argv": ["ready"], "count": 1},
                               "ready": "notify"})
          .restart().req("pool.list").req("queue.list").req("daemon.stats"), PER_MESSAGE)


def bad_input():
    """Bad parameters, wrong types, notifications, confused peers."""
    write("bad-unknown-method", S().req("no.such").req("daemon.pingx").req("").req("daemon.ping"))
    write("bad-params-not-array", Stream().raw(pack([0, 1, "daemon.ping", {}]) +
                                               pack([0, 2, "daemon.ping", []])))
    write("bad-params-two-maps", Stream().raw(pack([0, 1, "process.info", [{"id": 1}, {}]])))
    write("bad-missing-required", S().req("process.spawn", {}).req("queue.put", {"queue": "q"})
          .req("pool.scale", {"name": "p"}).req("process.info", {}))
    write("bad-both-targets", S().req("process.info", {"id": 1, "name": "x"})
          .req("process.logs", {"id": 1, "pool": "x"}))
    write("bad-unknown-key", S().req("process.spawn", {"argv": ["true"], "bogus": 1})
          .req("daemon.hello", {"x": 1}))
    write("bad-wrong-types", S().req("process.spawn", {"argv": "true"})
          .req("process.spawn", {"argv": [1, 2]})
          .req("process.spawn", {"argv": ["true"], "env": ["A=1"]})
          .req("process.spawn", {"argv": ["true"], "env_clear": "yes"})
          .req("process.join", {"id": -1})
          .req("process.join", {"id": 1, "timeout": "soon"})
          .req("queue.create", {"name": "q", "maxsize": -1})
          .req("queue.create", {"name": "q2", "fsync": "sometimes"})
          .req("queue.put", {"queue": "q", "data": 5})
          .req("pool.create", {"name": "p", "replicas": {"argv": ["x"], "count": "2"}})
          .req("pool.create", {"name": "p", "replicas": {"argv": ["x"], "count": 1},
                               "consume": {"queue": "q", "argv": ["x"]}}))
    write("bad-numbers", S().req("process.join", {"id": 1, "timeout": float("nan")})
          .req("process.join", {"id": 1, "timeout": float("inf")})
          .req("process.join", {"id": 2 ** 64 - 1})
          .req("queue.put", {"queue": "q", "data": "x", "delay": -1})
          .req("process.spawn", {"argv": ["true"], "priority": 2 ** 40})
          .req("process.spawn", {"argv": ["true"], "success_codes": [256]})
          .req("process.spawn", {"argv": ["true"], "start_limit_burst": 10 ** 6})
          .req("process.signal", {"id": 1, "signal": 0})
          .req("process.signal", {"id": 1, "signal": 65})
          .req("process.signal", {"id": 1, "signal": "RTMIN+40"}))
    write("bad-names", S().req("queue.create", {"name": ""})
          .req("queue.create", {"name": "a/b"}).req("queue.create", {"name": "x" * 300})
          .req("pool.create", {"name": "..."}).req("process.spawn", {"argv": ["true"],
                                                                     "name": "123"})
          .req("process.spawn", {"argv": ["true"], "pool": "bad name"}))
    write("bad-signals", S().req("process.spawn", {"argv": ["sleep"]})
          .req("process.signal", {"id": 1, "signal": "FOO"})
          .req("process.terminate", {"id": 1, "signal": "sigkill"})
          .req("process.signal", {"id": 1, "signal": "KILL"}))
    write("bad-after", S().req("process.spawn", {"argv": ["true"], "after": ["ghost"]})
          .req("process.spawn", {"argv": ["true"], "after": [{"id": 77}]})
          .req("process.spawn", {"argv": ["true"], "after": [{}]}))
    write("bad-stdin-both", S().req("queue.create", {"name": "q"})
          .req("process.spawn", {"argv": ["cat"], "stdin": "x", "stdin_queue": "q"}))
    write("bad-events", S().req("events.subscribe", {"types": ["no.such"]})
          .req("events.subscribe", {"pools": [1]}))
    write("bad-queue-refs", S().req("queue.create", {"name": "q", "dead_letter": "nope"})
          .req("queue.ack", {"queue": "nope", "msg_id": 1})
          .req("queue.nack", {"queue": "nope", "msg_id": 1})
          .req("pool.create", {"name": "c", "consume": {"queue": "nope", "argv": ["cat"]}}))
    write("notifications", S().note("daemon.ping").note("whatever", {"a": 1})
          .note("fuzz.unknown").req("daemon.ping"), PER_MESSAGE)
    write("response-from-client", Stream().raw(pack([1, 1, None, {}]) +
                                               pack([0, 2, "daemon.ping", []])))
    write("msgid-edges", Stream().raw(pack([0, 0, "daemon.ping", []]) +
                                      pack([0, 2 ** 32 - 1, "daemon.ping", []]) +
                                      pack([0, 2 ** 32, "daemon.ping", []])))
    write("type-3", Stream().raw(pack([3, 1, "daemon.ping", []])))
    write("not-an-array", Stream().raw(pack({"method": "daemon.ping"})))
    write("c1-byte", Stream().raw(b"\xc1"))
    write("deep-nesting", Stream().raw(b"\x94\x00\x01\xabdaemon.ping" + b"\x91" * 40 + b"\x90"))
    write("huge-headers", Stream().raw(b"\x94\x00\x01\xabdaemon.ping\xdd\xff\xff\xff\xff"))
    write("huge-string", Stream().raw(b"\x94\x00\x01\xdb\xff\xff\xff\xff"))
    write("many-nils", Stream().raw(pack([0, 1, "daemon.ping", [None] * 300])))
    write("ext-timestamp", Stream().raw(b"\x94\x00\x01\xabdaemon.ping\x91\xd6\xff\x00\x00\x00\x01"))
    write("empty", b"")


def truncated():
    """Frames cut short, with and without the client hanging up."""
    full = S().req("queue.create", {"name": "q"}).req("queue.put", {"queue": "q", "data": "m"}) \
        .req("process.spawn", {"argv": ["echo", "cut"]}).data
    for cut in (1, 5, 17, len(full) // 2, len(full) - 1):
        write("truncated-%d" % cut, full[:cut], HANGUP)
        write("truncated-%d-open" % cut, full[:cut], SMALL)
    write("truncated-then-garbage", full[:-2] + b"\xff\xff\xff", SMALL | HANGUP)


def chunking():
    """The same conversation delivered in every way."""
    conv = S().req("daemon.hello").req("process.spawn", {"argv": ["cat"], "stdin": "x" * 100})
    conv.req("process.join", {"id": 1, "output": True}).req("process.logs", {"id": 1})
    for flags in range(0, 256, 37):
        write("chunking-%02x" % flags, conv, flags)


def identities():
    """Root sets things up; other users try them: read, scoped control, none."""
    setup = S().req("pool.create", {"name": "a", "size": 1}).req("pool.create", {"name": "b"}) \
        .req("queue.create", {"name": "a"}).req("queue.create", {"name": "b"}) \
        .req("queue.put", {"queue": "a", "data": "x"}).req("queue.put", {"queue": "b", "data": "y"}) \
        .req("process.spawn", {"argv": ["sleep"], "pool": "b", "name": "sb"}) \
        .req("events.subscribe", {})
    tries = [("process.list", {}), ("pool.list", {}), ("queue.list", {}), ("daemon.stats", {}),
             ("process.spawn", {"argv": ["true"], "pool": "a"}),
             ("process.spawn", {"argv": ["true"], "pool": "b"}),
             ("process.spawn", {"argv": ["true"], "pool": "a", "user": "root"}),
             ("process.terminate", {"name": "sb"}), ("queue.get", {"queue": "a"}),
             ("queue.get", {"queue": "b"}), ("queue.peek", {"queue": "b"}),
             ("pool.scale", {"name": "b", "count": 2}), ("process.logs", {"name": "sb"}),
             ("events.subscribe", {"pools": ["a", "b"]}), ("daemon.reload", {}),
             ("daemon.shutdown", {})]
    for who in ("read", "scoped", "none"):
        s = S()
        s.data = setup.data
        s.msgid = setup.msgid
        s.as_user(who)
        for method, params in tries[:-1]:
            s.req(method, params)
        s.reconnect().req("process.list", {}).as_user(who).req(*tries[-1])
        write("as-" + who, s)
        write("as-" + who + "-chunked", s, PER_MESSAGE | HANGUP)


if __name__ == "__main__":
    identities()
    one_per_method()
    sequences()
    bad_input()
    truncated()
    chunking()
