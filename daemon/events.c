/*
 * events.c -- fan-out of events to subscribed connections. Each event is
 * packed once and written to every subscriber whose filter matches; the
 * connection layer bounds what a slow subscriber may queue.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "pool.h"
#include "process-table.h"
#include "process.h"
#include "queue.h"
#include "strv.h"
#include "xmalloc.h"

struct subscriber {
        struct conn *conn;
        char **pools; /* NULL: all */
        char **types; /* NULL: all */
        TAILQ_ENTRY(subscriber) entry;
};

struct events {
        struct corrald *daemon;
        TAILQ_HEAD(, subscriber) subs;
        unsigned count;
        msgpack_sbuffer buf;
        msgpack_packer pk;
};

static const char *const events_types[] = {
    "process.state", "process.start_limit", "pool.created", "pool.scaled", "pool.closed",
    "pool.joined",   "pool.restarted",      "pool.deleted", "queue.full",  "queue.dead_lettered",
};

bool
events_type_valid(const char *type)
{
        size_t i;

        for (i = 0; i < sizeof events_types / sizeof events_types[0]; i++) {
                if (strcmp(type, events_types[i]) == 0)
                        return true;
        }
        return false;
}

struct events *
events_new(struct corrald *d)
{
        struct events *ev = xcalloc(1, sizeof *ev);

        ev->daemon = d;
        TAILQ_INIT(&ev->subs);
        msgpack_sbuffer_init(&ev->buf);
        msgpack_packer_init(&ev->pk, &ev->buf, msgpack_sbuffer_write);
        return ev;
}

static void
subscriber_free(struct subscriber *s)
{
        strv_free(s->pools);
        strv_free(s->types);
        free(s);
}

void
events_free(struct events *ev)
{
        struct subscriber *s;

        if (ev == NULL)
                return;
        while ((s = TAILQ_FIRST(&ev->subs)) != NULL) {
                TAILQ_REMOVE(&ev->subs, s, entry);
                subscriber_free(s);
        }
        msgpack_sbuffer_destroy(&ev->buf);
        free(ev);
}

void
events_subscribe(struct events *ev, struct conn *c, const char *const *pools,
                 const char *const *types)
{
        struct subscriber *s;

        /* A second subscribe replaces the first filter. */
        events_unsubscribe(ev, c);
        s = xcalloc(1, sizeof *s);
        s->conn = c;
        s->pools = strv_copy(pools, (size_t)-1);
        s->types = strv_copy(types, (size_t)-1);
        TAILQ_INSERT_TAIL(&ev->subs, s, entry);
        ev->count++;
        conn_set_subscribed(c, true);
}

void
events_unsubscribe(struct events *ev, struct conn *c)
{
        struct subscriber *s;

        TAILQ_FOREACH(s, &ev->subs, entry)
        {
                if (s->conn == c) {
                        TAILQ_REMOVE(&ev->subs, s, entry);
                        ev->count--;
                        subscriber_free(s);
                        return;
                }
        }
}

unsigned
events_subscribers(const struct events *ev)
{
        return ev->count;
}

static bool
events_in(char *const *list, const char *s)
{
        if (list == NULL)
                return true;
        for (; *list != NULL; list++) {
                if (strcmp(*list, s) == 0)
                        return true;
        }
        return false;
}

static bool
events_wanted(const struct events *ev, const char *type, const char *pool)
{
        const struct subscriber *s;

        TAILQ_FOREACH(s, &ev->subs, entry)
        {
                if (events_in(s->types, type) && (pool == NULL || events_in(s->pools, pool)))
                        return true;
        }
        return false;
}

/* Start packing one event: [2, "event", [{type, ts, ... (npairs more)}]]. */
static msgpack_packer *
events_begin(struct events *ev, const char *type, unsigned npairs)
{
        msgpack_sbuffer_clear(&ev->buf);
        proto_pack_notification_head(&ev->pk, "event");
        msgpack_pack_array(&ev->pk, 1);
        msgpack_pack_map(&ev->pk, 2 + npairs);
        proto_pack_kv_str(&ev->pk, "type", type);
        proto_pack_kv_double(&ev->pk, "ts", process_now());
        return &ev->pk;
}

/* Send to the subscribers that want it and whose grant covers its pool or queue. */
static void
events_send(struct events *ev, const char *type, const char *pool, const char *queue)
{
        struct subscriber *s, *next;

        for (s = TAILQ_FIRST(&ev->subs); s != NULL; s = next) {
                next = TAILQ_NEXT(s, entry);
                if (!events_in(s->types, type))
                        continue;
                if (pool != NULL &&
                    (!events_in(s->pools, pool) || !access_sees_pool(s->conn, pool)))
                        continue;
                if (queue != NULL && !access_sees_queue(s->conn, queue))
                        continue;
                conn_write_event(s->conn, ev->buf.data, ev->buf.size);
        }
}

void
events_process_state(struct corrald *d, const struct process *p, enum process_state from)
{
        struct events *ev = d->events;
        msgpack_packer *pk;

        if (ev == NULL || ev->count == 0 || !events_wanted(ev, "process.state", p->pool_name))
                return;
        pk = events_begin(ev, "process.state", 10);
        proto_pack_kv_uint(pk, "id", p->id);
        proto_pack_kv_str(pk, "name", p->name);
        proto_pack_kv_str(pk, "pool", p->pool_name);
        proto_pack_kv_str(pk, "from", process_state_name(from));
        proto_pack_kv_str(pk, "to", process_state_name(p->state));
        proto_pack_kv_uint(pk, "pid", (uint64_t)p->pid);
        proto_pack_kv_uint(pk, "restarts", p->restarts);
        if (p->has_ended_once && p->exit_code >= 0)
                proto_pack_kv_int(pk, "exit_code", p->exit_code);
        else
                proto_pack_kv_nil(pk, "exit_code");
        if (p->has_ended_once && p->term_signal > 0)
                proto_pack_kv_str(pk, "signal", proto_signal_name(p->term_signal));
        else
                proto_pack_kv_nil(pk, "signal");
        if (p->reason != NULL)
                proto_pack_kv_str(pk, "reason", p->reason);
        else
                proto_pack_kv_nil(pk, "reason");
        events_send(ev, "process.state", p->pool_name, NULL);
}

void
events_process_start_limit(struct corrald *d, const struct process *p)
{
        struct events *ev = d->events;
        msgpack_packer *pk;

        if (ev == NULL || ev->count == 0 || !events_wanted(ev, "process.start_limit", p->pool_name))
                return;
        pk = events_begin(ev, "process.start_limit", 5);
        proto_pack_kv_uint(pk, "id", p->id);
        proto_pack_kv_str(pk, "name", p->name);
        proto_pack_kv_str(pk, "pool", p->pool_name);
        proto_pack_kv_uint(pk, "restarts", p->restarts);
        proto_pack_kv_double(pk, "retry_after", p->policy.failed_retry_after);
        events_send(ev, "process.start_limit", p->pool_name, NULL);
}

void
events_pool(struct corrald *d, const struct pool *pool, const char *type)
{
        struct events *ev = d->events;
        msgpack_packer *pk;

        if (ev == NULL || ev->count == 0 || !events_wanted(ev, type, pool->name))
                return;
        pk = events_begin(ev, type, 4);
        proto_pack_kv_str(pk, "pool", pool->name);
        proto_pack_kv_uint(pk, "size", pool->size);
        proto_pack_kv_uint(pk, "replicas", pool->has_replicas ? pool->replicas.count : 0);
        proto_pack_kv_bool(pk, "closed", pool->closed);
        events_send(ev, type, pool->name, NULL);
}

void
events_queue(struct corrald *d, const struct queue *q, const char *type, uint64_t msg_id)
{
        struct events *ev = d->events;
        msgpack_packer *pk;

        if (ev == NULL || ev->count == 0 || !events_wanted(ev, type, NULL))
                return;
        pk = events_begin(ev, type, 4);
        proto_pack_kv_str(pk, "queue", q->name);
        proto_pack_kv_uint(pk, "count", q->count);
        proto_pack_kv_uint(pk, "bytes", q->bytes);
        if (msg_id != 0)
                proto_pack_kv_uint(pk, "msg_id", msg_id);
        else
                proto_pack_kv_nil(pk, "msg_id");
        events_send(ev, type, NULL, q->name);
}
