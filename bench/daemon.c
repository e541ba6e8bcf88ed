/*
 * daemon.c -- the corrald under test: a fresh one per scenario (or per
 * repetition where a figure needs a clean daemon), each on its own socket
 * and log in the bench's temporary directory.
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

int
bench_daemon_start(struct bench *b, char **cause)
{
        char name[64], log[320];
        const char *argv[4];
        struct proto_msg msg;

        if (b->corrald != 0)
                bench_daemon_stop(b);
        b->daemon_seq++;
        snprintf(name, sizeof name, "corrald-%u.sock", b->daemon_seq);
        snprintf(b->sock, sizeof b->sock, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "corrald-%u.log", b->daemon_seq);
        snprintf(log, sizeof log, "%s", bench_path(b, name));
        argv[0] = b->corrald_path;
        argv[1] = "--socket";
        argv[2] = b->sock;
        argv[3] = NULL;
        /* If the bench dies, TERM lets corrald stop its children too. */
        if ((b->corrald = proc_start(argv, NULL, log, SIGTERM, cause)) == -1) {
                b->corrald = 0;
                return -1;
        }
        if ((b->conn = rpc_connect(b->sock, cause)) == NULL ||
            rpc_call(b->conn, PROTO_M_DAEMON_HELLO, NULL, NULL, &msg, cause) != 0) {
                bench_daemon_log_tail(b);
                bench_daemon_stop(b);
                return -1;
        }
        proto_msg_clear(&msg);
        return 0;
}

void
bench_daemon_stop(struct bench *b)
{
        rpc_free(b->conn);
        b->conn = NULL;
        if (b->corrald > 0)
                proc_stop(b->corrald, SIGTERM, DAEMON_STOP_SECONDS);
        b->corrald = 0;
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
