/*
 * peer-redis.c -- redis-server as a peer for queues: LPUSH / BRPOP of the
 * same 100-byte messages, with the same producers, consumers and windows
 * as corrald's figures (the client is qload.c's minimal RESP client), and
 * the memory it takes to hold 1,000,000 of them in a list.
 *
 * Each run starts its own redis-server in the foreground on a Unix socket
 * in the bench's directory (--port 0: no TCP listener at all), with no
 * persistence (no RDB snapshots, no AOF), and stops it by PID.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define REDIS_BIN  "/usr/bin/redis-server"
#define REDIS_KEY  "benchq"
#define REDIS_WAIT 20.0 /* seconds it may take to answer PING after starting */

bool
redis_available(char **why)
{
        if (access(REDIS_BIN, X_OK) != 0) {
                xasprintf(why, "%s is not installed (Debian package redis-server)", REDIS_BIN);
                return false;
        }
        return true;
}

/* Send cmd, read one reply line into buf; 0 or -1. */
static int
redis_command(int fd, const char *cmd, char *buf, size_t len, char **cause)
{
        size_t n = strlen(cmd), got = 0;
        ssize_t r;

        if (send(fd, cmd, n, MSG_NOSIGNAL) != (ssize_t)n)
                return fail(cause, "redis: send: %s", strerror(errno));
        while (got + 1 < len) {
                r = recv(fd, buf + got, len - 1 - got, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return fail(cause, "redis: no answer");
                got += (size_t)r;
                buf[got] = '\0';
                if (strstr(buf, "\r\n") != NULL)
                        return 0;
        }
        return fail(cause, "redis: answer too long");
}

int
redis_start(struct bench *b, struct peer_server *srv, char **cause)
{
        static unsigned seq;
        char name[64], log[320], buf[256];
        const char *argv[20];
        double deadline;
        size_t a = 0;
        int fd = -1;

        memset(srv, 0, sizeof *srv);
        seq++;
        snprintf(name, sizeof name, "redis-%u.sock", seq);
        snprintf(srv->sock, sizeof srv->sock, "%s", bench_path(b, name));
        snprintf(name, sizeof name, "redis-%u.log", seq);
        snprintf(log, sizeof log, "%s", bench_path(b, name));
        snprintf(srv->dir, sizeof srv->dir, "%s", b->dir);
        argv[a++] = REDIS_BIN;
        argv[a++] = "--port";
        argv[a++] = "0"; /* no TCP at all */
        argv[a++] = "--unixsocket";
        argv[a++] = srv->sock;
        argv[a++] = "--unixsocketperm";
        argv[a++] = "700";
        argv[a++] = "--save";
        argv[a++] = ""; /* no RDB snapshots */
        argv[a++] = "--appendonly";
        argv[a++] = "no";
        argv[a++] = "--daemonize";
        argv[a++] = "no";
        argv[a++] = "--dir";
        argv[a++] = srv->dir;
        argv[a] = NULL;
        if ((srv->pid = proc_start(argv, NULL, log, SIGTERM, cause)) == -1) {
                srv->pid = 0;
                return -1;
        }
        deadline = now_mono() + REDIS_WAIT;
        while ((fd = unix_connect_retry(srv->sock, 0.5, NULL)) == -1) {
                if (now_mono() > deadline || proc_wait(srv->pid, 0, NULL)) {
                        peer_server_stop(srv);
                        return fail(cause, "redis-server did not open %s (see %s)", srv->sock, log);
                }
        }
        if (redis_command(fd, "PING\r\n", buf, sizeof buf, cause) != 0 ||
            strncmp(buf, "+PONG", 5) != 0) {
                close(fd);
                peer_server_stop(srv);
                return fail(cause, "redis-server does not answer PING (see %s)", log);
        }
        close(fd);
        return 0;
}

void
peer_server_stop(struct peer_server *srv)
{
        if (srv->pid > 0)
                proc_stop(srv->pid, SIGTERM, 10);
        srv->pid = 0;
}

/* ---- queue throughput --------------------------------------------------- */

static bool
redis_q_available(struct bench *b, char **why)
{
        return redis_available(why);
}

static int
redis_q_run(struct bench *b, void *state, double *out, char **cause)
{
        struct queue_sizes qs;
        struct peer_server srv;
        struct qload_spec sp = {
            .proto = QLOAD_REDIS, .queue = REDIS_KEY, .msg_size = QUEUE_MSG_SIZE};
        int rc = -1;

        queue_sizes(b, &qs);
        if (redis_start(b, &srv, cause) != 0)
                return -1;
        sp.path = srv.sock;
        sp.producers = sp.consumers = 1;
        sp.window = 1;
        sp.n = qs.unpipelined;
        if (qload_run(&sp, &out[0], cause) != 0)
                goto out;
        sp.window = QUEUE_WINDOW;
        sp.n = qs.pipelined;
        if (qload_run(&sp, &out[1], cause) != 0)
                goto out;
        sp.producers = sp.consumers = QUEUE_CLIENTS;
        sp.window = 1;
        sp.n = qs.unpipelined;
        if (qload_run(&sp, &out[2], cause) != 0)
                goto out;
        sp.window = QUEUE_WINDOW;
        sp.n = qs.pipelined;
        if (qload_run(&sp, &out[3], cause) != 0)
                goto out;
        rc = 0;
out:
        peer_server_stop(&srv);
        return rc;
}

/* Targets: corrald ahead of redis, so redis/corral <= 1. */
static const struct figure_def redis_q_figures[] = {
    {"redis_1_unpip", "redis LPUSH/BRPOP, 1+1, one at a time (N_1)", "msg/s", true,
     TARGET_RATIO_MAX, 1.0, "corral ahead"},
    {"redis_1_pipe", "redis LPUSH/BRPOP, 1+1, 64 in flight (N)", "msg/s", true, TARGET_RATIO_MAX,
     1.0, "corral ahead"},
    {"redis_4_unpip", "redis LPUSH/BRPOP, 4+4, one at a time (N_1)", "msg/s", true,
     TARGET_RATIO_MAX, 1.0, "corral ahead"},
    {"redis_4_pipe", "redis LPUSH/BRPOP, 4+4, 64 in flight (N)", "msg/s", true, TARGET_RATIO_MAX,
     1.0, "corral ahead"},
};
static const char *const redis_q_compare[] = {"mem_1_unpip", "mem_1_pipe", "mem_4_unpip",
                                              "mem_4_pipe"};

const struct peer_def peer_redis_queue = {
    .name = "redis",
    .what = "redis-server on a Unix socket, no persistence (no RDB, no AOF): LPUSH and BRPOP "
            "of the same 100-byte messages, same producers, consumers and windows, minimal C "
            "RESP client",
    .figures = redis_q_figures,
    .nfigures = sizeof redis_q_figures / sizeof redis_q_figures[0],
    .compare = redis_q_compare,
    .available = redis_q_available,
    .run = redis_q_run,
};

/* ---- footprint with N queued messages ----------------------------------- */

static int
redis_fp_run(struct bench *b, void *state, double *out, char **cause)
{
        struct peer_server srv;
        struct qload_spec sp = {.proto = QLOAD_REDIS,
                                .queue = REDIS_KEY,
                                .producers = 1,
                                .consumers = 1,
                                .window = QUEUE_WINDOW,
                                .n = bench_size(b, 1000000, 100000),
                                .msg_size = QUEUE_MSG_SIZE};
        double secs;
        long before, after;
        int rc = -1;

        if (redis_start(b, &srv, cause) != 0)
                return -1;
        sp.path = srv.sock;
        usleep(100000);
        before = proc_rss_kib(srv.pid);
        if (qload_fill(&sp, &secs, cause) == 0) {
                usleep(100000);
                after = proc_rss_kib(srv.pid);
                out[0] = (double)(after - before) * 1024.0 / (double)sp.n;
                rc = 0;
        }
        peer_server_stop(&srv);
        return rc;
}

static const struct figure_def redis_fp_figures[] = {
    {"redis_bytes", "redis: bytes per queued message (list)", "B", false, TARGET_NONE, 0, NULL},
};
static const char *const redis_fp_compare[] = {"bytes_per_msg"};

const struct peer_def peer_redis_footprint = {
    .name = "redis",
    .what = "redis-server's RSS growth holding the same N 100-byte messages in one list "
            "(LPUSH), no persistence",
    .figures = redis_fp_figures,
    .nfigures = 1,
    .compare = redis_fp_compare,
    .available = redis_q_available,
    .run = redis_fp_run,
};
