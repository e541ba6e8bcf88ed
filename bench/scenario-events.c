/*
 * scenario-events.c -- 8b. events: 10,000 process.state changes (5,000
 * /bin/true spawned and reaped) delivered to a subscriber.
 *
 * One connection subscribes to process.state; another spawns /bin/true,
 * keeping 16 alive: each "exited" event the subscriber receives lets the
 * next spawn go, so the whole run is paced by event delivery, as a job
 * runner that reacts to events is. Figures: the time from the first spawn
 * to the last event received, and the delivery latency of each event
 * (the subscriber's clock at receipt minus the event's own ts, both
 * CLOCK_REALTIME on this machine).
 *
 * Reference: a process that spawns the same children (posix_spawn with
 * corrald's child setup, 16 in flight, waitpid) and writes, for each state
 * change, a notification of the same shape and fields as corrald's event
 * into a socket the bench reads and decodes with the same client code.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define EV_WINDOW  16
#define EV_TIMEOUT 30.0

static const char *const ev_true_argv[] = {"/bin/true", NULL};

static const struct figure_def ev_figures[] = {
    {"total_ms", "2 × N process.state events (N /bin/true): until the last is received", "ms",
     false, TARGET_NONE, 0, NULL},
    {"lat_p50", "event delivery latency p50 (state change → subscriber)", "µs", false, TARGET_NONE,
     0, NULL},
    {"lat_p99", "event delivery latency p99", "µs", false, TARGET_NONE, 0, NULL},
};

struct ev_state {
        size_t n;    /* processes */
        double *lat; /* µs, one per event */
        size_t nlat;
        struct rpc *sub; /* subscribed to corrald */
};

static double
now_real(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A process.state event: 1 with *exited (it went to "exited"), latency noted; 0 if not one. */
static int
ev_note(struct ev_state *st, const struct proto_msg *msg, double received, bool *exited)
{
        const msgpack_object *ev = rpc_state_event(msg), *ts;

        if (ev == NULL)
                return 0;
        ts = rpc_get(ev, "ts");
        *exited = rpc_str_is(rpc_get(ev, "to"), "exited");
        if (ts != NULL && ts->type == MSGPACK_OBJECT_FLOAT64 && st->nlat < 2 * st->n + 64)
                st->lat[st->nlat++] = (received - ts->via.f64) * 1e6;
        return 1;
}

/* Read a subscriber's events: counts, exited, latencies. -1 on error. */
static int
ev_drain(struct ev_state *st, struct rpc *r, size_t *events, size_t *exited, char **cause)
{
        struct proto_msg msg;
        double received;
        bool ex;
        int n;

        if (rpc_read_some(r, cause) < 0)
                return -1;
        received = now_real();
        while ((n = rpc_next_any(r, &msg, cause)) > 0) {
                if (ev_note(st, &msg, received, &ex) == 1) {
                        (*events)++;
                        *exited += ex;
                }
                proto_msg_clear(&msg);
        }
        return n < 0 ? -1 : 0;
}

/* N spawns paced by "exited" events; *ms until every process has exited and been told. */
static int
ev_corral(struct bench *b, struct ev_state *st, size_t n, double *ms, char **cause)
{
        struct spawn_args sa = {ev_true_argv, NULL, NULL};
        struct pollfd pfd[2];
        struct proto_msg msg;
        size_t spawned = 0, answered = 0, events = 0, exited = 0;
        double t0 = now_mono(), last = t0;
        int k;

        st->nlat = 0;
        while (exited < n || answered < spawned) {
                while (spawned < n && spawned - exited < EV_WINDOW) {
                        rpc_queue(b->conn, PROTO_M_PROCESS_SPAWN, rpc_params_spawn, &sa);
                        spawned++;
                }
                if (rpc_write_some(b->conn, cause) != 0)
                        return -1;
                pfd[0] = (struct pollfd){b->conn->fd,
                                         POLLIN | (rpc_out_pending(b->conn) ? POLLOUT : 0), 0};
                pfd[1] = (struct pollfd){st->sub->fd, POLLIN, 0};
                if ((k = poll(pfd, 2, 1000)) < 0 && errno != EINTR)
                        return fail(cause, "poll: %s", strerror(errno));
                if (now_mono() - last > EV_TIMEOUT)
                        return fail(cause, "no event for %gs (%zu of %zu exited)", EV_TIMEOUT,
                                    exited, n);
                if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (ev_drain(st, st->sub, &events, &exited, cause) != 0)
                                return -1;
                        last = now_mono();
                }
                if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (rpc_read_some(b->conn, cause) < 0)
                                return -1;
                        while ((k = rpc_next(b->conn, &msg, cause)) > 0) {
                                answered++;
                                k = rpc_check(&msg, PROTO_M_PROCESS_SPAWN, cause);
                                proto_msg_clear(&msg);
                                if (k != 0)
                                        return -1;
                        }
                        if (k < 0)
                                return -1;
                }
        }
        *ms = (last - t0) * 1e3;
        if (events != 2 * n)
                bench_note("events: %zu process.state events for %zu processes (2 expected "
                           "each)",
                           events, n);
        return 0;
}

/* ---- the reference ----------------------------------------------------------- */

/* One event of corrald's shape: [2, "event", [{type, ts, id, name, pool, from, to, pid, ...}]]. */
static void
ev_pack(msgpack_packer *pk, uint64_t id, pid_t pid, const char *from, const char *to, int code)
{
        char name[32];

        snprintf(name, sizeof name, "true.%llu", (unsigned long long)id);
        proto_pack_notification_head(pk, "event");
        msgpack_pack_array(pk, 1);
        msgpack_pack_map(pk, 12);
        proto_pack_kv_str(pk, "type", "process.state");
        proto_pack_kv_double(pk, "ts", now_real());
        proto_pack_kv_uint(pk, "id", id);
        proto_pack_kv_str(pk, "name", name);
        proto_pack_kv_str(pk, "pool", "default");
        proto_pack_kv_str(pk, "from", from);
        proto_pack_kv_str(pk, "to", to);
        proto_pack_kv_uint(pk, "pid", (uint64_t)pid);
        proto_pack_kv_uint(pk, "restarts", 0);
        if (code >= 0)
                proto_pack_kv_int(pk, "exit_code", code);
        else
                proto_pack_kv_nil(pk, "exit_code");
        proto_pack_kv_nil(pk, "signal");
        proto_pack_kv_nil(pk, "reason");
}

static int
ev_send(int fd, msgpack_sbuffer *sb)
{
        size_t off = 0;
        ssize_t w;

        while (off < sb->size) {
                w = write(fd, sb->data + off, sb->size - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                off += (size_t)w;
        }
        msgpack_sbuffer_clear(sb);
        return 0;
}

/* The reference worker: spawn, reap, and tell each state change at once. */
static void
ev_ref_worker(int fd, size_t n, pid_t parent)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        size_t started = 0, done = 0;
        uint64_t id = 0;
        int status;
        pid_t pid;
        char go;

        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
                _exit(1);
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        if (read(fd, &go, 1) != 1) /* the bench starts the clock, then says go */
                _exit(1);
        while (done < n) {
                while (started < n && started - done < EV_WINDOW) {
                        if ((pid = refspawn(ev_true_argv)) == -1)
                                _exit(1);
                        started++;
                        ev_pack(&pk, ++id, pid, "pending", "running", -1);
                        if (ev_send(fd, &sb) != 0)
                                _exit(1);
                }
                pid = waitpid(-1, &status, 0);
                if (pid == -1 && errno == EINTR)
                        continue;
                if (pid == -1)
                        _exit(1);
                done++;
                ev_pack(&pk, id, pid, "running", "exited",
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                if (ev_send(fd, &sb) != 0)
                        _exit(1);
        }
        _exit(0);
}

static int
ev_reference_once(struct ev_state *st, size_t n, double *ms, char **cause)
{
        size_t events = 0, exited = 0;
        pid_t parent = getpid(), pid;
        struct pollfd pfd;
        struct rpc *r;
        double t0, last;
        int sv[2], rc = 0;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
                return fail(cause, "socketpair: %s", strerror(errno));
        fflush(NULL);
        if ((pid = fork()) == -1) {
                close(sv[0]);
                close(sv[1]);
                return fail(cause, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                close(sv[0]);
                ev_ref_worker(sv[1], n, parent);
        }
        proc_register(pid, "events-reference");
        close(sv[1]);
        r = rpc_from_fd(sv[0]);
        st->nlat = 0;
        t0 = last = now_mono();
        if (write(r->fd, "g", 1) != 1)
                rc = fail(cause, "cannot start the reference");
        while (rc == 0 && exited < n) {
                pfd = (struct pollfd){r->fd, POLLIN, 0};
                poll(&pfd, 1, 1000);
                if (now_mono() - last > EV_TIMEOUT) {
                        rc = fail(cause, "the reference stalled (%zu of %zu exited)", exited, n);
                        break;
                }
                if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                        rc = ev_drain(st, r, &events, &exited, cause);
                        last = now_mono();
                }
        }
        *ms = (last - t0) * 1e3;
        rpc_free(r);
        proc_stop(pid, SIGKILL, 5);
        return rc;
}

/* ---- the scenario ---------------------------------------------------------- */

static int
ev_setup(struct bench *b, void **statep, char **cause)
{
        struct ev_state *st = xcalloc(1, sizeof *st);
        struct proto_msg msg;
        double ms;

        *statep = st;
        st->n = bench_size(b, 5000, 500);
        st->lat = xcalloc(2 * st->n + 64, sizeof *st->lat);
        if ((st->sub = rpc_connect(b->sock, cause)) == NULL ||
            rpc_call(st->sub, PROTO_M_EVENTS_SUBSCRIBE, rpc_params_subscribe, NULL, &msg, cause) !=
                0)
                return -1;
        proto_msg_clear(&msg);
        bench_note("events: N = %zu processes of /bin/true, 16 alive at a time, a spawn per "
                   "\"exited\" event received",
                   st->n);
        /* Warm up both. */
        if (ev_corral(b, st, 200, &ms, cause) != 0 || ev_reference_once(st, 200, &ms, cause) != 0)
                return -1;
        return 0;
}

static void
ev_summarise(struct ev_state *st, double ms, double *out)
{
        out[0] = ms;
        out[1] = stats_quantile(st->lat, st->nlat, 0.50);
        out[2] = stats_quantile_sorted(st->lat, st->nlat, 0.99);
}

static int
ev_run(struct bench *b, void *state, double *out, char **cause)
{
        struct ev_state *st = state;
        double ms;

        if (ev_corral(b, st, st->n, &ms, cause) != 0)
                return -1;
        ev_summarise(st, ms, out);
        return 0;
}

static int
ev_reference(struct bench *b, void *state, double *out, char **cause)
{
        struct ev_state *st = state;
        double ms;

        if (ev_reference_once(st, st->n, &ms, cause) != 0)
                return -1;
        ev_summarise(st, ms, out);
        return 0;
}

static void
ev_teardown(struct bench *b, void *state)
{
        struct ev_state *st = state;

        if (st == NULL)
                return;
        rpc_free(st->sub);
        free(st->lat);
        free(st);
}

const struct scenario scenario_events = {
    .name = "events",
    .title = "8b. Events",
    .reference = "a process spawning and reaping the same children (corrald's child setup, 16 in "
                 "flight) and writing one notification of the same shape per state change to a "
                 "socket the bench reads with the same client",
    .figures = ev_figures,
    .nfigures = sizeof ev_figures / sizeof ev_figures[0],
    .max_reps = 3,
    .fresh_daemon = true,
    .setup = ev_setup,
    .run = ev_run,
    .reference_run = ev_reference,
    .teardown = ev_teardown,
};
