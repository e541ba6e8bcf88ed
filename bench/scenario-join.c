/*
 * scenario-join.c -- 5. join latency: from a child's death to the join
 * answer at the client.
 *
 * corrald: spawn /bin/sleep 3600 (untimed), send process.join and a
 * daemon.ping behind it; the ping's answer proves the join is parked.
 * Then the clock starts, the bench SIGKILLs the child itself, and the
 * clock stops when the join's answer arrives: SIGCHLD, reap, state
 * change, answer, all inside corrald.
 *
 * Reference: the same child started the same way by the bench, SIGKILL,
 * waitpid (the death-to-reap floor), then one raw round trip (the floor
 * of telling a client) -- the target is p50 within 1.5× of that sum.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static const char *const join_sleep_argv[] = {"/bin/sleep", "3600", NULL};

static const struct figure_def join_figures[] = {
    {"p50", "child death → join answer p50", "µs", false, TARGET_RATIO_MAX, 1.5,
     "≤ 1.5× (reap + round trip)"},
    {"p99", "child death → join answer p99", "µs", false, TARGET_NONE, 0, NULL},
};

struct join_state {
        size_t n;
        double *samples;
        void *ping;
        size_t ping_len;
        struct raw_server raw;
        struct rpc *raw_conn;
};

/* One corrald sample: spawn, park a join, kill, time the answer. */
static int
join_one(struct rpc *r, double *sample, char **cause)
{
        struct spawn_args sa = {join_sleep_argv, NULL, NULL};
        struct proto_msg msg;
        uint32_t join_id, ping_id;
        uint64_t id;
        pid_t pid;
        double t0;
        int rc;

        if (rpc_call(r, PROTO_M_PROCESS_SPAWN, rpc_params_spawn, &sa, &msg, cause) != 0)
                return -1;
        id = rpc_get_uint(&msg.result, "id");
        pid = (pid_t)rpc_get_uint(&msg.result, "pid");
        proto_msg_clear(&msg);
        if (pid <= 0)
                return fail(cause, "process.spawn returned no pid");
        join_id = rpc_queue(r, PROTO_M_PROCESS_JOIN, rpc_params_target_id, &id);
        ping_id = rpc_queue(r, PROTO_M_DAEMON_PING, NULL, NULL);
        if (rpc_wait(r, &msg, 30, cause) != 0) {
                kill(pid, SIGKILL);
                return -1;
        }
        rc = msg.msgid == ping_id ? 0 : fail(cause, "the join answered before its child died");
        proto_msg_clear(&msg);
        if (rc != 0) {
                kill(pid, SIGKILL);
                return -1;
        }
        t0 = now_mono();
        kill(pid, SIGKILL);
        if (rpc_wait(r, &msg, 30, cause) != 0)
                return -1;
        *sample = (now_mono() - t0) * 1e6;
        if (msg.msgid != join_id)
                rc = fail(cause, "expected the join's answer, got msgid %u", msg.msgid);
        else
                rc = rpc_check(&msg, PROTO_M_PROCESS_JOIN, cause);
        proto_msg_clear(&msg);
        return rc;
}

/* One reference sample: the same child, killed and reaped here, then one raw round trip. */
static int
join_ref_one(struct join_state *st, double *sample, char **cause)
{
        double t0, rt;
        int status;
        pid_t pid = refspawn(join_sleep_argv), r;

        if (pid == -1)
                return fail(cause, "cannot start %s", join_sleep_argv[0]);
        t0 = now_mono();
        kill(pid, SIGKILL);
        do
                r = waitpid(pid, &status, 0);
        while (r == -1 && errno == EINTR);
        if (r != pid)
                return fail(cause, "waitpid: %s", strerror(errno));
        if (rpc_pingpong(st->raw_conn, st->ping, st->ping_len, 1, &rt, cause) != 0)
                return -1;
        *sample = (now_mono() - t0) * 1e6;
        return 0;
}

static int
join_setup(struct bench *b, void **statep, char **cause)
{
        struct join_state *st = xcalloc(1, sizeof *st);
        struct proto_msg msg;
        void *resp;
        size_t resp_len, i;
        int rc;

        *statep = st;
        st->n = bench_size(b, 400, 50);
        st->samples = xcalloc(st->n, sizeof *st->samples);
        st->ping = rpc_template(PROTO_M_DAEMON_PING, NULL, NULL, &st->ping_len);
        if (rpc_call(b->conn, PROTO_M_DAEMON_PING, NULL, NULL, &msg, cause) != 0)
                return -1;
        resp = rpc_repack(&msg, &resp_len);
        proto_msg_clear(&msg);
        rc = raw_server_start(b, &st->raw, st->ping_len, resp, resp_len, cause);
        free(resp);
        if (rc != 0 || (st->raw_conn = rpc_connect(st->raw.sock, cause)) == NULL)
                return -1;
        for (i = 0; i < 20 && i < st->n; i++) {
                if (join_one(b->conn, &st->samples[i], cause) != 0 ||
                    join_ref_one(st, &st->samples[i], cause) != 0)
                        return -1;
        }
        return 0;
}

static int
join_run(struct bench *b, void *state, double *out, char **cause)
{
        struct join_state *st = state;
        size_t i;

        for (i = 0; i < st->n; i++) {
                if (join_one(b->conn, &st->samples[i], cause) != 0)
                        return -1;
        }
        out[0] = stats_quantile(st->samples, st->n, 0.50);
        out[1] = stats_quantile_sorted(st->samples, st->n, 0.99);
        return 0;
}

static int
join_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct join_state *st = state;
        size_t i;

        for (i = 0; i < st->n; i++) {
                if (join_ref_one(st, &st->samples[i], cause) != 0)
                        return -1;
        }
        out[0] = stats_quantile(st->samples, st->n, 0.50);
        out[1] = stats_quantile_sorted(st->samples, st->n, 0.99);
        return 0;
}

static void
join_teardown(struct bench *b, void *state)
{
        struct join_state *st = state;

        if (st == NULL)
                return;
        rpc_free(st->raw_conn);
        raw_server_stop(&st->raw);
        free(st->ping);
        free(st->samples);
        free(st);
}

const struct scenario scenario_join = {
    .name = "join",
    .title = "5. Join latency",
    .reference = "kill + waitpid of the same child in the bench, plus one raw round trip",
    .figures = join_figures,
    .nfigures = sizeof join_figures / sizeof join_figures[0],
    .fresh_daemon = true,
    .setup = join_setup,
    .run = join_run,
    .reference_run = join_reference,
    .teardown = join_teardown,
};
