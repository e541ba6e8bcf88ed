/*
 * scenario-footprint.c -- 7. footprint: corrald's resident memory idle,
 * and with N supervised sleeping children (the cost of a process record
 * = (RSS with N - RSS idle) / N).
 *
 * Every repetition starts a fresh corrald, so "idle" is a daemon that has
 * answered one daemon.hello. Reference for the idle figure: the raw
 * reference server's RSS (a small C server with libc, after one request):
 * the floor of any daemon on this machine. The per-record figure has no
 * measured reference, only its target.
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

static const struct figure_def fp_figures[] = {
    {"idle_rss", "corrald RSS, idle", "KiB", false, TARGET_ABS_MAX, 4096, "< 4 MiB"},
    {"loaded_rss", "corrald RSS with N sleeping children", "KiB", false, TARGET_NONE, 0, NULL},
    {"bytes_per_process", "bytes per process record", "B", false, TARGET_ABS_MAX, 2048, "< 2 KiB"},
};

struct fp_state {
        size_t n;
        pid_t *pids;
};

static int
fp_setup(struct bench *b, void **statep, char **cause)
{
        struct fp_state *st = xcalloc(1, sizeof *st);

        *statep = st;
        st->n = sleepers_fit(bench_size(b, 10000, 1000));
        if (st->n == 0)
                return fail(cause, "no room for any sleeping child on this machine");
        st->pids = xcalloc(st->n, sizeof *st->pids);
        bench_note("footprint: N = %zu sleeping children (`sleep 3600`), spawned through "
                   "corrald 64 at a time, then SIGKILLed",
                   st->n);
        return 0;
}

static int
fp_run(struct bench *b, void *state, double *out, char **cause)
{
        struct fp_state *st = state;
        long idle, loaded;
        size_t spawned = 0;
        int rc;

        if (bench_daemon_start(b, cause) != 0)
                return -1;
        usleep(100000); /* let the daemon settle after its first request */
        idle = proc_rss_kib(b->corrald);
        if ((rc = sleepers_spawn(b->conn, st->n, st->pids, &spawned, cause)) == 0) {
                loaded = proc_rss_kib(b->corrald);
                rc = sleepers_kill(b->conn, st->pids, spawned, cause);
                out[0] = (double)idle;
                out[1] = (double)loaded;
                out[2] = (double)(loaded - idle) * 1024.0 / (double)spawned;
        }
        bench_daemon_stop(b);
        return rc;
}

/* The idle RSS of the raw reference server, after one request. */
static int
fp_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct raw_server raw;
        struct rpc *conn;
        double rt;
        void *req;
        size_t len;
        static const unsigned char resp[] = {0x94, 0x01, 0xce, 0, 1, 0, 0, 0xc0, 0x80};
        int rc = -1;

        req = rpc_template(PROTO_M_DAEMON_PING, NULL, NULL, &len);
        if (raw_server_start(b, &raw, len, resp, sizeof resp, cause) == 0) {
                if ((conn = rpc_connect(raw.sock, cause)) != NULL &&
                    rpc_pingpong(conn, req, len, 1, &rt, cause) == 0) {
                        usleep(100000);
                        out[0] = (double)proc_rss_kib(raw.pid);
                        out[1] = NAN;
                        out[2] = NAN;
                        rc = 0;
                }
                rpc_free(conn);
                raw_server_stop(&raw);
        }
        free(req);
        return rc;
}

static void
fp_teardown(struct bench *b, void *state)
{
        struct fp_state *st = state;

        if (st == NULL)
                return;
        free(st->pids);
        free(st);
}

static const struct peer_def *const fp_peers[] = {&peer_supervisord_footprint};

const struct scenario scenario_footprint = {
    .name = "footprint",
    .title = "7. Footprint",
    .reference = "idle: RSS of the raw reference server (a minimal C epoll server) after one "
                 "request",
    .figures = fp_figures,
    .nfigures = sizeof fp_figures / sizeof fp_figures[0],
    .max_reps = 2, /* each spawns 10,000 children; the figures vary by less than 1 % */
    .fresh_daemon = false,
    .setup = fp_setup,
    .run = fp_run,
    .reference_run = fp_reference,
    .teardown = fp_teardown,
    .peers = fp_peers,
    .npeers = sizeof fp_peers / sizeof fp_peers[0],
};
