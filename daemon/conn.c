/*
 * conn.c -- a client connection: reads bytes into a proto_reader, hands
 * each message to the method table, queues answers on the bufferevent.
 * Backpressure: while too much output is queued (a client that pipelines
 * without reading), reading pauses; past max_output the client is
 * dropped so one slow reader never costs the daemon unbounded memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "output.h"
#include "process-table.h"
#include "process.h"
#include "queue.h"
#include "log.h"
#include "method.h"
#include "request.h"
#include "xmalloc.h"
#include "timer.h"

/* Output above this pauses reading; below the low mark it resumes. */
#define CONN_OUT_HIGH      (1024 * 1024)
#define CONN_OUT_LOW       (256 * 1024)
#define CONN_READ_CHUNK    65536
#define CONN_FLUSH_SECONDS 5 /* a closing client gets this long to take its last answers */

TAILQ_HEAD(request_list, request);

struct conn {
        struct corrald *daemon;
        uint64_t id;
        struct bufferevent *bev; /* output: queued answers, EV_WRITE while they wait */
        struct event *rev;       /* input: read straight into the reader's buffer */
        struct proto_reader *reader;
        struct request_list parked;
        unsigned nparked;
        struct ucred cred;
        gid_t *groups; /* the peer's supplementary groups, taken at accept (SO_PEERGROUPS) */
        size_t ngroups;
        struct access_grant grant;
        bool dead;                /* on the daemon's dead list, to be freed from the loop */
        bool closing;             /* flushing its last answers */
        bool paused;              /* reading paused for backpressure */
        bool subscribed;          /* receives events */
        unsigned reservations;    /* queue messages reserved through this connection */
        struct process_pins pins; /* the processes it spawned; ended ones it has not joined */
        bool following;           /* follows output */
        bool flush_pending;       /* on the daemon's flush_pending list */
        LIST_ENTRY(conn) flush_entry;
        struct event *flush_timer; /* bounds a closing connection's final flush */
        struct event *deadline;    /* bounds the time to finish a started message */
        bool partial;              /* deadline armed for the message in progress */
        TAILQ_ENTRY(conn) entry;
};

static void conn_read_cb(evutil_socket_t, short, void *);
static void conn_process(struct conn *);
static void conn_disarm_deadline(struct conn *);
static void conn_write_cb(struct bufferevent *, void *);
static void conn_event_cb(struct bufferevent *, short, void *);
static void conn_cancel_parked(struct conn *);

/* Schedule the free: callbacks may still be on the stack. */
static void
conn_kill(struct conn *c)
{
        struct corrald *d = c->daemon;

        if (c->dead)
                return;
        c->dead = true;
        /*
         * Its waits end now, not at the free: a request woken in between
         * would hand a dead connection a reservation (or a follow) that
         * outlives it.
         */
        conn_cancel_parked(c);
        if (c->subscribed)
                events_unsubscribe(d->events, c);
        if (c->following)
                output_unfollow_conn(d, c);
        /* Reserved messages go back to their queues at once. */
        if (c->reservations > 0)
                queue_release_conn(d->queues, c);
        /* Nobody is left to join them: they become ordinary history. */
        process_pins_release(&c->pins);
        event_del(c->rev);
        bufferevent_disable(c->bev, EV_WRITE);
        if (c->flush_pending) {
                LIST_REMOVE(c, flush_entry);
                c->flush_pending = false;
        }
        TAILQ_REMOVE(&d->conns, c, entry);
        d->nconns--;
        TAILQ_INSERT_TAIL(&d->dead_conns, c, entry);
        event_active(d->reap_conns_ev, EV_TIMEOUT, 0);
}

/*
 * The peer's groups as the kernel recorded them when it connected: later
 * reads of /proc/PID could meet another process that took its pid.
 */
static void
conn_peer_groups(struct conn *c, int fd)
{
        socklen_t len = 32 * sizeof(gid_t);
        int r;

        c->groups = xmalloc(len);
        r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len);
        if (r == -1 && errno == ERANGE) { /* len now says how much is needed */
                c->groups = xreallocarray(c->groups, len, 1);
                r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len);
        }
        c->ngroups = r == 0 ? len / sizeof(gid_t) : 0;
}

struct conn *
conn_new(struct corrald *d, int fd)
{
        static uint64_t next_id = 1; /* only a label for logs */
        struct conn *c = xcalloc(1, sizeof *c);
        socklen_t len = sizeof c->cred;

        c->daemon = d;
        c->id = next_id++;
        TAILQ_INIT(&c->parked);
        process_pins_init(&c->pins);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) == -1) {
                log_warn("SO_PEERCRED: %s", strerror(errno));
                c->cred.pid = 0;
                c->cred.uid = (uid_t)-1;
                c->cred.gid = (gid_t)-1;
        }
        conn_peer_groups(c, fd);
        access_grant_for(d->access, c->cred.uid, c->cred.gid, c->groups, c->ngroups, &c->grant);
        c->reader = proto_reader_new(&d->config.limits);
        c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (c->reader == NULL || c->bev == NULL)
                fatalx("cannot set up a connection");
        /*
         * Reads bypass the bufferevent: its evbuffer_read costs a FIONREAD
         * per read and a copy into the reader; read() into the reader's own
         * buffer costs neither.
         */
        c->rev = event_new(d->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
        if (c->rev == NULL)
                fatalx("cannot set up a connection");
        bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
        bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUT_LOW, 0);
        /*
         * EV_WRITE only while bytes wait: answers are written at once
         * (conn_flush), not a loop turn later after two epoll_ctl calls.
         */
        event_add(c->rev, NULL);
        TAILQ_INSERT_TAIL(&d->conns, c, entry);
        d->nconns++;
        log_debug("conn %llu: connected (pid %ld, uid %ld)", (unsigned long long)c->id,
                  (long)c->cred.pid, (long)c->cred.uid);
        return c;
}

/* Drop every parked request: nobody is left to answer. */
static void
conn_cancel_parked(struct conn *c)
{
        struct request *req;

        while ((req = TAILQ_FIRST(&c->parked)) != NULL) {
                TAILQ_REMOVE(&c->parked, req, conn_entry);
                c->nparked--;
                request_cancel(req);
        }
}

static void
conn_free(struct conn *c)
{
        conn_cancel_parked(c);
        process_pins_release(&c->pins); /* at teardown, not killed first */
        if (c->flush_timer != NULL)
                event_free(c->flush_timer);
        if (c->deadline != NULL)
                event_free(c->deadline);
        event_free(c->rev); /* before the bufferevent closes the descriptor */
        bufferevent_free(c->bev);
        proto_reader_free(c->reader);
        access_grant_clear(&c->grant);
        free(c->groups);
        free(c);
}

void
conn_free_all(struct corrald *d)
{
        struct conn *c;

        while ((c = TAILQ_FIRST(&d->conns)) != NULL) {
                TAILQ_REMOVE(&d->conns, c, entry);
                d->nconns--;
                conn_free(c);
        }
        while ((c = TAILQ_FIRST(&d->dead_conns)) != NULL) {
                TAILQ_REMOVE(&d->dead_conns, c, entry);
                conn_free(c);
        }
}

void
conn_close_all(struct corrald *d)
{
        struct conn *c, *next;

        for (c = TAILQ_FIRST(&d->conns); c != NULL; c = next) {
                next = TAILQ_NEXT(c, entry);
                conn_close_after_flush(c);
        }
}

void
conn_reap(struct corrald *d)
{
        struct conn *c;

        while ((c = TAILQ_FIRST(&d->dead_conns)) != NULL) {
                TAILQ_REMOVE(&d->dead_conns, c, entry);
                log_debug("conn %llu: closed", (unsigned long long)c->id);
                conn_free(c);
        }
        if (d->stopping)
                corrald_check_stopped(d);
}

size_t
conn_output_pending(const struct conn *c)
{
        return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Write what is queued now; what the socket does not take waits for EV_WRITE. */
static void
conn_flush(struct conn *c)
{
        struct evbuffer *out = bufferevent_get_output(c->bev);
        int n;

        if (c->dead || evbuffer_get_length(out) == 0)
                return;
        /* The bufferevent freezes its output's start: only it may drain it, except here. */
        evbuffer_unfreeze(out, 1);
        n = evbuffer_write(out, bufferevent_getfd(c->bev));
        evbuffer_freeze(out, 1);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                log_debug("conn %llu: write: %s", (unsigned long long)c->id, strerror(errno));
                conn_kill(c);
                return;
        }
        if (evbuffer_get_length(out) > 0 || c->closing)
                bufferevent_enable(c->bev, EV_WRITE);
        /* Drained here, not by the bufferevent, whose write callback would resume reading. */
        if (c->paused && evbuffer_get_length(out) <= CONN_OUT_LOW) {
                c->paused = false;
                event_add(c->rev, NULL);
        }
}

/*
 * A batch: one callback's work (a read of pipelined requests, a log
 * commit waking many getters, a burst of child exits). Each connection
 * written to during it gets one write at its end, not one per answer.
 */
void
conn_batch_begin(struct corrald *d)
{
        d->batch_depth++;
}

void
conn_batch_flush(struct corrald *d)
{
        struct conn *c;

        while ((c = LIST_FIRST(&d->flush_pending)) != NULL) {
                LIST_REMOVE(c, flush_entry);
                c->flush_pending = false;
                conn_flush(c);
        }
}

void
conn_batch_end(struct corrald *d)
{
        if (--d->batch_depth == 0)
                conn_batch_flush(d);
}

void
conn_write(struct conn *c, const void *buf, size_t len)
{
        size_t pending;

        if (c->dead)
                return;
        if (bufferevent_write(c->bev, buf, len) != 0) {
                log_warn("conn %llu: cannot queue %zu bytes; closing", (unsigned long long)c->id,
                         len);
                conn_kill(c);
                return;
        }
        pending = conn_output_pending(c);
        if (pending > c->daemon->config.max_output) {
                log_warn("conn %llu: client is not reading (%zu bytes queued); closing",
                         (unsigned long long)c->id, pending);
                conn_kill(c);
        } else if (pending > CONN_OUT_HIGH && !c->paused && !c->closing) {
                c->paused = true;
                event_del(c->rev);
                /* Its unread bytes wait on us, not on the client. */
                conn_disarm_deadline(c);
        }
        if (c->dead)
                return;
        if (c->daemon->batch_depth == 0)
                conn_flush(c);
        else if (!c->flush_pending) {
                c->flush_pending = true;
                LIST_INSERT_HEAD(&c->daemon->flush_pending, c, flush_entry);
        }
}

static void
conn_flush_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
        struct conn *c = arg;

        log_info("conn %llu: did not take its last %zu bytes; dropping it",
                 (unsigned long long)c->id, conn_output_pending(c));
        conn_kill(c);
}

void
conn_close_after_flush(struct conn *c)
{
        struct timeval tv = {CONN_FLUSH_SECONDS, 0};

        if (c->dead || c->closing)
                return;
        c->closing = true;
        bufferevent_enable(c->bev, EV_WRITE); /* the write callback sees the output drain */
        c->flush_timer = evtimer_new(c->daemon->base, conn_flush_timeout_cb, c);
        if (c->flush_timer == NULL || evtimer_add(c->flush_timer, &tv) != 0)
                fatalx("cannot arm a timer");
        event_del(c->rev);
        /* The write callback fires once the output is empty. */
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        if (conn_output_pending(c) == 0)
                conn_kill(c);
}

void
conn_reservations_add(struct conn *c, int delta)
{
        c->reservations = (unsigned)((int)c->reservations + delta);
}

unsigned
conn_reservations(const struct conn *c)
{
        return c->reservations;
}

struct process_pins *
conn_pins(struct conn *c)
{
        return &c->pins;
}

void
conn_set_following(struct conn *c, bool on)
{
        c->following = on;
}

void
conn_set_subscribed(struct conn *c, bool on)
{
        c->subscribed = on;
}

void
conn_write_event(struct conn *c, const void *buf, size_t len)
{
        struct corrald *d = c->daemon;
        msgpack_sbuffer sb;
        msgpack_packer pk;

        if (c->dead || c->closing)
                return;
        if (conn_output_pending(c) + len <= d->config.max_event_backlog) {
                conn_write(c, buf, len);
                /* Not held for the batch's end: an event is news only while it is fresh. */
                conn_flush(c);
                return;
        }
        log_warn("conn %llu: event subscriber fell %zu bytes behind; disconnecting it",
                 (unsigned long long)c->id, conn_output_pending(c));
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        proto_pack_notification_head(&pk, "event");
        msgpack_pack_array(&pk, 1);
        msgpack_pack_map(&pk, 4);
        proto_pack_kv_str(&pk, "type", "overflow");
        proto_pack_kv_double(&pk, "ts", process_now());
        proto_pack_kv_uint(&pk, "queued", conn_output_pending(c));
        proto_pack_kv_uint(&pk, "limit", d->config.max_event_backlog);
        bufferevent_write(c->bev, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
        events_unsubscribe(d->events, c);
        c->subscribed = false;
        conn_close_after_flush(c);
}

void
conn_request_parked(struct conn *c, struct request *req)
{
        TAILQ_INSERT_TAIL(&c->parked, req, conn_entry);
        c->nparked++;
}

void
conn_request_unparked(struct conn *c, struct request *req)
{
        TAILQ_REMOVE(&c->parked, req, conn_entry);
        c->nparked--;
}

unsigned
conn_parked_count(const struct conn *c)
{
        return c->nparked;
}

const struct access_grant *
conn_grant(const struct conn *c)
{
        return &c->grant;
}

void
conn_regrant_all(struct corrald *d)
{
        struct conn *c;

        TAILQ_FOREACH(c, &d->conns, entry)
        {
                access_grant_clear(&c->grant);
                access_grant_for(d->access, c->cred.uid, c->cred.gid, c->groups, c->ngroups,
                                 &c->grant);
        }
}

const gid_t *
conn_peer_groups_list(const struct conn *c, size_t *n)
{
        *n = c->ngroups;
        return c->groups;
}

gid_t
conn_peer_gid(const struct conn *c)
{
        return c->cred.gid;
}

pid_t
conn_peer_pid(const struct conn *c)
{
        return c->cred.pid;
}

uid_t
conn_peer_uid(const struct conn *c)
{
        return c->cred.uid;
}

uint64_t
conn_id(const struct conn *c)
{
        return c->id;
}

void
conn_fail(struct conn *c, const struct proto_msg *msg, const struct proto_error *err)
{
        struct corrald *d = c->daemon;

        log_info("conn %llu: %s: %s; closing", (unsigned long long)c->id, proto_err_name(err->code),
                 err->message);
        msgpack_sbuffer_clear(&d->out);
        proto_pack_error_response(&d->pk, msg->has_msgid, msg->msgid, err);
        conn_write(c, d->out.data, d->out.size);
        msgpack_sbuffer_clear(&d->out);
        conn_close_after_flush(c);
}

static void
conn_disarm_deadline(struct conn *c)
{
        if (c->deadline != NULL)
                evtimer_del(c->deadline);
        c->partial = false;
}

static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
        struct conn *c = arg;

        log_info("conn %llu: a message still unfinished %gs after its first byte; dropping it",
                 (unsigned long long)c->id, c->daemon->config.idle_timeout);
        conn_kill(c);
}

/*
 * A message must arrive whole within idle_timeout of its first byte: a
 * client that sends half a message and waits, or trickles it a byte at
 * a time (slowloris), would hold a buffer and a descriptor forever. The
 * deadline is per message: pipelined messages that keep completing each
 * get their own.
 */
static void
conn_arm_deadline(struct conn *c, bool progressed)
{
        double t = c->daemon->config.idle_timeout;

        if (c->dead || c->closing)
                return;
        if (proto_reader_pending(c->reader) == 0 || t <= 0) {
                conn_disarm_deadline(c);
                return;
        }
        if (c->partial && !progressed)
                return; /* still the same message: its deadline stands */
        if (c->deadline == NULL &&
            (c->deadline = evtimer_new(c->daemon->base, conn_deadline_cb, c)) == NULL)
                fatalx("cannot create a timer");
        if (timer_arm(c->deadline, t) != 0)
                fatalx("cannot arm a timer");
        c->partial = true;
}

/* Handle every whole message buffered; the answers of one batch go out in one write. */
static void
conn_process(struct conn *c)
{
        struct proto_msg msg;
        struct proto_error err;
        bool progressed = false;
        int r;

        memset(&msg, 0, sizeof msg);
        conn_batch_begin(c->daemon);
        while (!c->dead && !c->closing) {
                r = proto_reader_next(c->reader, &msg, &err);
                if (r == 0)
                        break;
                if (r < 0) {
                        conn_fail(c, &msg, &err);
                        break;
                }
                method_dispatch(c->daemon, c, &msg);
                proto_msg_clear(&msg);
                progressed = true;
        }
        conn_batch_end(c->daemon);
        conn_arm_deadline(c, progressed);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
        struct conn *c = arg;
        size_t avail;
        void *space = proto_reader_space(c->reader, CONN_READ_CHUNK, &avail);
        ssize_t n;

        if (space == NULL) {
                log_warn("conn %llu: out of memory buffering input; closing",
                         (unsigned long long)c->id);
                conn_kill(c);
                return;
        }
        /* One read per wakeup: what is left wakes us again, after the other clients. */
        n = read(fd, space, avail);
        if (n > 0) {
                proto_reader_commit(c->reader, (size_t)n);
                conn_process(c);
                proto_reader_trim(c->reader, CONN_READ_CHUNK);
                return;
        }
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n == -1) {
                log_debug("conn %llu: read: %s", (unsigned long long)c->id, strerror(errno));
                conn_kill(c);
                return;
        }
        /*
         * EOF: the client has gone (or shut down its sending side, which
         * we treat alike, so that a vanished client never holds requests
         * or a descriptor). Answers already queued are still flushed;
         * parked requests are dropped.
         */
        conn_cancel_parked(c);
        conn_close_after_flush(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;
        size_t pending = conn_output_pending(c);

        if (c->closing && pending == 0) {
                conn_kill(c);
                return;
        }
        if (pending == 0)
                bufferevent_disable(c->bev, EV_WRITE); /* until bytes wait again */
        if (c->paused && pending <= CONN_OUT_LOW) {
                c->paused = false;
                event_add(c->rev, NULL);
                /* Messages may already be buffered: process them now. */
                conn_process(c);
        }
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
        struct conn *c = arg;

        /* The bufferevent only writes: an error or EOF while writing ends the client. */
        log_debug("conn %llu: write: %s", (unsigned long long)c->id,
                  what & BEV_EVENT_ERROR ? evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())
                                         : "end of file");
        conn_kill(c);
}
