/*
 * scenario-replicas.c -- 3c. pool start: a pool of 100 replicas of
 * `sleep 3600`, from pool.create until every one is running.
 *
 * Each repetition makes a new pool "rep<k>": a second connection
 * subscribes to process.state events of that pool, then the clock starts
 * just before pool.create {name, replicas: {argv, count: 100}} is sent and
 * stops when the subscriber has received a "running" event for each of the
 * 100 replicas (the figure a user waiting for the pool feels); the time
 * until pool.create's own answer is a second figure. pool.delete then
 * stops the replicas (it answers once they have ended), so that every
 * repetition starts from an empty daemon.
 *
 * Reference: posix_spawn of the same 100 children with corrald's child
 * setup (refspawn), one after the other, until the last has been spawned;
 * then they are killed and reaped.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define REP_COUNT   100
#define REP_TIMEOUT 30.0 /* seconds a pool may take to be all running */
#define REP_REAP    10.0 /* seconds the reference's children may take to be reaped */

static const char *const rep_sleep_argv[] = {"/bin/sleep", "3600", NULL};

static const struct figure_def rep_figures[] = {
    {"all_running", "pool.create of 100 replicas → all running (process.state events)", "ms", false,
     TARGET_ABS_MAX, 150, "≤ 150 ms"},
    {"answer", "pool.create of 100 replicas → its answer", "ms", false, TARGET_NONE, 0, NULL},
};

struct rep_state {
        size_t n;     /* replicas per pool */
        unsigned seq; /* pools made so far: names rep1, rep2, ... */
        uint64_t *ids;
        pid_t *pids; /* the reference's children */
};

struct rep_create_args {
        const char *name;
        size_t count;
};

static void
rep_params_create(msgpack_packer *pk, const void *arg)
{
        const struct rep_create_args *a = arg;
        size_t i;

        msgpack_pack_map(pk, 2);
        proto_pack_kv_str(pk, "name", a->name);
        proto_pack_str(pk, "replicas");
        msgpack_pack_map(pk, 2);
        proto_pack_str(pk, "argv");
        msgpack_pack_array(pk, sizeof rep_sleep_argv / sizeof rep_sleep_argv[0] - 1);
        for (i = 0; rep_sleep_argv[i] != NULL; i++)
                proto_pack_str(pk, rep_sleep_argv[i]);
        proto_pack_kv_uint(pk, "count", a->count);
}

static void
rep_params_name(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_str(pk, "name", arg);
}

/* A process.state event of pool going to "running": its id into *id; else false. */
static bool
rep_running_event(const struct proto_msg *msg, const char *pool, uint64_t *id)
{
        const msgpack_object *ev = rpc_state_event(msg);

        if (ev == NULL || !rpc_str_is(rpc_get(ev, "pool"), pool) ||
            !rpc_str_is(rpc_get(ev, "to"), "running"))
                return false;
        *id = rpc_get_uint(ev, "id");
        return *id != 0;
}

/* Count a running replica once, however often it runs (a restart says "running" again). */
static void
rep_count(struct rep_state *st, uint64_t id, size_t *running)
{
        size_t i;

        for (i = 0; i < *running; i++) {
                if (st->ids[i] == id)
                        return;
        }
        if (*running < st->n)
                st->ids[(*running)++] = id;
}

/* Read what the subscriber has: running replicas counted. 0 or -1. */
static int
rep_drain_events(struct rep_state *st, struct rpc *sub, const char *pool, size_t *running,
                 char **cause)
{
        struct proto_msg msg;
        uint64_t id;
        int k;

        if (rpc_read_some(sub, cause) < 0)
                return fail_prefix(cause, "subscriber");
        while ((k = rpc_next_any(sub, &msg, cause)) > 0) {
                if (rep_running_event(&msg, pool, &id))
                        rep_count(st, id, running);
                proto_msg_clear(&msg);
        }
        return k < 0 ? -1 : 0;
}

/* The answer to pool.create (msgid id) on conn: *answered once it came. 0 or -1. */
static int
rep_drain_answer(struct rpc *conn, uint32_t id, bool *answered, char **cause)
{
        struct proto_msg msg;
        int k = 0, rc = 0;

        if (rpc_read_some(conn, cause) < 0)
                return -1;
        while (rc == 0 && (k = rpc_next(conn, &msg, cause)) > 0) {
                if (msg.msgid != id)
                        rc = fail(cause, "answer for msgid %u, expected %u", msg.msgid, id);
                else if ((rc = rpc_check(&msg, PROTO_M_POOL_CREATE, cause)) == 0)
                        *answered = true;
                proto_msg_clear(&msg);
        }
        if (k < 0)
                rc = -1;
        return rc;
}

/* Send pool.create and wait for its answer and every replica's "running" event. */
static int
rep_create(struct bench *b, struct rep_state *st, struct rpc *sub, const char *name, double *all_ms,
           double *answer_ms, bool *created, char **cause)
{
        struct rep_create_args a = {name, st->n};
        struct pollfd pfd[2];
        size_t running = 0;
        bool answered = false;
        double t0;
        uint32_t id;
        int k;

        t0 = now_mono();
        id = rpc_queue(b->conn, PROTO_M_POOL_CREATE, rep_params_create, &a);
        while (!answered || running < st->n) {
                if (rpc_write_some(b->conn, cause) != 0)
                        return -1;
                pfd[0] = (struct pollfd){b->conn->fd,
                                         POLLIN | (rpc_out_pending(b->conn) ? POLLOUT : 0), 0};
                pfd[1] = (struct pollfd){sub->fd, POLLIN, 0};
                if ((k = poll(pfd, 2, 100)) < 0 && errno != EINTR)
                        return fail(cause, "poll: %s", strerror(errno));
                if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        size_t was = running;

                        if (rep_drain_events(st, sub, name, &running, cause) != 0)
                                return -1;
                        if (was < st->n && running == st->n)
                                *all_ms = (now_mono() - t0) * 1e3;
                }
                if (!answered && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                        if (rep_drain_answer(b->conn, id, &answered, cause) != 0)
                                return -1;
                        if (answered) {
                                *answer_ms = (now_mono() - t0) * 1e3;
                                *created = true;
                        }
                }
                if (now_mono() - t0 > REP_TIMEOUT)
                        return fail(
                            cause, "%zu of %zu replicas running and pool.create %s after %gs",
                            running, st->n, answered ? "answered" : "unanswered", REP_TIMEOUT);
        }
        return 0;
}

/* pool.delete: its answer comes once the replicas have ended. */
static int
rep_delete(struct bench *b, const char *name, char **cause)
{
        struct proto_msg msg;

        if (rpc_call(b->conn, PROTO_M_POOL_DELETE, rep_params_name, name, &msg, cause) != 0)
                return -1;
        proto_msg_clear(&msg);
        return 0;
}

static int
rep_run(struct bench *b, void *state, double *out, char **cause)
{
        struct rep_state *st = state;
        struct proto_msg msg;
        struct rpc *sub;
        char name[32];
        bool created = false;
        int rc;

        snprintf(name, sizeof name, "rep%u", ++st->seq);
        /* A fresh subscriber per pool: no event of an earlier one is left to read. */
        if ((sub = rpc_connect(b->sock, cause)) == NULL)
                return -1;
        if (rpc_call(sub, PROTO_M_EVENTS_SUBSCRIBE, rpc_params_subscribe, name, &msg, cause) != 0) {
                rpc_free(sub);
                return -1;
        }
        proto_msg_clear(&msg);
        rc = rep_create(b, st, sub, name, &out[0], &out[1], &created, cause);
        rpc_free(sub);
        /* After a failure, only a pool known to exist is deleted (the daemon's stop ends it else).
         */
        if (created) {
                if (rc != 0) {
                        char *why = NULL;

                        rep_delete(b, name, &why);
                        free(why);
                } else if ((rc = rep_delete(b, name, cause)) != 0) {
                        fail_prefix(cause, name);
                }
        }
        return rc;
}

/* ---- the reference ---------------------------------------------------------- */

/* SIGKILL the reference's children and reap them, bounded. 0, or -1 if one is left. */
static int
rep_reap(pid_t *pids, size_t n, char **cause)
{
        double deadline = now_mono() + REP_REAP;
        size_t i, left = 0;

        for (i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        for (i = 0; i < n; i++) {
                if (!proc_wait(pids[i], fmax(0, deadline - now_mono()), NULL))
                        left++;
        }
        if (left > 0)
                return fail(cause, "%zu children of the reference not reaped within %gs", left,
                            REP_REAP);
        return 0;
}

/*
 * The children are ours (the bench reaps them by pid): too many for the
 * registry, but a failure, an interrupt or the watchdog kills every child
 * of the bench, and proc_kill_all() runs after each scenario.
 */
static int
rep_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct rep_state *st = state;
        size_t i, n = 0;
        double t0;
        int rc = 0;

        t0 = now_mono();
        for (i = 0; i < st->n; i++) {
                if ((st->pids[n] = refspawn(rep_sleep_argv)) == -1) {
                        rc = fail(cause, "cannot spawn %s (child %zu)", rep_sleep_argv[0], i + 1);
                        break;
                }
                n++;
        }
        out[0] = (now_mono() - t0) * 1e3;
        if (rep_reap(st->pids, n, rc == 0 ? cause : NULL) != 0 && rc == 0)
                rc = -1;
        return rc;
}

/* ---- the scenario ---------------------------------------------------------- */

static int
rep_setup(struct bench *b, void **statep, char **cause)
{
        struct rep_state *st = xcalloc(1, sizeof *st);
        double out[2];

        *statep = st;
        /* One set is alive at a time: the pool's, or the reference's. */
        if ((st->n = sleepers_fit(REP_COUNT)) == 0)
                return fail(cause, "no room for any process on this machine");
        st->ids = xcalloc(st->n, sizeof *st->ids);
        st->pids = xcalloc(st->n, sizeof *st->pids);
        bench_note("replicas: a new pool of %zu replicas of `sleep 3600` per repetition, timed "
                   "from pool.create until a subscriber (events.subscribe, process.state, that "
                   "pool) has a \"running\" event for each; pool.delete in between. Reference: "
                   "refspawn of the same %zu children one after the other, until the last is "
                   "spawned",
                   st->n, st->n);
        /* Warm up both: page cache of sleep, the daemon's allocations. */
        if (rep_run(b, st, out, cause) != 0 || rep_reference(b, st, out, cause) != 0)
                return -1;
        return 0;
}

static void
rep_teardown(struct bench *b, void *state)
{
        struct rep_state *st = state;

        if (st == NULL)
                return;
        free(st->ids);
        free(st->pids);
        free(st);
}

const struct scenario scenario_replicas = {
    .name = "replicas",
    .title = "3c. Pool start",
    .reference = "posix_spawn of the same 100 `sleep 3600` with corrald's child setup, one after "
                 "the other, until the last is spawned",
    .figures = rep_figures,
    .nfigures = sizeof rep_figures / sizeof rep_figures[0],
    .fresh_daemon = true,
    .setup = rep_setup,
    .run = rep_run,
    .reference_run = rep_reference,
    .teardown = rep_teardown,
};
