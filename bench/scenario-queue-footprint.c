/*
 * scenario-queue-footprint.c -- 7b. what a queued message costs in memory:
 * corrald's RSS before and after N 100-byte messages are put into one
 * in-memory queue (pipelined, 64 in flight), nobody taking them.
 *
 * Every repetition starts a fresh corrald. Bytes per message = (RSS with N
 * - RSS with the empty queue) / N, reported raw and as overhead beyond
 * the 100 bytes of data (the target: < 200 bytes of overhead). No
 * measured reference: the peers redis (a list) and beanstalkd (jobs)
 * holding the same N messages are measured the same way
 * (peer-redis.c, peer-beanstalkd.c).
 */
#include <math.h>
#include <unistd.h>

#include "bench.h"

#define QF_QUEUE "benchq"

static const struct figure_def qf_figures[] = {
    {"rss_full", "corrald RSS with N queued 100-byte messages", "MiB", false, TARGET_NONE, 0, NULL},
    {"bytes_per_msg", "bytes per queued message (RSS growth / N)", "B", false, TARGET_NONE, 0,
     NULL},
    {"overhead", "overhead per message beyond its 100 bytes of data", "B", false, TARGET_ABS_MAX,
     200, "< 200 B"},
};

static void
qf_params_queue(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_str(pk, "name", QF_QUEUE);
}

static int
qf_run(struct bench *b, void *state, double *out, char **cause)
{
        struct qload_spec sp = {.proto = QLOAD_MSGPACK,
                                .queue = QF_QUEUE,
                                .producers = 1,
                                .consumers = 1,
                                .window = QUEUE_WINDOW,
                                .n = bench_size(b, 1000000, 100000),
                                .msg_size = QUEUE_MSG_SIZE};
        struct proto_msg msg;
        long before, after;
        double secs;
        int rc = -1;

        if (bench_daemon_start(b, cause) != 0)
                return -1;
        if (rpc_call(b->conn, PROTO_M_QUEUE_CREATE, qf_params_queue, NULL, &msg, cause) != 0)
                goto out;
        proto_msg_clear(&msg);
        usleep(100000);
        before = proc_rss_kib(b->corrald);
        sp.path = b->sock;
        if (qload_fill(&sp, &secs, cause) != 0)
                goto out;
        usleep(100000);
        after = proc_rss_kib(b->corrald);
        out[0] = (double)after / 1024.0;
        out[1] = (double)(after - before) * 1024.0 / (double)sp.n;
        out[2] = out[1] - QUEUE_MSG_SIZE;
        rc = 0;
out:
        bench_daemon_stop(b);
        return rc;
}

static int
qf_setup(struct bench *b, void **statep, char **cause)
{
        bench_note("queue_footprint: N = %llu messages of %d bytes, put 64 at a time into one "
                   "in-memory queue (redis: one list; beanstalkd: the default tube)",
                   (unsigned long long)bench_size(b, 1000000, 100000), QUEUE_MSG_SIZE);
        return 0;
}

static const struct peer_def *const qf_peers[] = {&peer_redis_footprint,
                                                  &peer_beanstalkd_footprint};

const struct scenario scenario_queue_footprint = {
    .name = "queue_footprint",
    .title = "7b. Queue footprint",
    .reference = "none measured: the data itself is 100 bytes per message; redis and beanstalkd "
                 "holding the same messages are the peers",
    .figures = qf_figures,
    .nfigures = sizeof qf_figures / sizeof qf_figures[0],
    .max_reps = 2, /* the figures vary by less than 1 % between repetitions */
    .fresh_daemon = false,
    .setup = qf_setup,
    .run = qf_run,
    .teardown = NULL,
    .peers = qf_peers,
    .npeers = sizeof qf_peers / sizeof qf_peers[0],
};
