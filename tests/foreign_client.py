#!/usr/bin/python3
"""foreign_client.py -- talk to corrald as a client in another language would.

Run by CTest with Debian's /usr/bin/python3 (python3-msgpack):
    foreign_client.py CORRALD HELPER

Starts its own corrald on a socket in a temporary directory and speaks raw
MessagePack-RPC over AF_UNIX: hello, spawn, join, error replies, an unknown
method, a malformed message; then shuts the daemon down and checks that it
exited 0. Every wait is bounded; on any failure the daemon is killed by pid.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

TIMEOUT = 30.0
CHILDREN = []  # pids (and process groups) of the daemon's children, killed on failure


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False)
        self.next_id = 1

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, method, params=None):
        msgid = self.next_id
        self.next_id += 1
        self.send_raw(msgpack.packb([0, msgid, method, [] if params is None else [params]]))
        return msgid

    def receive(self):
        """The next message, or None when the daemon closed the connection."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for msg in self.unpacker:
                return msg
            if time.monotonic() > deadline:
                raise AssertionError("no message within %.0f s" % TIMEOUT)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self.unpacker.feed(data)

    def call(self, method, params=None):
        msgid = self.request(method, params)
        msg = self.receive()
        assert msg is not None, "connection closed instead of answering %s" % method
        assert isinstance(msg, list) and len(msg) == 4 and msg[0] == 1, "not a response: %r" % (msg,)
        assert msg[1] == msgid, "response to %r, expected %d" % (msg[1], msgid)
        if isinstance(msg[3], dict) and isinstance(msg[3].get("pid"), int) and "state" in msg[3]:
            CHILDREN.append(msg[3]["pid"])
        return msg[2], msg[3]

    def close(self):
        self.sock.close()


def expect_ok(conn, method, params=None):
    error, result = conn.call(method, params)
    assert error is None, "%s failed: %r" % (method, error)
    return result


def expect_error(conn, method, params, code, field=None):
    error, result = conn.call(method, params)
    assert error is not None, "%s succeeded, expected %s" % (method, code)
    assert result is None, "an error response with a result: %r" % (result,)
    assert error.get("code") == code, "%s: %r, expected %s" % (method, error, code)
    assert isinstance(error.get("message"), str) and error["message"], "no message: %r" % (error,)
    if field is not None:
        assert error.get("field") == field, "%s: %r, expected field %s" % (method, error, field)
    return error


def wait_ready(proc, path):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("corrald exited early with %d" % proc.returncode)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.02)
        finally:
            s.close()
    raise AssertionError("corrald did not accept connections within 15 s")


def run(corrald, helper, tmp):
    path = os.path.join(tmp, "corrald.sock")
    log = open(os.path.join(tmp, "corrald.log"), "wb")
    proc = subprocess.Popen([corrald, "--socket", path], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, cwd=tmp, start_new_session=True)
    try:
        wait_ready(proc, path)
        conn = Conn(path)

        hello = expect_ok(conn, "daemon.hello")
        assert hello["protocol"] == 1, hello
        assert hello["pid"] == proc.pid, hello
        assert "process.spawn" in hello["methods"], hello
        assert expect_ok(conn, "daemon.ping") == {}

        rec = expect_ok(conn, "process.spawn", {"argv": [helper, "exit", "42"], "name": "py"})
        assert rec["state"] == "running" and rec["name"] == "py", rec
        assert rec["pid"] > 0 and isinstance(rec["id"], int), rec
        done = expect_ok(conn, "process.join", {"id": rec["id"], "timeout": 30.0})
        assert done["state"] == "exited" and done["exit_code"] == 42, done
        assert done["signal"] is None and done["core_dumped"] is False, done
        assert done["ended_at"] >= done["started_at"], done

        # stdin as bin, a signal death, by name.
        out = os.path.join(tmp, "stdin.out")
        rec = expect_ok(conn, "process.spawn",
                        {"argv": [helper, "stdin", out], "stdin": b"\x00\x01bytes\xff"})
        done = expect_ok(conn, "process.join", {"id": rec["id"], "timeout": 30})
        assert done["exit_code"] == 0, done
        with open(out, "rb") as f:
            assert f.read() == b"\x00\x01bytes\xff"
        rec = expect_ok(conn, "process.spawn", {"argv": [helper, "kill-self", "TERM"]})
        done = expect_ok(conn, "process.join", {"name": rec["name"], "timeout": 30})
        assert done["state"] == "killed" and done["signal"] == "TERM", done
        assert done["exit_code"] is None, done

        listed = expect_ok(conn, "process.list", {})
        assert [p["id"] for p in listed["processes"]] == sorted(p["id"] for p in listed["processes"])
        assert len(listed["processes"]) == 3, listed

        # Errors.
        expect_error(conn, "process.info", {"name": "nosuch"}, "not_found")
        expect_error(conn, "process.join", {"id": 10 ** 6}, "not_found")
        expect_error(conn, "process.spawn", {"argv": "not-a-list"}, "invalid_params", "argv")
        expect_error(conn, "process.spawn", {"argv": [helper], "colour": "red"},
                     "invalid_params", "colour")
        expect_error(conn, "process.spawn", {"argv": ["/nonexistent/binary"]}, "spawn_failed")
        expect_error(conn, "no.such.method", None, "unknown_method")
        expect_ok(conn, "daemon.ping")  # still usable

        # A malformed message: invalid_request, then the connection is closed.
        bad = Conn(path)
        bad.send_raw(b"\xc1")
        msg = bad.receive()
        assert msg is not None and msg[0] == 1 and msg[1] is None, msg
        assert msg[2]["code"] == "invalid_request", msg
        assert bad.receive() is None, "the connection stayed open after invalid_request"
        bad.close()
        expect_ok(conn, "daemon.ping")  # others are still served

        # A child still running and a join waiting on it when the daemon stops.
        sleeper = expect_ok(conn, "process.spawn", {"argv": [helper, "sleep", "60"],
                                                    "name": "sleeper"})
        waiter = Conn(path)
        join_id = waiter.request("process.join", {"name": "sleeper"})
        ping_id = waiter.request("daemon.ping")
        msg = waiter.receive()
        assert msg is not None and msg[1] == ping_id, "ping not answered first: %r" % (msg,)

        # Shut down: answered, then the daemon exits 0 and removes its socket.
        assert expect_ok(conn, "daemon.shutdown") == {}
        msg = waiter.receive()
        assert msg is not None and msg[1] == join_id and msg[2] is None, msg
        assert msg[3]["state"] == "stopped" and msg[3]["id"] == sleeper["id"], msg
        waiter.close()
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError("corrald did not exit within 20 s of daemon.shutdown")
        assert rc == 0, "corrald exited with %d" % rc
        assert not os.path.exists(path), "corrald left its socket behind"
        try:
            os.kill(sleeper["pid"], 0)
            raise AssertionError("the child %d outlived the daemon" % sleeper["pid"])
        except ProcessLookupError:
            pass
        conn.close()
    finally:
        if proc.poll() is None:
            # Let it stop its children first; kill it by pid if it does not.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            # Only after a failure: the daemon may not have stopped its children.
            for pid in CHILDREN:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        log.close()


def main():
    if len(sys.argv) != 3:
        print("usage: foreign_client.py CORRALD HELPER", file=sys.stderr)
        return 2
    def on_alarm(signum, frame):
        raise TimeoutError("foreign_client.py: still running after 100 s")

    signal.signal(signal.SIGALRM, on_alarm)  # a last resort; the finally blocks still clean up
    signal.alarm(100)
    tmp = tempfile.mkdtemp(prefix="corral-py.")
    try:
        run(sys.argv[1], sys.argv[2], tmp)
    except Exception:
        logpath = os.path.join(tmp, "corrald.log")
        if os.path.exists(logpath):
            with open(logpath, errors="replace") as f:
                sys.stderr.write("---- corrald log ----\n" + f.read()[-20000:])
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS foreign.python")
    return 0


if __name__ == "__main__":
    sys.exit(main())
