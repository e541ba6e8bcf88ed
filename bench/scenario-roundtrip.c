/*
 * scenario-roundtrip.c -- 1. request round trip: daemon.ping on one
 * connection, one request at a time, each timed at the client.
 *
 * Reference: the raw server answering the same 20-byte request with the
 * same 9-byte answer (captured from corrald), through the same client
 * code. The ratio is what corrald's loop, decoding and dispatch add to
 * the two context switches and four syscalls a Unix-socket exchange costs.
 */
#include <math.h>
#include <stdlib.h>

#include "bench.h"

#define RT_WARMUP 500

struct rt_state {
        void *req;
        size_t req_len;
        struct raw_server raw;
        struct rpc *raw_conn;
        size_t n;
        double *samples;
};

static const struct figure_def rt_figures[] = {
    {"p50", "daemon.ping round trip p50", "µs", false, TARGET_RATIO_MAX, 1.3, "≤ 1.3× raw"},
    {"p99", "daemon.ping round trip p99", "µs", false, TARGET_NONE, 0, NULL},
};

static void rt_teardown(struct bench *, void *);

static int
rt_setup(struct bench *b, void **statep, char **cause)
{
        struct rt_state *st = xcalloc(1, sizeof *st);
        struct proto_msg msg;
        void *resp;
        size_t resp_len;
        int rc;

        *statep = st;
        st->n = bench_size(b, 20000, 2000);
        st->samples = xcalloc(st->n > RT_WARMUP ? st->n : RT_WARMUP, sizeof *st->samples);
        st->req = rpc_template(PROTO_M_DAEMON_PING, NULL, NULL, &st->req_len);
        /* The reference answers with corrald's own bytes. */
        if (rpc_call(b->conn, PROTO_M_DAEMON_PING, NULL, NULL, &msg, cause) != 0)
                return -1;
        resp = rpc_repack(&msg, &resp_len);
        proto_msg_clear(&msg);
        rc = raw_server_start(b, &st->raw, st->req_len, resp, resp_len, cause);
        free(resp);
        if (rc != 0 || (st->raw_conn = rpc_connect(st->raw.sock, cause)) == NULL)
                return -1;
        if (rpc_pingpong(b->conn, st->req, st->req_len, RT_WARMUP, st->samples, cause) != 0 ||
            rpc_pingpong(st->raw_conn, st->req, st->req_len, RT_WARMUP, st->samples, cause) != 0)
                return -1;
        return 0;
}

static int
rt_measure(struct rt_state *st, struct rpc *conn, double *out, char **cause)
{
        if (rpc_pingpong(conn, st->req, st->req_len, st->n, st->samples, cause) != 0)
                return -1;
        out[0] = stats_quantile(st->samples, st->n, 0.50);
        out[1] = stats_quantile_sorted(st->samples, st->n, 0.99);
        return 0;
}

static int
rt_run(struct bench *b, void *state, double *out, char **cause)
{
        return rt_measure(state, b->conn, out, cause);
}

static int
rt_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct rt_state *st = state;

        return rt_measure(st, st->raw_conn, out, cause);
}

static void
rt_teardown(struct bench *b, void *state)
{
        struct rt_state *st = state;

        if (st == NULL)
                return;
        rpc_free(st->raw_conn);
        raw_server_stop(&st->raw);
        free(st->req);
        free(st->samples);
        free(st);
}

static const struct peer_def *const rt_peers[] = {&peer_supervisord_roundtrip};

const struct scenario scenario_roundtrip = {
    .name = "roundtrip",
    .title = "1. Request round trip",
    .reference =
        "raw Unix-socket ping-pong of the same bytes (a minimal epoll server, same client)",
    .figures = rt_figures,
    .nfigures = sizeof rt_figures / sizeof rt_figures[0],
    .fresh_daemon = true,
    .setup = rt_setup,
    .run = rt_run,
    .reference_run = rt_reference,
    .teardown = rt_teardown,
    .peers = rt_peers,
    .npeers = sizeof rt_peers / sizeof rt_peers[0],
};
