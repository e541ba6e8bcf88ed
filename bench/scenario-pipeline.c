/*
 * scenario-pipeline.c -- 2. pipelined requests: many daemon.ping in
 * flight on one connection, and spread over several connections.
 *
 * The client keeps a window of requests in flight per connection and
 * tops it up as answers arrive, so both the daemon and the reference see
 * batches of requests per read. Reference: the raw server answering the
 * same bytes; its rate is the ceiling of a single-threaded server on
 * this machine with this client.
 */
#include <stdlib.h>

#include "bench.h"

#define PIPE_CONNS         4
#define PIPE_WINDOW_ONE    128 /* in flight on the single connection */
#define PIPE_WINDOW_SHARED 64  /* in flight on each of the PIPE_CONNS connections */

struct pipe_state {
        void *req;
        size_t req_len;
        uint64_t total;
        struct raw_server raw;
        struct rpc *corral[PIPE_CONNS];
        struct rpc *ref[PIPE_CONNS];
};

static const struct figure_def pipe_figures[] = {
    {"one_conn", "daemon.ping, 1 connection, 128 in flight", "req/s", true, TARGET_ABS_MIN, 300000,
     "≥ 300,000 req/s"},
    {"four_conns", "daemon.ping, 4 connections × 64 in flight", "req/s", true, TARGET_ABS_MIN,
     300000, "≥ 300,000 req/s"},
    /* The rates can be bound by the client; the server's own CPU per request is not. */
    {"cpu_one", "server CPU per request, 1 connection", "ns", false, TARGET_NONE, 0, NULL},
    {"cpu_four", "server CPU per request, 4 connections", "ns", false, TARGET_NONE, 0, NULL},
};

static int
pipe_setup(struct bench *b, void **statep, char **cause)
{
        struct pipe_state *st = xcalloc(1, sizeof *st);
        struct proto_msg msg;
        void *resp;
        size_t resp_len, i;
        double secs;
        int rc;

        *statep = st;
        st->total = bench_size(b, 200000, 20000);
        st->req = rpc_template(PROTO_M_DAEMON_PING, NULL, NULL, &st->req_len);
        if (rpc_call(b->conn, PROTO_M_DAEMON_PING, NULL, NULL, &msg, cause) != 0)
                return -1;
        resp = rpc_repack(&msg, &resp_len);
        proto_msg_clear(&msg);
        rc = raw_server_start(b, &st->raw, st->req_len, resp, resp_len, cause);
        free(resp);
        if (rc != 0)
                return -1;
        for (i = 0; i < PIPE_CONNS; i++) {
                if ((st->corral[i] = rpc_connect(b->sock, cause)) == NULL ||
                    (st->ref[i] = rpc_connect(st->raw.sock, cause)) == NULL)
                        return -1;
        }
        /* Warm up both: first buffers, page faults, the daemon's free lists. */
        if (rpc_pipeline(st->corral, PIPE_CONNS, st->req, st->req_len, st->total / 10,
                         PIPE_WINDOW_SHARED, &secs, cause) != 0 ||
            rpc_pipeline(st->ref, PIPE_CONNS, st->req, st->req_len, st->total / 10,
                         PIPE_WINDOW_SHARED, &secs, cause) != 0)
                return -1;
        return 0;
}

static int
pipe_measure(struct pipe_state *st, struct rpc **conns, pid_t server, double *out, char **cause)
{
        long long cpu0, cpu1, cpu2;
        double secs;

        cpu0 = proc_cpu_ns(server);
        if (rpc_pipeline(conns, 1, st->req, st->req_len, st->total, PIPE_WINDOW_ONE, &secs,
                         cause) != 0)
                return -1;
        out[0] = (double)st->total / secs;
        cpu1 = proc_cpu_ns(server);
        if (rpc_pipeline(conns, PIPE_CONNS, st->req, st->req_len, st->total, PIPE_WINDOW_SHARED,
                         &secs, cause) != 0)
                return -1;
        out[1] = (double)st->total / secs;
        cpu2 = proc_cpu_ns(server);
        if (cpu0 >= 0 && cpu1 >= 0 && cpu2 >= 0) {
                out[2] = (double)(cpu1 - cpu0) / (double)st->total;
                out[3] = (double)(cpu2 - cpu1) / (double)st->total;
        }
        return 0;
}

static int
pipe_run(struct bench *b, void *state, double *out, char **cause)
{
        struct pipe_state *st = state;

        return pipe_measure(st, st->corral, b->corrald, out, cause);
}

static int
pipe_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct pipe_state *st = state;

        return pipe_measure(st, st->ref, st->raw.pid, out, cause);
}

static void
pipe_teardown(struct bench *b, void *state)
{
        struct pipe_state *st = state;
        size_t i;

        if (st == NULL)
                return;
        for (i = 0; i < PIPE_CONNS; i++) {
                rpc_free(st->corral[i]);
                rpc_free(st->ref[i]);
        }
        raw_server_stop(&st->raw);
        free(st->req);
        free(st);
}

const struct scenario scenario_pipeline = {
    .name = "pipeline",
    .title = "2. Pipelined requests",
    .reference = "the raw server answering the same pipelined bytes",
    .figures = pipe_figures,
    .nfigures = sizeof pipe_figures / sizeof pipe_figures[0],
    .fresh_daemon = true,
    .setup = pipe_setup,
    .run = pipe_run,
    .reference_run = pipe_reference,
    .teardown = pipe_teardown,
};
