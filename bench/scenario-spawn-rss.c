/*
 * scenario-spawn-rss.c -- 3b. spawn throughput of a large daemon: does a
 * spawn cost more when corrald holds a lot of memory?
 *
 * A spawn that copied the daemon's address space (fork) would cost time in
 * proportion to its resident memory (page tables); corrald spawns with
 * clone(CLONE_VM | CLONE_VFORK), which should not. Two corralds run side
 * by side: one holds 200 MiB of queued data (an in-memory queue filled
 * with 4 KiB messages), the other nothing. Each repetition runs the same
 * spawn + join load of /bin/true (16 in flight, as in scenario 3) through
 * both, alternating which goes first; the "reference" is the small
 * daemon, so corral/ref is the ratio large/small (1.0: no growth).
 */
#include <stdlib.h>

#include "bench.h"

#define SR_WINDOW 16
#define SR_MSG    4096
#define SR_QUEUE  "ballast"

static const struct figure_def sr_figures[] = {
    {"rate", "spawn + reap /bin/true, 16 in flight, with 200 MiB queued", "proc/s", true,
     TARGET_RATIO_MIN, 0.8, "≥ 0.8× the small daemon"},
    {"rss", "corrald RSS", "MiB", false, TARGET_NONE, 0, NULL},
};

struct sr_state {
        struct bench_daemon big;
        uint64_t n;
};

static void
sr_params_queue(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_str(pk, "name", SR_QUEUE);
}

static int
sr_setup(struct bench *b, void **statep, char **cause)
{
        struct sr_state *st = xcalloc(1, sizeof *st);
        struct qload_spec sp = {.proto = QLOAD_MSGPACK,
                                .queue = SR_QUEUE,
                                .producers = 1,
                                .consumers = 1,
                                .window = 64,
                                .n = (200u << 20) / SR_MSG,
                                .msg_size = SR_MSG};
        struct proto_msg msg;
        double secs, rate;

        *statep = st;
        st->n = bench_size(b, 3000, 300);
        if (bench_daemon_start_extra(b, &st->big, cause) != 0)
                return -1;
        if (rpc_call(st->big.conn, PROTO_M_QUEUE_CREATE, sr_params_queue, NULL, &msg, cause) != 0)
                return -1;
        proto_msg_clear(&msg);
        sp.path = st->big.sock;
        if (qload_fill(&sp, &secs, cause) != 0)
                return -1;
        bench_note("spawn_rss: %llu messages of %d bytes (200 MiB) put in %.1f s into an "
                   "in-memory queue of the large daemon; %llu jobs per figure",
                   (unsigned long long)sp.n, SR_MSG, secs, (unsigned long long)st->n);
        /* Warm up both. */
        if (spawn_jobs(st->big.conn, 200, SR_WINDOW, NULL, &rate, cause) != 0 ||
            spawn_jobs(b->conn, 200, SR_WINDOW, NULL, &rate, cause) != 0)
                return -1;
        return 0;
}

static int
sr_measure(struct rpc *conn, pid_t pid, uint64_t n, double *out, char **cause)
{
        if (spawn_jobs(conn, n, SR_WINDOW, NULL, &out[0], cause) != 0)
                return -1;
        out[1] = (double)proc_rss_kib(pid) / 1024.0;
        return 0;
}

static int
sr_run(struct bench *b, void *state, double *out, char **cause)
{
        struct sr_state *st = state;

        return sr_measure(st->big.conn, st->big.pid, st->n, out, cause);
}

static int
sr_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct sr_state *st = state;

        return sr_measure(b->conn, b->corrald, st->n, out, cause);
}

static void
sr_teardown(struct bench *b, void *state)
{
        struct sr_state *st = state;

        if (st == NULL)
                return;
        bench_daemon_stop_extra(&st->big);
        free(st);
}

const struct scenario scenario_spawn_rss = {
    .name = "spawn_rss",
    .title = "3b. Spawn throughput, large daemon",
    .reference = "the same load through a second corrald of the same build that holds nothing, "
                 "running beside it (corral/ref = large/small)",
    .figures = sr_figures,
    .nfigures = sizeof sr_figures / sizeof sr_figures[0],
    .max_reps = 3,
    .fresh_daemon = true,
    .setup = sr_setup,
    .run = sr_run,
    .reference_run = sr_reference,
    .teardown = sr_teardown,
};
