/*
 * peer-beanstalkd.c -- beanstalkd as a peer for queues: put / reserve /
 * delete of the same 100-byte jobs, with the same producers, consumers
 * and windows as corrald's figures (the client is qload.c's minimal
 * client for beanstalkd's text protocol), in memory and with its binlog
 * (-b, which fsyncs at most every 50 ms by default), and the memory it
 * takes to hold 1,000,000 jobs.
 *
 * Each run starts its own beanstalkd in the foreground, listening on a
 * Unix socket in the bench's directory (`-l unix:PATH`: the transport
 * corrald and redis use here, so that no figure pays for TCP and nothing
 * listens beyond this machine), and stops it by PID.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define BEANSTALKD_BIN  "/usr/bin/beanstalkd"
#define BEANSTALKD_WAIT 10.0

bool
beanstalkd_available(char **why)
{
        if (access(BEANSTALKD_BIN, X_OK) != 0) {
                xasprintf(why, "%s is not installed (Debian package beanstalkd)", BEANSTALKD_BIN);
                return false;
        }
        return true;
}

int
beanstalkd_start(struct bench *b, struct peer_server *srv, bool binlog, char **cause)
{
        static unsigned seq;
        char name[64], log[320], listen[224];
        const char *argv[8];
        double deadline;
        size_t a = 0;
        int fd;

        memset(srv, 0, sizeof *srv);
        seq++;
        snprintf(name, sizeof name, "beanstalkd-%u.sock", seq);
        snprintf(srv->sock, sizeof srv->sock, "%s", bench_path(b, name));
        snprintf(listen, sizeof listen, "unix:%s", srv->sock);
        snprintf(name, sizeof name, "beanstalkd-%u.log", seq);
        snprintf(log, sizeof log, "%s", bench_path(b, name));
        argv[a++] = BEANSTALKD_BIN;
        argv[a++] = "-l";
        argv[a++] = listen;
        if (binlog) {
                snprintf(name, sizeof name, "beanstalkd-%u.binlog", seq);
                snprintf(srv->dir, sizeof srv->dir, "%s", bench_path(b, name));
                if (mkdir(srv->dir, 0700) == -1 && errno != EEXIST)
                        return fail(cause, "mkdir %s: %s", srv->dir, strerror(errno));
                argv[a++] = "-b";
                argv[a++] = srv->dir;
        }
        argv[a] = NULL;
        if ((srv->pid = proc_start(argv, NULL, log, SIGTERM, cause)) == -1) {
                srv->pid = 0;
                return -1;
        }
        deadline = now_mono() + BEANSTALKD_WAIT;
        while ((fd = unix_connect_retry(srv->sock, 0.5, NULL)) == -1) {
                if (now_mono() > deadline || proc_wait(srv->pid, 0, NULL)) {
                        peer_server_stop(srv);
                        return fail(cause, "beanstalkd did not open %s (see %s)", srv->sock, log);
                }
        }
        close(fd);
        return 0;
}

/* ---- queue throughput --------------------------------------------------- */

static bool
bt_q_available(struct bench *b, char **why)
{
        return beanstalkd_available(why);
}

/* One load against a fresh beanstalkd (so that a binlog starts empty). */
static int
bt_q_one(struct bench *b, bool binlog, unsigned clients, unsigned window, uint64_t n, double *rate,
         char **cause)
{
        struct peer_server srv;
        struct qload_spec sp = {.proto = QLOAD_BEANSTALK,
                                .queue = "default",
                                .producers = clients,
                                .consumers = clients,
                                .window = window,
                                .n = n,
                                .msg_size = QUEUE_MSG_SIZE};
        int rc;

        if (beanstalkd_start(b, &srv, binlog, cause) != 0)
                return -1;
        sp.path = srv.sock;
        rc = qload_run(&sp, rate, cause);
        peer_server_stop(&srv);
        return rc;
}

static int
bt_q_run(struct bench *b, void *state, double *out, char **cause)
{
        struct queue_sizes qs;

        queue_sizes(b, &qs);
        if (bt_q_one(b, false, 1, 1, qs.unpipelined, &out[0], cause) != 0 ||
            bt_q_one(b, false, 1, QUEUE_WINDOW, qs.slow, &out[1], cause) != 0 ||
            bt_q_one(b, false, QUEUE_CLIENTS, 1, qs.unpipelined, &out[2], cause) != 0 ||
            bt_q_one(b, false, QUEUE_CLIENTS, QUEUE_WINDOW, qs.slow, &out[3], cause) != 0 ||
            bt_q_one(b, true, 1, QUEUE_WINDOW, qs.slow, &out[4], cause) != 0 ||
            bt_q_one(b, true, QUEUE_CLIENTS, 1, qs.unpipelined, &out[5], cause) != 0)
                return -1;
        return 0;
}

/* Targets: corrald in memory >= 5x beanstalkd in memory; durable batch ahead of its binlog. */
static const struct figure_def bt_q_figures[] = {
    {"bt_1_unpip", "beanstalkd put/reserve/delete, 1+1, one at a time (N_1)", "msg/s", true,
     TARGET_RATIO_MAX, 0.2, "corral ≥ 5×"},
    {"bt_1_pipe", "beanstalkd put/reserve/delete, 1+1, 64 in flight (N_slow)", "msg/s", true,
     TARGET_RATIO_MAX, 0.2, "corral ≥ 5×"},
    {"bt_4_unpip", "beanstalkd put/reserve/delete, 4+4, one at a time (N_1)", "msg/s", true,
     TARGET_RATIO_MAX, 0.2, "corral ≥ 5×"},
    {"bt_4_pipe", "beanstalkd put/reserve/delete, 4+4, 64 in flight (N_slow)", "msg/s", true,
     TARGET_RATIO_MAX, 0.2, "corral ≥ 5×"},
    {"bt_b_1_pipe", "beanstalkd -b (binlog), 1+1, 64 in flight (N_slow)", "msg/s", true,
     TARGET_RATIO_MAX, 1.0, "durable batch ahead"},
    {"bt_b_4_unpip", "beanstalkd -b (binlog), 4+4, one at a time (N_1)", "msg/s", true,
     TARGET_RATIO_MAX, 1.0, "durable batch ahead"},
};
static const char *const bt_q_compare[] = {"mem_1_unpip", "mem_1_pipe",   "mem_4_unpip",
                                           "mem_4_pipe",  "batch_1_pipe", "batch_4_unpip"};

const struct peer_def peer_beanstalkd_queue = {
    .name = "beanstalkd",
    .what = "beanstalkd on a Unix socket, in memory and with -b (binlog, fsync at most every "
            "50 ms: acknowledged before it is on disk): put, reserve, delete of the same "
            "100-byte jobs, same producers, consumers and windows, minimal C client",
    .figures = bt_q_figures,
    .nfigures = sizeof bt_q_figures / sizeof bt_q_figures[0],
    .compare = bt_q_compare,
    .available = bt_q_available,
    .run = bt_q_run,
};

/* ---- footprint with N queued messages ----------------------------------- */

static int
bt_fp_run(struct bench *b, void *state, double *out, char **cause)
{
        struct peer_server srv;
        struct qload_spec sp = {.proto = QLOAD_BEANSTALK,
                                .queue = "default",
                                .producers = 1,
                                .consumers = 1,
                                .window = QUEUE_WINDOW,
                                .n = bench_size(b, 1000000, 100000),
                                .msg_size = QUEUE_MSG_SIZE};
        double secs;
        long before, after;
        int rc = -1;

        if (beanstalkd_start(b, &srv, false, cause) != 0)
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

static const struct figure_def bt_fp_figures[] = {
    {"bt_bytes", "beanstalkd: bytes per queued job (in memory)", "B", false, TARGET_NONE, 0, NULL},
};
static const char *const bt_fp_compare[] = {"bytes_per_msg"};

const struct peer_def peer_beanstalkd_footprint = {
    .name = "beanstalkd",
    .what = "beanstalkd's RSS growth holding the same N 100-byte jobs (put), in memory",
    .figures = bt_fp_figures,
    .nfigures = 1,
    .compare = bt_fp_compare,
    .available = bt_q_available,
    .run = bt_fp_run,
};
