/*
 * queue.c -- named queues: messages, blocking put/get, reliable delivery,
 * dead letters. Durability is queue-log.c's; this file decides what to
 * log and when an answer may go out (a durable put or ack is answered
 * only once the log write that covers it is done).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "process-table.h"
#include "process.h"
#include "queue-log.h"
#include "pool.h"
#include "queue-internal.h"
#include "queue.h"
#include "xmalloc.h"
#include "timer.h"

/* Delayed and reserved: the earliest time first. */
static int
qmsg_cmp_when(const void *a, const void *b)
{
        const struct qmsg *x = a, *y = b;

        if (x->when != y->when)
                return x->when < y->when ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int
qmsg_cmp_id(const void *a, const void *b)
{
        const struct qmsg *x = a, *y = b;

        return x->id < y->id ? -1 : x->id > y->id;
}

void
qpending_add(struct queue_pending *p, struct qmsg *m)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 16;
                p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
        }
        p->v[p->n++] = m;
}

struct queue_table *
queue_table_new(struct corrald *d)
{
        struct queue_table *qt = xcalloc(1, sizeof *qt);

        qt->daemon = d;
        TAILQ_INIT(&qt->queues);
        return qt;
}

struct queue_list *
queue_table_list(struct queue_table *qt)
{
        return &qt->queues;
}

unsigned
queue_table_count(const struct queue_table *qt)
{
        return qt->count;
}

struct queue *
queue_find(struct queue_table *qt, const char *name)
{
        struct queue *q;

        TAILQ_FOREACH(q, &qt->queues, entry)
        {
                if (strcmp(q->name, name) == 0)
                        return q;
        }
        return NULL;
}

struct queue *
queue_find_req(struct queue_table *qt, const char *name, const char *field, struct request *req)
{
        struct queue *q = queue_find(qt, name);

        if (q == NULL)
                request_error(req, PROTO_E_NOT_FOUND, field, "no queue named '%s'", name);
        return q;
}

double
queue_mono(void)
{
        return process_mono();
}

static void queue_timer_cb(evutil_socket_t, short, void *);

struct queue *
queue_alloc(struct queue_table *qt, const char *name, const struct queue_config *cfg)
{
        struct queue *q = xcalloc(1, sizeof *q + sizeof(struct queue_private));
        struct event_base *base = qt->daemon->base;

        q->table = qt;
        q->name = xstrdup(name);
        q->cfg = *cfg;
        q->next_id = 1;
        qready_init(&q->ready);
        heap_init(&q->delayed, qmsg_cmp_when, offsetof(struct qmsg, hidx));
        heap_init(&q->reserved, qmsg_cmp_when, offsetof(struct qmsg, hidx));
        TAILQ_INIT(&q->getters);
        TAILQ_INIT(&q->putters);
        TAILQ_INIT(&q->room_waiters);
        TAILQ_INIT(&q->ready_waiters);
        TAILQ_INIT(&queue_priv(q)->open.waiters);
        TAILQ_INIT(&queue_priv(q)->syncing.waiters);
        q->delay_timer = evtimer_new(base, queue_timer_cb, q);
        q->visibility_timer = evtimer_new(base, queue_timer_cb, q);
        if (q->delay_timer == NULL || q->visibility_timer == NULL)
                fatalx("cannot create a timer");
        TAILQ_INSERT_TAIL(&qt->queues, q, entry);
        qt->count++;
        return q;
}

static void
queue_noop(void *p)
{
}

static void
queue_free_msg(void *m)
{
        free(m);
}

static void
queue_free_ready(struct qmsg *m, void *unused)
{
        free(m);
}

/*
 * Free a queue and every message it holds. Each message is in exactly one
 * place: a batch's committing list, the ready or delayed heap, or the id index
 * (reserved and acking messages, and all of them while the log replays).
 */
void
queue_free(struct queue *q)
{
        struct queue_private *qp = queue_priv(q);
        size_t i;

        for (i = 0; i < qp->open.committing.n; i++)
                free(qp->open.committing.v[i]);
        for (i = 0; i < qp->syncing.committing.n; i++)
                free(qp->syncing.committing.v[i]);
        qready_each(&q->ready, queue_free_ready, NULL);
        for (i = 0; i < q->delayed.n; i++)
                free(q->delayed.v[i]);
        tdestroy(q->by_id, queue_free_msg);
        qready_free(&q->ready);
        heap_free(&q->delayed);
        heap_free(&q->reserved);
        free(qp->open.committing.v);
        free(qp->open.acking.v);
        free(qp->syncing.committing.v);
        free(qp->syncing.acking.v);
        event_free(q->delay_timer);
        event_free(q->visibility_timer);
        free(q->config_fp);
        free(q->name);
        free(q);
}

void
queue_table_free(struct queue_table *qt)
{
        struct queue *q;

        while ((q = TAILQ_FIRST(&qt->queues)) != NULL) {
                TAILQ_REMOVE(&qt->queues, q, entry);
                queue_log_free(q->log);
                queue_free(q);
        }
        free(qt);
}

/* The directory of durable queues' logs, created on first use. */
int
queue_dir(struct queue_table *qt, char *buf, size_t len, bool create, char **cause)
{
        const char *state = qt->daemon->config.state_dir;

        if ((size_t)snprintf(buf, len, "%s/queues", state) >= len) {
                xasprintf(cause, "state directory path too long: %s", state);
                return -1;
        }
        if (!create)
                return 0;
        if ((mkdir(state, 0700) == -1 && errno != EEXIST) ||
            (mkdir(buf, 0700) == -1 && errno != EEXIST)) {
                xasprintf(cause, "cannot create %s: %s", buf, strerror(errno));
                return -1;
        }
        return 0;
}

static void
queue_config_from(struct queue_config *c, const struct proto_p_queue_create *pc)
{
        memset(c, 0, sizeof *c);
        c->maxsize = pc->maxsize;
        c->max_bytes = pc->max_bytes;
        c->durable = pc->durable;
        c->fsync = (enum queue_fsync)pc->fsync;
        c->visibility_timeout = pc->has_visibility_timeout ? pc->visibility_timeout : 30;
        c->max_attempts = (unsigned)pc->max_attempts;
        if (pc->dead_letter != NULL)
                snprintf(c->dead_letter, sizeof c->dead_letter, "%s", pc->dead_letter);
}

struct queue *
queue_create(struct queue_table *qt, const struct proto_p_queue_create *pc, struct proto_error *err)
{
        struct queue_config cfg;
        struct queue *q;
        char dir[PATH_MAX], *cause = NULL;

        if (queue_find(qt, pc->name) != NULL) {
                proto_error_set(err, PROTO_E_EXISTS, "name", "a queue named '%s' exists", pc->name);
                return NULL;
        }
        if (pc->dead_letter != NULL && strcmp(pc->dead_letter, pc->name) == 0) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "dead_letter",
                                "a queue cannot be its own dead letter queue");
                return NULL;
        }
        if (pc->dead_letter != NULL && queue_find(qt, pc->dead_letter) == NULL) {
                proto_error_set(err, PROTO_E_NOT_FOUND, "dead_letter",
                                "no queue named '%s' (create the dead letter queue first)",
                                pc->dead_letter);
                return NULL;
        }
        queue_config_from(&cfg, pc);
        q = queue_alloc(qt, pc->name, &cfg);
        if (cfg.durable) {
                if (queue_dir(qt, dir, sizeof dir, true, &cause) != 0 ||
                    (q->log = queue_log_create(qt->daemon->base, qt->daemon->syncer, q, dir,
                                               &cause)) == NULL) {
                        proto_error_set(err, PROTO_E_IO_ERROR, "durable", "%s", cause);
                        free(cause);
                        TAILQ_REMOVE(&qt->queues, q, entry);
                        qt->count--;
                        queue_free(q);
                        return NULL;
                }
        }
        q->consumers = pool_table_consumers(qt->daemon->pools, q->name);
        log_info("queue %s created%s", q->name, cfg.durable ? " (durable)" : "");
        return q;
}

struct qmsg *
qmsg_new(uint64_t id, const void *data, size_t len)
{
        struct qmsg *m = xmalloc(sizeof *m + len);

        memset(m, 0, sizeof *m);
        m->id = id;
        m->len = (uint32_t)len;
        memcpy(m->data, data, len);
        return m;
}

void
queue_index(struct queue *q, struct qmsg *m)
{
        if (tsearch(m, &q->by_id, qmsg_cmp_id) == NULL)
                fatalx("out of memory indexing a message");
        m->indexed = true;
}

void
queue_unindex(struct queue *q, struct qmsg *m)
{
        if (!m->indexed)
                return;
        tdelete(m, &q->by_id, qmsg_cmp_id);
        m->indexed = false;
}

struct qmsg *
queue_lookup(struct queue *q, uint64_t id)
{
        struct qmsg key = {.id = id};
        void *node = tfind(&key, &q->by_id, qmsg_cmp_id);

        return node != NULL ? *(struct qmsg **)node : NULL;
}

/* Make m visible now, or at when (monotonic). */
void
queue_place(struct queue *q, struct qmsg *m, double delay)
{
        if (delay > 0) {
                m->where = QMSG_DELAYED;
                m->when = queue_mono() + delay;
                m->visible_wall = process_now() + delay;
                heap_push(&q->delayed, m);
        } else {
                m->where = QMSG_READY;
                m->visible_wall = 0;
                qready_push(&q->ready, m);
                if (q->consumers > 0)
                        pool_table_queue_ready(q->table->daemon->pools, q->name);
                queue_wake_list(&q->ready_waiters);
        }
}

/* Forget m entirely (acked, purged, dead-lettered): room for waiting putters. */
void
queue_drop(struct queue *q, struct qmsg *m)
{
        queue_unindex(q, m);
        q->count--;
        q->bytes -= m->len;
        free(m);
}

static void
queue_timer_arm(struct queue *q, struct event *ev, struct heap *h)
{
        struct qmsg *m = heap_top(h);
        double secs;

        if (m == NULL) {
                evtimer_del(ev);
                return;
        }
        secs = m->when - queue_mono();
        if (secs > 1e9) { /* a job's reservation: its end settles it, no timer */
                evtimer_del(ev);
                return;
        }
        timer_arm(ev, secs);
}

void
queue_arm_timers(struct queue *q)
{
        queue_timer_arm(q, q->delay_timer, &q->delayed);
        queue_timer_arm(q, q->visibility_timer, &q->reserved);
}

static void
queue_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        struct queue *q = arg;
        double now = queue_mono();
        struct qmsg *m;

        while ((m = heap_top(&q->delayed)) != NULL && m->when <= now) {
                heap_remove(&q->delayed, m);
                queue_place(q, m, 0);
        }
        while ((m = heap_top(&q->reserved)) != NULL && m->when <= now)
                queue_return(q, m, 0, true);
        if (q->log != NULL && queue_log_pending(q->log))
                queue_log_commit(q->log);
        queue_arm_timers(q);
        queue_serve(q);
}

uint64_t
queue_purge(struct queue *q)
{
        uint64_t n = 0;
        struct qmsg *m;

        while ((m = qready_pop(&q->ready)) != NULL || (m = heap_pop(&q->delayed)) != NULL) {
                if (q->log != NULL)
                        queue_log_ack(q->log, m->id, false);
                queue_drop(q, m);
                n++;
        }
        if (q->log != NULL && queue_log_pending(q->log))
                queue_log_commit(q->log);
        queue_arm_timers(q);
        queue_admit(q);
        return n;
}

/* Answer every request parked on q with an error: the queue is going away. */
static void
queue_fail_waiters(struct request_waitq *wq, const char *name)
{
        struct request *req;

        while ((req = TAILQ_FIRST(wq)) != NULL) {
                request_unpark(req);
                request_error(req, PROTO_E_NOT_FOUND, "queue", "queue %s was deleted", name);
        }
}

void
queue_delete(struct queue *q)
{
        struct queue_table *qt = q->table;
        struct queue_private *qp = queue_priv(q);
        struct qmsg *m;

        /* Settle the log's batches first, so their waiters get their answers. */
        if (q->log != NULL) {
                queue_log_settle(q->log);
                if (qp->open.committing.n > 0 || qp->open.acking.n > 0) {
                        bool ok = queue_log_flush_now(q->log) == 0;

                        queue_log_done(q, false, ok, ok ? 0 : errno);
                }
        }
        queue_fail_waiters(&q->getters, q->name);
        queue_fail_waiters(&q->putters, q->name);

        while ((m = heap_pop(&q->reserved)) != NULL) {
                if (m->holder != NULL)
                        conn_reservations_add(m->holder, -1);
                m->holder = NULL;
        }
        TAILQ_REMOVE(&qt->queues, q, entry);
        qt->count--;
        /* Off the table first: whoever waits for room or messages now finds it gone. */
        queue_wake_list(&q->room_waiters);
        queue_wake_list(&q->ready_waiters);
        if (q->log != NULL)
                queue_log_remove(q->log);
        log_info("queue %s deleted", q->name);
        queue_free(q);
}

struct queue_visit {
        void (*fn)(const struct qmsg *, void *);
        void *arg;
};

static void
queue_visit_ready(struct qmsg *m, void *arg)
{
        struct queue_visit *v = arg;

        v->fn(m, v->arg);
}

void
queue_for_each(struct queue *q, void (*fn)(const struct qmsg *, void *), void *arg)
{
        struct queue_private *qp = queue_priv(q);
        const struct heap *heaps[] = {&q->delayed, &q->reserved};
        struct queue_visit v = {fn, arg};
        size_t h, i;

        qready_each(&q->ready, queue_visit_ready, &v);
        for (h = 0; h < sizeof heaps / sizeof heaps[0]; h++)
                for (i = 0; i < heaps[h]->n; i++)
                        fn(heaps[h]->v[i], arg);
        for (i = 0; i < qp->open.acking.n; i++)
                fn(qp->open.acking.v[i], arg);
        for (i = 0; i < qp->syncing.acking.n; i++)
                fn(qp->syncing.acking.v[i], arg);
}

static void
queue_visit_replayed(const void *node, VISIT which, void *closure)
{
        struct qmsg *m = *(struct qmsg *const *)node;
        double delay;

        if (which != postorder && which != leaf)
                return;
        /* Reservations do not survive a restart: every message is ready or delayed. */
        m->indexed = false;
        delay = m->visible_wall > 0 ? m->visible_wall - process_now() : 0;
        queue_place(closure, m, delay > 0 ? delay : 0);
}

void
queue_replay_done(struct queue *q)
{
        /* In id order, so that equal priorities come out oldest first. */
        twalk_r(q->by_id, queue_visit_replayed, q);
        tdestroy(q->by_id, queue_noop);
        q->by_id = NULL;
}

void
queue_pack_info(const struct queue *q, msgpack_packer *pk)
{
        static const char *const fsync_names[] = {"batch", "always", "never"};
        unsigned getters = 0, putters = 0;
        const struct request *r;

        TAILQ_FOREACH(r, &q->getters, wait_entry)
        getters++;
        TAILQ_FOREACH(r, &q->putters, wait_entry)
        putters++;
        msgpack_pack_map(pk, 21);
        proto_pack_kv_str(pk, "name", q->name);
        proto_pack_kv_bool(pk, "durable", q->cfg.durable);
        proto_pack_kv_str(pk, "fsync", fsync_names[q->cfg.fsync]);
        proto_pack_kv_uint(pk, "maxsize", q->cfg.maxsize);
        proto_pack_kv_uint(pk, "max_bytes", q->cfg.max_bytes);
        proto_pack_kv_double(pk, "visibility_timeout", q->cfg.visibility_timeout);
        proto_pack_kv_uint(pk, "max_attempts", q->cfg.max_attempts);
        if (q->cfg.dead_letter[0])
                proto_pack_kv_str(pk, "dead_letter", q->cfg.dead_letter);
        else
                proto_pack_kv_nil(pk, "dead_letter");
        proto_pack_kv_uint(pk, "count", q->count);
        proto_pack_kv_uint(pk, "ready", qready_count(&q->ready));
        proto_pack_kv_uint(pk, "reserved", q->reserved.n);
        proto_pack_kv_uint(pk, "delayed", q->delayed.n);
        proto_pack_kv_uint(pk, "bytes", q->bytes);
        proto_pack_kv_uint(pk, "getters", getters);
        proto_pack_kv_uint(pk, "putters", putters);
        proto_pack_kv_uint(pk, "total_put", q->total_put);
        proto_pack_kv_uint(pk, "total_got", q->total_got);
        proto_pack_kv_uint(pk, "total_acked", q->total_acked);
        proto_pack_kv_uint(pk, "total_expired", q->total_expired);
        proto_pack_kv_uint(pk, "total_dead_lettered", q->total_dead);
        proto_pack_kv_uint(pk, "log_bytes", q->log != NULL ? queue_log_size(q->log) : 0);
}
