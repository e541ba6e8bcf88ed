/*
 * scenario-scale.c -- 8. scale: process.list with N live processes.
 *
 * N `sleep 3600` children are supervised once (setup); each repetition
 * times K process.list calls, one at a time, and reports the median call.
 * Reference: the raw server replaying corrald's own answer (the same
 * bytes, about 150 per record) through the same client, which decodes
 * it fully in both cases: the ratio is the daemon's cost of walking and
 * encoding its table on top of moving and decoding the bytes.
 */
#include <stdlib.h>

#include "bench.h"

static const struct figure_def scale_figures[] = {
    {"list_ms", "process.list of N processes, per call", "ms", false, TARGET_NONE, 0, NULL},
};

struct scale_state {
        size_t n, calls;
        pid_t *pids;
        size_t spawned;
        void *req;
        size_t req_len;
        double *samples;
        struct raw_server raw;
        struct rpc *raw_conn;
};

static int
scale_setup(struct bench *b, void **statep, char **cause)
{
        struct scale_state *st = xcalloc(1, sizeof *st);
        struct proto_msg msg;
        void *resp;
        size_t resp_len;
        int rc;

        *statep = st;
        st->n = sleepers_fit(bench_size(b, 10000, 1000));
        st->calls = bench_size(b, 20, 5);
        st->samples = xcalloc(st->calls, sizeof *st->samples);
        if (st->n == 0)
                return fail(cause, "no room for any sleeping child on this machine");
        st->pids = xcalloc(st->n, sizeof *st->pids);
        if (sleepers_spawn(b->conn, st->n, st->pids, &st->spawned, cause) != 0)
                return -1;
        st->req = rpc_template(PROTO_M_PROCESS_LIST, NULL, NULL, &st->req_len);
        if (rpc_call(b->conn, PROTO_M_PROCESS_LIST, NULL, NULL, &msg, cause) != 0)
                return -1;
        resp = rpc_repack(&msg, &resp_len);
        proto_msg_clear(&msg);
        bench_note("scale: process.list of N = %zu processes answers %zu bytes", st->spawned,
                   resp_len);
        rc = raw_server_start(b, &st->raw, st->req_len, resp, resp_len, cause);
        free(resp);
        if (rc != 0 || (st->raw_conn = rpc_connect(st->raw.sock, cause)) == NULL)
                return -1;
        return 0;
}

static int
scale_measure(struct scale_state *st, struct rpc *conn, double *out, char **cause)
{
        if (rpc_pingpong(conn, st->req, st->req_len, st->calls, st->samples, cause) != 0)
                return -1;
        out[0] = stats_quantile(st->samples, st->calls, 0.5) / 1000.0;
        return 0;
}

static int
scale_run(struct bench *b, void *state, double *out, char **cause)
{
        if (scale_measure(state, b->conn, out, cause) != 0)
                return fail_prefix(cause, "corrald");
        return 0;
}

static int
scale_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct scale_state *st = state;

        if (scale_measure(st, st->raw_conn, out, cause) != 0)
                return fail_prefix(cause, "reference server");
        return 0;
}

/* Kill the sleepers while the daemon still runs, so it reaps them. */
static void
scale_kill(struct bench *b, struct scale_state *st)
{
        char *why = NULL;

        if (sleepers_kill(b->conn, st->pids, st->spawned, &why) != 0)
                bench_note("scale: cleanup: %s", why);
        free(why);
}

static void
scale_teardown(struct bench *b, void *state)
{
        struct scale_state *st = state;

        if (st == NULL)
                return;
        rpc_free(st->raw_conn);
        raw_server_stop(&st->raw);
        if (st->spawned > 0 && b->conn != NULL)
                scale_kill(b, st);
        free(st->pids);
        free(st->req);
        free(st->samples);
        free(st);
}

const struct scenario scenario_scale = {
    .name = "scale",
    .title = "8. Scale",
    .reference = "the raw server replaying corrald's own process.list answer (same bytes, same "
                 "client decoding)",
    .figures = scale_figures,
    .nfigures = sizeof scale_figures / sizeof scale_figures[0],
    .fresh_daemon = true,
    .setup = scale_setup,
    .run = scale_run,
    .reference_run = scale_reference,
    .teardown = scale_teardown,
};
