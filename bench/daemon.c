/*
 * daemon.c -- the corrald under test: a fresh one per scenario (or per
 * repetition where a figure needs a clean daemon), each on its own socket,
 * log and state directory in the bench's temporary directory, with an
 * empty configuration file so that no system configuration applies. A
 * scenario may run a second one beside it (bench_daemon_start_extra).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define DAEMON_STOP_SECONDS 20 /* its children get TERM, then KILL after their grace */

const char *
bench_path(const struct bench *b, const char *name)
{
        static char bufs[4][320];
        static unsigned next;
        char *buf = bufs[next++ % 4];

        snprintf(buf, sizeof bufs[0], "%s/%s", b->dir, name);
        return buf;
}

/* Start corrald number seq on dir/corrald-SEQ.sock and connect; 0 or -1. */
static int
daemon_start(struct bench *b, unsigned seq, struct bench_daemon *d, char **cause)
{
        char name[64], log[320], state[320], conf[320];
        const char *argv[8];
        struct proto_msg msg;

        memset(d, 0, sizeof *d);
        snprintf(name, sizeof name, "corrald-%u.sock", seq);
        snprintf(d->sock, sizeof d->sock, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "corrald-%u.log", seq);
        snprintf(log, sizeof log, "%s", bench_path(b, name));
        /* Durable queues' logs in the bench's directory, and no system configuration. */
        snprintf(name, sizeof name, "corrald-%u.state", seq);
        snprintf(state, sizeof state, "%s", bench_path(b, name));
        snprintf(conf, sizeof conf, "%s", bench_path(b, "corrald.conf"));
        if (file_write(conf, "", 0) != 0)
                return fail(cause, "cannot write %s", conf);
        argv[0] = b->corrald_path;
        argv[1] = "--socket";
        argv[2] = d->sock;
        argv[3] = "--state-dir";
        argv[4] = state;
        argv[5] = "--config";
        argv[6] = conf;
        argv[7] = NULL;
        /* If the bench dies, TERM lets corrald stop its children too. */
        if ((d->pid = proc_start(argv, NULL, log, SIGTERM, cause)) == -1) {
                d->pid = 0;
                return -1;
        }
        if ((d->conn = rpc_connect(d->sock, cause)) == NULL ||
            rpc_call(d->conn, PROTO_M_DAEMON_HELLO, NULL, NULL, &msg, cause) != 0)
                return -1;
        proto_msg_clear(&msg);
        return 0;
}

static void
daemon_stop(struct bench_daemon *d)
{
        rpc_free(d->conn);
        d->conn = NULL;
        if (d->pid > 0)
                proc_stop(d->pid, SIGTERM, DAEMON_STOP_SECONDS);
        d->pid = 0;
}

int
bench_daemon_start(struct bench *b, char **cause)
{
        struct bench_daemon d;
        int rc;

        if (b->corrald != 0)
                bench_daemon_stop(b);
        b->daemon_seq++;
        rc = daemon_start(b, b->daemon_seq, &d, cause);
        b->corrald = d.pid;
        b->conn = d.conn;
        snprintf(b->sock, sizeof b->sock, "%s", d.sock);
        if (rc != 0) {
                bench_daemon_log_tail(b);
                bench_daemon_stop(b);
        }
        return rc;
}

void
bench_daemon_stop(struct bench *b)
{
        struct bench_daemon d = {b->corrald, "", b->conn};

        daemon_stop(&d);
        b->conn = NULL;
        b->corrald = 0;
}

int
bench_daemon_start_extra(struct bench *b, struct bench_daemon *d, char **cause)
{
        static unsigned extra_seq; /* numbered apart, so that the main log tail stays right */

        if (daemon_start(b, 1000 + ++extra_seq, d, cause) != 0) {
                daemon_stop(d);
                return -1;
        }
        return 0;
}

void
bench_daemon_stop_extra(struct bench_daemon *d)
{
        daemon_stop(d);
}

void
bench_daemon_log_tail(const struct bench *b)
{
        char name[64], *log, *p;
        size_t len;

        snprintf(name, sizeof name, "corrald-%u.log", b->daemon_seq);
        if ((log = file_read(bench_path(b, name), &len)) == NULL)
                return;
        p = len > 2000 ? log + len - 2000 : log;
        fprintf(stderr, "--- tail of %s ---\n%s--- end ---\n", name, p);
        free(log);
}
