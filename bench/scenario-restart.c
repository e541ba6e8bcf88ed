/*
 * scenario-restart.c -- 4. restart latency: from the SIGKILL of a
 * supervised child to its replacement running.
 *
 * corrald supervises corral-bench-child with {restart: "always",
 * restart_delay: 0, min_uptime: 0.001, start_limit_burst: 0}. Each sample:
 * the bench SIGKILLs the current child and stops two clocks: when the new
 * child writes its pid into a FIFO (it runs: the service is back, the
 * figure a user feels) and when the process.state event "running" for the
 * new pid reaches a connection subscribed with events.subscribe (corrald
 * says it is back). Between samples the replacement stays up a few ms, past
 * min_uptime, so that every restart takes the first (zero) delay.
 *
 * Reference: a minimal raw supervisor in its own process -- posix_spawn of
 * the same child with corrald's child setup, tell the bench the new pid on
 * a pipe, block in waitpid() until it dies, spawn again -- measured the
 * same way (the pipe stands for the event). Peer: supervisord with
 * autorestart (peer-supervisord.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define RS_NAME      "restart-bench"
#define RS_SETTLE_US 3000 /* a replacement's time alive before the next kill (> min_uptime) */
#define RS_TIMEOUT   5.0  /* seconds a restart may take before the scenario fails */
#define RS_WARMUP    20

static const struct figure_def rs_figures[] = {
    {"p50", "SIGKILL → replacement running p50", "µs", false, TARGET_RATIO_MAX, 1.5,
     "≤ 1.5× raw supervisor"},
    {"p99", "SIGKILL → replacement running p99", "µs", false, TARGET_NONE, 0, NULL},
    {"event_p50", "SIGKILL → process.state \"running\" event p50", "µs", false, TARGET_NONE, 0,
     NULL},
};

struct rs_state {
        size_t n;
        double *ready, *event; /* samples, µs */
        /* corrald */
        int fifo;
        char fifo_path[256];
        struct rpc *sub;
        uint64_t id;
        pid_t pid;
        /* the raw supervisor */
        int ref_fifo;
        char ref_fifo_path[256];
        pid_t sup;
        int notify; /* its pipe: the pid of each child it starts */
        pid_t ref_pid;
};

/* ---- the FIFO the child writes its pid into ------------------------------- */

int
restart_fifo_open(struct bench *b, const char *name, char *path, size_t len, char **cause)
{
        int fd;

        snprintf(path, len, "%s", bench_path(b, name));
        if (mkfifo(path, 0600) == -1 && errno != EEXIST)
                return fail(cause, "mkfifo %s: %s", path, strerror(errno));
        /* O_RDWR: a writer always exists, so a child's close is never end of file. */
        if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
                return fail(cause, "open %s: %s", path, strerror(errno));
        return fd;
}

/* Read the pids there are; the last one other than old into *pid. 1 if one was, 0, -1. */
static int
rs_read_pids(int fd, pid_t old, pid_t *pid)
{
        int32_t v[64];
        ssize_t n;
        size_t i;
        int found = 0;

        while ((n = read(fd, v, sizeof v)) > 0) {
                for (i = 0; i < (size_t)n / sizeof v[0]; i++) {
                        if ((pid_t)v[i] != old) {
                                *pid = (pid_t)v[i];
                                found = 1;
                        }
                }
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
        return found;
}

int
restart_fifo_wait(int fd, pid_t old, double timeout, pid_t *pid, char **cause)
{
        double deadline = now_mono() + timeout;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r;

        for (;;) {
                if ((r = rs_read_pids(fd, old, pid)) > 0)
                        return 0;
                if (r < 0)
                        return fail(cause, "reading the FIFO: %s", strerror(errno));
                if (now_mono() > deadline)
                        return fail(cause, "no new child within %gs", timeout);
                poll(&pfd, 1, 100);
        }
}

/* ---- corrald ------------------------------------------------------------- */

struct rs_spawn_args {
        const char *child, *fifo;
};

static void
rs_params_spawn(msgpack_packer *pk, const void *arg)
{
        const struct rs_spawn_args *a = arg;

        msgpack_pack_map(pk, 6);
        proto_pack_str(pk, "argv");
        msgpack_pack_array(pk, 2);
        proto_pack_str(pk, a->child);
        proto_pack_str(pk, a->fifo);
        proto_pack_kv_str(pk, "name", RS_NAME);
        proto_pack_kv_str(pk, "restart", "always");
        proto_pack_kv_double(pk, "restart_delay", 0);
        proto_pack_kv_double(pk, "min_uptime", 0.001);
        proto_pack_kv_uint(pk, "start_limit_burst", 0); /* no start limit */
}

/* The pid of a process.state event to "running" of process id, or 0. */
static pid_t
rs_running_event(const struct proto_msg *msg, uint64_t id)
{
        const msgpack_object *ev = rpc_state_event(msg);

        if (ev == NULL || rpc_get_uint(ev, "id") != id || !rpc_str_is(rpc_get(ev, "to"), "running"))
                return 0;
        return (pid_t)rpc_get_uint(ev, "pid");
}

/* Events that arrived so far: the pid of a "running" one other than old, or 0 (-1 on error). */
static pid_t
rs_read_events(struct rs_state *st, pid_t old, char **cause)
{
        struct proto_msg msg;
        pid_t pid, found = 0;
        int n;

        if (rpc_read_some(st->sub, cause) < 0)
                return -1;
        while ((n = rpc_next_any(st->sub, &msg, cause)) > 0) {
                if ((pid = rs_running_event(&msg, st->id)) > 0 && pid != old)
                        found = pid;
                proto_msg_clear(&msg);
        }
        return n < 0 ? -1 : found;
}

/* One corrald sample: kill, then both clocks. */
static int
rs_corral_one(struct rs_state *st, double *ready, double *event, char **cause)
{
        struct pollfd pfd[2] = {{st->fifo, POLLIN, 0}, {st->sub->fd, POLLIN, 0}};
        pid_t old = st->pid, ready_pid = 0, event_pid = 0, p;
        double t0, now;

        t0 = now_mono();
        if (kill(old, SIGKILL) == -1)
                return fail(cause, "kill %ld: %s", (long)old, strerror(errno));
        while (ready_pid == 0 || event_pid == 0) {
                poll(pfd, 2, 100);
                now = now_mono();
                if (ready_pid == 0 && rs_read_pids(st->fifo, old, &p) > 0) {
                        ready_pid = p;
                        *ready = (now - t0) * 1e6;
                }
                if (event_pid == 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        if ((p = rs_read_events(st, old, cause)) < 0)
                                return -1;
                        if (p > 0) {
                                event_pid = p;
                                *event = (now - t0) * 1e6;
                        }
                }
                if (now - t0 > RS_TIMEOUT)
                        return fail(cause,
                                    "no replacement within %gs of the kill (child %s, "
                                    "event %s)",
                                    RS_TIMEOUT, ready_pid ? "ran" : "did not run",
                                    event_pid ? "came" : "did not come");
        }
        if (ready_pid != event_pid)
                return fail(cause, "the event names pid %ld, the child that ran is %ld",
                            (long)event_pid, (long)ready_pid);
        st->pid = ready_pid;
        usleep(RS_SETTLE_US);
        return 0;
}

static int
rs_corral_start(struct bench *b, struct rs_state *st, char **cause)
{
        struct rs_spawn_args sa = {b->child_path, st->fifo_path};
        struct proto_msg msg;

        if ((st->sub = rpc_connect(b->sock, cause)) == NULL ||
            rpc_call(st->sub, PROTO_M_EVENTS_SUBSCRIBE, rpc_params_subscribe, NULL, &msg, cause) !=
                0)
                return -1;
        proto_msg_clear(&msg);
        if (rpc_call(b->conn, PROTO_M_PROCESS_SPAWN, rs_params_spawn, &sa, &msg, cause) != 0)
                return -1;
        st->id = rpc_get_uint(&msg.result, "id");
        proto_msg_clear(&msg);
        return restart_fifo_wait(st->fifo, 0, RS_TIMEOUT, &st->pid, cause);
}

/* ---- the raw supervisor --------------------------------------------------- */

static void
rs_supervisor(const char *child, const char *fifo, int notify, pid_t parent)
{
        const char *argv[] = {child, fifo, NULL};
        int32_t v;
        int status;
        pid_t pid;

        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
                _exit(1);
        for (;;) {
                if ((pid = refspawn(argv)) == -1)
                        _exit(1);
                v = (int32_t)pid;
                if (write(notify, &v, sizeof v) != (ssize_t)sizeof v)
                        _exit(1);
                while (waitpid(pid, &status, 0) == -1) {
                        if (errno != EINTR)
                                _exit(1);
                }
        }
}

static int
rs_ref_start(struct bench *b, struct rs_state *st, char **cause)
{
        pid_t parent = getpid();
        int fds[2];

        if (pipe2(fds, O_CLOEXEC) == -1)
                return fail(cause, "pipe: %s", strerror(errno));
        fflush(NULL);
        if ((st->sup = fork()) == -1) {
                close(fds[0]);
                close(fds[1]);
                st->sup = 0;
                return fail(cause, "fork: %s", strerror(errno));
        }
        if (st->sup == 0) {
                close(fds[0]);
                rs_supervisor(b->child_path, st->ref_fifo_path, fds[1], parent);
        }
        proc_register(st->sup, "restart-reference");
        close(fds[1]);
        st->notify = fds[0];
        fcntl(st->notify, F_SETFL, O_NONBLOCK);
        return restart_fifo_wait(st->ref_fifo, 0, RS_TIMEOUT, &st->ref_pid, cause);
}

static int
rs_ref_one(struct rs_state *st, double *ready, double *event, char **cause)
{
        struct pollfd pfd[2] = {{st->ref_fifo, POLLIN, 0}, {st->notify, POLLIN, 0}};
        pid_t old = st->ref_pid, ready_pid = 0, event_pid = 0, p;
        double t0, now;

        t0 = now_mono();
        if (kill(old, SIGKILL) == -1)
                return fail(cause, "kill %ld: %s", (long)old, strerror(errno));
        while (ready_pid == 0 || event_pid == 0) {
                poll(pfd, 2, 100);
                now = now_mono();
                if (ready_pid == 0 && rs_read_pids(st->ref_fifo, old, &p) > 0) {
                        ready_pid = p;
                        *ready = (now - t0) * 1e6;
                }
                if (event_pid == 0 && rs_read_pids(st->notify, old, &p) > 0) {
                        event_pid = p;
                        *event = (now - t0) * 1e6;
                }
                if (now - t0 > RS_TIMEOUT)
                        return fail(cause, "the raw supervisor did not restart within %gs",
                                    RS_TIMEOUT);
        }
        st->ref_pid = ready_pid;
        usleep(RS_SETTLE_US);
        return 0;
}

/* ---- the scenario ---------------------------------------------------------- */

static int
rs_setup(struct bench *b, void **statep, char **cause)
{
        struct rs_state *st = xcalloc(1, sizeof *st);
        double r, e;
        size_t i;

        *statep = st;
        st->fifo = st->ref_fifo = st->notify = -1;
        st->n = bench_size(b, 300, 50);
        st->ready = xcalloc(st->n, sizeof *st->ready);
        st->event = xcalloc(st->n, sizeof *st->event);
        if ((st->fifo = restart_fifo_open(b, "restart.fifo", st->fifo_path, sizeof st->fifo_path,
                                          cause)) == -1 ||
            (st->ref_fifo = restart_fifo_open(b, "restart-ref.fifo", st->ref_fifo_path,
                                              sizeof st->ref_fifo_path, cause)) == -1)
                return -1;
        if (rs_corral_start(b, st, cause) != 0 || rs_ref_start(b, st, cause) != 0)
                return -1;
        for (i = 0; i < RS_WARMUP; i++) {
                if (rs_corral_one(st, &r, &e, cause) != 0 || rs_ref_one(st, &r, &e, cause) != 0)
                        return -1;
        }
        return 0;
}

static void
rs_summarise(struct rs_state *st, double *out)
{
        out[0] = stats_quantile(st->ready, st->n, 0.50);
        out[1] = stats_quantile_sorted(st->ready, st->n, 0.99);
        out[2] = stats_quantile(st->event, st->n, 0.50);
}

static int
rs_run(struct bench *b, void *state, double *out, char **cause)
{
        struct rs_state *st = state;
        size_t i;

        for (i = 0; i < st->n; i++) {
                if (rs_corral_one(st, &st->ready[i], &st->event[i], cause) != 0)
                        return -1;
        }
        rs_summarise(st, out);
        return 0;
}

static int
rs_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct rs_state *st = state;
        size_t i;

        for (i = 0; i < st->n; i++) {
                if (rs_ref_one(st, &st->ready[i], &st->event[i], cause) != 0)
                        return -1;
        }
        rs_summarise(st, out);
        return 0;
}

static void
rs_teardown(struct bench *b, void *state)
{
        struct rs_state *st = state;

        if (st == NULL)
                return;
        if (st->sup > 0)
                proc_stop(st->sup, SIGKILL, 5);
        if (st->ref_pid > 0)
                kill(st->ref_pid, SIGKILL); /* the subreaper (the bench) reaps it */
        proc_reap_orphans();
        rpc_free(st->sub);
        if (st->notify >= 0)
                close(st->notify);
        if (st->fifo >= 0)
                close(st->fifo);
        if (st->ref_fifo >= 0)
                close(st->ref_fifo);
        free(st->ready);
        free(st->event);
        free(st);
}

static const struct peer_def *const rs_peers[] = {&peer_supervisord_restart};

const struct scenario scenario_restart = {
    .name = "restart",
    .title = "4. Restart latency",
    .reference = "a raw supervisor process: posix_spawn of the same child (corrald's child "
                 "setup), its pid to the bench on a pipe (for the event), blocking waitpid, "
                 "spawn again",
    .figures = rs_figures,
    .nfigures = sizeof rs_figures / sizeof rs_figures[0],
    .max_reps = 3,
    .fresh_daemon = true,
    .setup = rs_setup,
    .run = rs_run,
    .reference_run = rs_reference,
    .teardown = rs_teardown,
    .peers = rs_peers,
    .npeers = sizeof rs_peers / sizeof rs_peers[0],
};
