/*
 * scenario-spawn.c -- 3. spawn throughput: spawn and reap /bin/true.
 *
 * corrald: a client keeps W jobs in flight on one connection; a job is a
 * process.spawn, then a process.join on the id it returned, and is done
 * when the join answers (the child exited and was reaped). Reference: a
 * process that keeps W children of /bin/true in flight with posix_spawn
 * and waitpid, started with the same child setup as corrald's. Measured
 * with W = 16 (throughput) and W = 1 (one job at a time: the latency of
 * a spawn-and-wait, as a shell would do it). With a 2-slot pool, the
 * client keeps 16 jobs queued in corrald (pending members start as slots
 * free) and the reference keeps 2 children in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SPAWN_WINDOW 16
#define SPAWN_POOL   "bench-2slots"
#define SPAWN_SLOTS  2

static const char *const spawn_true_argv[] = {"/bin/true", NULL};

static const struct figure_def spawn_figures[] = {
    {"pipelined", "spawn + reap /bin/true, 16 in flight", "proc/s", true, TARGET_RATIO_MIN, 0.8,
     "≥ 0.8× raw"},
    {"sequential", "spawn + reap /bin/true, one at a time", "proc/s", true, TARGET_NONE, 0, NULL},
    {"pool2", "spawn + reap /bin/true through a 2-slot pool", "proc/s", true, TARGET_NONE, 0, NULL},
};

struct spawn_state {
        uint64_t n_pipelined, n_sequential, n_pool;
        bool have_pool; /* this corrald has pools with slots */
};

/* A request in flight: which step of which job. */
struct spawn_pend {
        uint32_t msgid;
        bool is_join;
};

static struct spawn_pend *
spawn_pend_find(struct spawn_pend *p, size_t n, uint32_t msgid)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (p[i].msgid == msgid)
                        return &p[i];
        }
        return NULL;
}

/* Handle one answer: a spawn queues its join; a join completes a job. */
static int
spawn_answer(struct rpc *r, struct proto_msg *msg, struct spawn_pend *pend, size_t npend,
             uint64_t *done, unsigned *jobs, char **cause)
{
        struct spawn_pend *p = spawn_pend_find(pend, npend, msg->msgid);
        const msgpack_object *state;
        uint64_t id;

        if (p == NULL)
                return fail(cause, "answer for unknown msgid %u", msg->msgid);
        if (rpc_check(msg, p->is_join ? "process.join" : "process.spawn", cause) != 0)
                return -1;
        if (!p->is_join) {
                id = rpc_get_uint(&msg->result, "id");
                p->msgid = rpc_queue(r, PROTO_M_PROCESS_JOIN, rpc_params_target_id, &id);
                p->is_join = true;
                return 0;
        }
        state = rpc_get(&msg->result, "state");
        if (state == NULL || state->type != MSGPACK_OBJECT_STR || state->via.str.size != 6 ||
            memcmp(state->via.str.ptr, "exited", 6) != 0)
                return fail(cause, "a /bin/true child did not end as 'exited'");
        p->msgid = 0; /* the slot is free */
        (*done)++;
        (*jobs)--;
        return 0;
}

int
spawn_jobs(struct rpc *r, uint64_t n, unsigned window, const char *pool, double *rate, char **cause)
{
        struct spawn_pend *pend = xcalloc(window, sizeof *pend);
        struct spawn_args sa = {spawn_true_argv, NULL, pool};
        struct pollfd pfd = {r->fd, POLLIN, 0};
        uint64_t started = 0, done = 0;
        unsigned jobs = 0, i;
        struct proto_msg msg;
        double t0 = now_mono();
        int rc = 0, k;

        while (done < n && rc == 0) {
                for (i = 0; i < window && jobs < window && started < n; i++) {
                        if (pend[i].msgid != 0)
                                continue;
                        pend[i].msgid = rpc_queue(r, PROTO_M_PROCESS_SPAWN, rpc_params_spawn, &sa);
                        pend[i].is_join = false;
                        jobs++;
                        started++;
                }
                if ((rc = rpc_write_some(r, cause)) != 0)
                        break;
                pfd.events = POLLIN | (rpc_out_pending(r) > 0 ? POLLOUT : 0);
                k = poll(&pfd, 1, 30000);
                if (k == 0) {
                        rc = fail(cause, "no answer within 30 s (%llu of %llu jobs done)",
                                  (unsigned long long)done, (unsigned long long)n);
                        break;
                }
                if (k < 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                if ((rc = rpc_read_some(r, cause)) < 0)
                        break;
                rc = 0;
                while (rc == 0 && (k = rpc_next(r, &msg, cause)) > 0) {
                        rc = spawn_answer(r, &msg, pend, window, &done, &jobs, cause);
                        proto_msg_clear(&msg);
                }
                if (k < 0)
                        rc = -1;
        }
        *rate = (double)n / (now_mono() - t0);
        free(pend);
        return rc;
}

/* The reference loop, in its own process so that waitpid(-1) sees only its children. */
static void
spawn_ref_worker(uint64_t n, unsigned window, int out)
{
        uint64_t started = 0, done = 0;
        unsigned inflight = 0;
        double t0 = now_mono(), secs;
        int status;
        pid_t pid;

        while (done < n) {
                while (inflight < window && started < n) {
                        if (refspawn(spawn_true_argv) == -1)
                                _exit(1);
                        inflight++;
                        started++;
                }
                pid = waitpid(-1, &status, 0);
                if (pid == -1 && errno == EINTR)
                        continue;
                if (pid == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        _exit(1);
                inflight--;
                done++;
        }
        secs = now_mono() - t0;
        _exit(write(out, &secs, sizeof secs) == sizeof secs ? 0 : 1);
}

static int
spawn_reference_loop(uint64_t n, unsigned window, double *rate, char **cause)
{
        struct pollfd pfd;
        double secs = 0;
        int fds[2], status = 0;
        pid_t pid;
        ssize_t got = 0;

        if (pipe2(fds, O_CLOEXEC) == -1)
                return fail(cause, "pipe: %s", strerror(errno));
        fflush(NULL);
        if ((pid = fork()) == -1) {
                close(fds[0]);
                close(fds[1]);
                return fail(cause, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                close(fds[0]);
                spawn_ref_worker(n, window, fds[1]);
        }
        proc_register(pid, "spawn-reference");
        close(fds[1]);
        pfd.fd = fds[0];
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 120000) == 1)
                got = read(fds[0], &secs, sizeof secs);
        close(fds[0]);
        if (got != sizeof secs) {
                proc_stop(pid, SIGKILL, 5);
                return fail(cause, "the posix_spawn reference loop failed");
        }
        proc_wait(pid, 10, &status);
        proc_forget(pid);
        *rate = (double)n / secs;
        return 0;
}

static void
spawn_params_pool(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 2);
        proto_pack_kv_str(pk, "name", SPAWN_POOL);
        proto_pack_kv_uint(pk, "size", SPAWN_SLOTS);
}

/* A 2-slot pool, if this corrald has pools (pool.create); false otherwise. */
static bool
spawn_make_pool(struct bench *b)
{
        struct proto_msg msg;
        char *why = NULL;

        if (rpc_call(b->conn, "pool.create", spawn_params_pool, NULL, &msg, &why) != 0) {
                bench_note("spawn: no 2-slot pool measured: %s", why);
                free(why);
                return false;
        }
        proto_msg_clear(&msg);
        return true;
}

static int
spawn_setup(struct bench *b, void **statep, char **cause)
{
        struct spawn_state *st = xcalloc(1, sizeof *st);
        double rate;

        *statep = st;
        st->n_pipelined = bench_size(b, 5000, 500);
        st->n_sequential = bench_size(b, 1000, 100);
        st->n_pool = bench_size(b, 2000, 200);
        st->have_pool = spawn_make_pool(b);
        /* Warm up: page cache of /bin/true, the daemon's allocations. */
        if (spawn_jobs(b->conn, 200, SPAWN_WINDOW, NULL, &rate, cause) != 0 ||
            spawn_reference_loop(200, SPAWN_WINDOW, &rate, cause) != 0)
                return -1;
        return 0;
}

static int
spawn_run(struct bench *b, void *state, double *out, char **cause)
{
        struct spawn_state *st = state;

        if (spawn_jobs(b->conn, st->n_pipelined, SPAWN_WINDOW, NULL, &out[0], cause) != 0 ||
            spawn_jobs(b->conn, st->n_sequential, 1, NULL, &out[1], cause) != 0)
                return -1;
        if (st->have_pool &&
            spawn_jobs(b->conn, st->n_pool, SPAWN_WINDOW, SPAWN_POOL, &out[2], cause) != 0)
                return -1;
        return 0;
}

static int
spawn_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct spawn_state *st = state;

        if (spawn_reference_loop(st->n_pipelined, SPAWN_WINDOW, &out[0], cause) != 0 ||
            spawn_reference_loop(st->n_sequential, 1, &out[1], cause) != 0)
                return -1;
        if (st->have_pool && spawn_reference_loop(st->n_pool, SPAWN_SLOTS, &out[2], cause) != 0)
                return -1;
        return 0;
}

static void
spawn_teardown(struct bench *b, void *state)
{
        free(state);
}

static const struct peer_def *const spawn_peers[] = {&peer_tsp};

const struct scenario scenario_spawn = {
    .name = "spawn",
    .title = "3. Spawn throughput",
    .reference = "posix_spawn + waitpid loop with the same child setup and the same number of "
                 "children in flight (16, 1, or 2 for the pool)",
    .figures = spawn_figures,
    .nfigures = sizeof spawn_figures / sizeof spawn_figures[0],
    .max_reps = 3, /* about 12 s each: the default run stays under 8 minutes */
    .fresh_daemon = true,
    .setup = spawn_setup,
    .run = spawn_run,
    .reference_run = spawn_reference,
    .teardown = spawn_teardown,
    .peers = spawn_peers,
    .npeers = sizeof spawn_peers / sizeof spawn_peers[0],
};
