/*
 * queue-io.c -- putting and getting: back-pressure for putters when the
 * queue is full, first come first served for waiting getters, delivery
 * (a reservation with ack, a removal without), peek.
 */
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "process-table.h"
#include "process.h"
#include "queue-internal.h"
#include "queue-log.h"
#include "queue.h"

static bool
queue_has_room(const struct queue *q, size_t len)
{
        if (q->next_id >= QUEUE_ID_END) /* out of ids: see queue.h */
                return false;
        if (q->cfg.maxsize != 0 && q->count >= q->cfg.maxsize)
                return false;
        return q->cfg.max_bytes == 0 || q->bytes + len <= q->cfg.max_bytes;
}

/* Add a message for req's put. Durable: answered once logged. */
static void
queue_do_put(struct queue *q, struct request *req, const struct proto_p_queue_put *pp)
{
        struct qmsg *m = qmsg_new(q->next_id++, pp->data, pp->len);
        msgpack_packer *pk;

        m->priority = (int32_t)pp->priority;
        q->count++;
        q->bytes += m->len;
        q->total_put++;
        if (q->log != NULL) {
                /* Visible (and answered) only once the log holds it. */
                m->where = QMSG_COMMITTING;
                m->when = pp->delay; /* the delay, applied when committed */
                if (pp->delay > 0)
                        m->visible_wall = process_now() + pp->delay;
                queue_log_put(q->log, m);
                qpending_add(&queue_priv(q)->open.committing, m);
                req->data = (void *)(uintptr_t)m->id;
                request_hold(req, &queue_priv(q)->open.waiters);
                queue_log_commit(q->log);
                return;
        }
        queue_place(q, m, pp->delay);
        pk = request_result(req);
        msgpack_pack_map(pk, 1);
        proto_pack_kv_uint(pk, "msg_id", m->id);
        request_done(req);
        queue_arm_timers(q);
        queue_serve(q);
}

static void
queue_put_wake(struct request *req, void *arg)
{
        queue_do_put(arg, req, req->params);
}

static void
queue_put_expire(struct request *req)
{
        const struct proto_p_queue_put *pp = req->params;

        request_error(req, PROTO_E_FULL, "timeout", "queue %s is still full after %gs", pp->queue,
                      pp->timeout);
}

enum method_result
queue_put(struct queue *q, struct request *req, const struct proto_p_queue_put *pp)
{
        struct corrald *d = q->table->daemon;

        if (pp->len > d->config.queue_max_message) {
                request_error(req, PROTO_E_TOO_LARGE, "data",
                              "message of %zu bytes is larger than the limit of %zu", pp->len,
                              d->config.queue_max_message);
                return METHOD_DONE;
        }
        if (q->cfg.max_bytes != 0 && pp->len > q->cfg.max_bytes) {
                request_error(req, PROTO_E_TOO_LARGE, "data",
                              "message of %zu bytes can never fit queue %s (max_bytes %llu)",
                              pp->len, q->name, (unsigned long long)q->cfg.max_bytes);
                return METHOD_DONE;
        }
        /* Putters are served in order: nobody overtakes one already waiting. */
        if (TAILQ_EMPTY(&q->putters) && queue_has_room(q, pp->len)) {
                queue_do_put(q, req, pp);
                return METHOD_DONE;
        }
        events_queue(d, q, "queue.full", 0);
        if (pp->has_timeout && pp->timeout == 0) {
                request_error(req, PROTO_E_FULL, NULL,
                              "queue %s is full (%llu messages, %llu bytes)", q->name,
                              (unsigned long long)q->count, (unsigned long long)q->bytes);
                return METHOD_DONE;
        }
        if (request_park(req, &q->putters, pp->has_timeout ? pp->timeout : -1, queue_put_wake,
                         queue_put_expire) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

/* Let waiting putters in while there is room, oldest first. */
void
queue_admit(struct queue *q)
{
        struct request *req;

        while ((req = TAILQ_FIRST(&q->putters)) != NULL) {
                const struct proto_p_queue_put *pp = req->params;

                if (!queue_has_room(q, pp->len))
                        return;
                request_unpark(req);
                req->wake(req, q);
        }
        /* Then the daemon's own writers (output streams), if there is still room. */
        if (!TAILQ_EMPTY(&q->room_waiters) && queue_has_room(q, 0))
                queue_wake_list(&q->room_waiters);
}

void
queue_wake_list(struct queue_room_list *list)
{
        struct queue_room_list waiting = TAILQ_HEAD_INITIALIZER(waiting);
        struct queue_room_wait *w;

        TAILQ_CONCAT(&waiting, list, entry);
        while ((w = TAILQ_FIRST(&waiting)) != NULL) {
                TAILQ_REMOVE(&waiting, w, entry);
                w->fn(w->arg);
        }
}

void
queue_wait_ready(struct queue *q, struct queue_room_wait *w)
{
        TAILQ_INSERT_TAIL(&q->ready_waiters, w, entry);
}

/* Take w off a waiter list, if it is on it. */
static void
queue_waiter_remove(struct queue_room_list *list, struct queue_room_wait *w)
{
        struct queue_room_wait *x;

        TAILQ_FOREACH(x, list, entry)
        {
                if (x == w) {
                        TAILQ_REMOVE(list, w, entry);
                        return;
                }
        }
}

void
queue_cancel_ready(struct queue *q, struct queue_room_wait *w)
{
        queue_waiter_remove(&q->ready_waiters, w);
}

void
queue_wait_room(struct queue *q, struct queue_room_wait *w)
{
        TAILQ_INSERT_TAIL(&q->room_waiters, w, entry);
}

void
queue_cancel_room(struct queue *q, struct queue_room_wait *w)
{
        queue_waiter_remove(&q->room_waiters, w);
}

int
queue_put_internal(struct queue *q, const void *data, size_t len)
{
        struct qmsg *m;

        if (!TAILQ_EMPTY(&q->putters) || !queue_has_room(q, len))
                return -1;
        m = qmsg_new(q->next_id++, data, len);
        q->count++;
        q->bytes += m->len;
        q->total_put++;
        if (q->log != NULL) {
                /* Visible once logged, like any durable put; nobody waits for an answer. */
                m->where = QMSG_COMMITTING;
                m->when = 0;
                queue_log_put(q->log, m);
                qpending_add(&queue_priv(q)->open.committing, m);
                queue_log_commit(q->log);
                return 0;
        }
        queue_place(q, m, 0);
        queue_serve(q);
        return 0;
}

/* Hand m to a get request. */
static void
queue_deliver(struct queue *q, struct qmsg *m, struct request *req)
{
        const struct proto_p_queue_get *gp = req->params;
        msgpack_packer *pk;

        if (qready_pop(&q->ready) != m)
                fatalx("queue %s: delivering a message that is not the next", q->name);
        m->attempts++;
        q->total_got++;
        pk = request_result(req);
        msgpack_pack_map(pk, 4);
        proto_pack_kv_uint(pk, "msg_id", m->id);
        proto_pack_str(pk, "data");
        msgpack_pack_bin(pk, m->len);
        msgpack_pack_bin_body(pk, m->data, m->len);
        proto_pack_kv_uint(pk, "attempt", m->attempts);
        proto_pack_kv_int(pk, "priority", m->priority);
        if (gp->ack) {
                m->where = QMSG_RESERVED;
                m->when = queue_mono() + q->cfg.visibility_timeout;
                queue_set_holder(q, m, req->conn);
                heap_push(&q->reserved, m);
                queue_index(q, m);
                queue_arm_timers(q); /* its deadline may be the earliest now */
                if (q->log != NULL)
                        queue_log_attempt(q->log, m->id, m->attempts);
        } else {
                /* At least once: the delete may reach the disk after the answer. */
                if (q->log != NULL)
                        queue_log_ack(q->log, m->id, false);
                queue_drop(q, m);
                q->total_acked++;
        }
        request_done(req);
        if (q->log != NULL)
                queue_log_commit(q->log);
}

/* Serve waiting getters, first come first served, while messages are ready. */
void
queue_serve(struct queue *q)
{
        struct request *req;
        struct qmsg *m;
        bool dropped = false;

        while ((req = TAILQ_FIRST(&q->getters)) != NULL && (m = qready_top(&q->ready)) != NULL) {
                const struct proto_p_queue_get *gp = req->params;

                request_unpark(req);
                dropped |= !gp->ack;
                queue_deliver(q, m, req);
        }
        queue_arm_timers(q);
        if (dropped)
                queue_admit(q);
}

static void
queue_get_expire(struct request *req)
{
        const struct proto_p_queue_get *gp = req->params;

        request_error(req, PROTO_E_EMPTY, "timeout", "no message in queue %s within %gs", gp->queue,
                      gp->timeout);
}

static void
queue_get_wake(struct request *req, void *arg)
{
        /* Getters are served by queue_serve directly; a wake means the queue went away. */
        request_error(req, PROTO_E_NOT_FOUND, "queue", "queue was deleted");
}

enum method_result
queue_get(struct queue *q, struct request *req, const struct proto_p_queue_get *gp)
{
        struct qmsg *m;

        if (TAILQ_EMPTY(&q->getters) && (m = qready_top(&q->ready)) != NULL) {
                bool removed = !gp->ack; /* req (and gp with it) is gone once answered */

                queue_deliver(q, m, req);
                if (removed)
                        queue_admit(q);
                return METHOD_DONE;
        }
        if (gp->has_timeout && gp->timeout == 0) {
                request_error(req, PROTO_E_EMPTY, NULL, "queue %s has no ready message", q->name);
                return METHOD_DONE;
        }
        if (request_park(req, &q->getters, gp->has_timeout ? gp->timeout : -1, queue_get_wake,
                         queue_get_expire) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

void
queue_peek(struct queue *q, struct request *req)
{
        struct qmsg *m = qready_top(&q->ready);
        msgpack_packer *pk;

        if (m == NULL) {
                request_error(req, PROTO_E_EMPTY, NULL, "queue %s has no ready message", q->name);
                return;
        }
        pk = request_result(req);
        msgpack_pack_map(pk, 4);
        proto_pack_kv_uint(pk, "msg_id", m->id);
        proto_pack_str(pk, "data");
        msgpack_pack_bin(pk, m->len);
        msgpack_pack_bin_body(pk, m->data, m->len);
        proto_pack_kv_uint(pk, "attempt", m->attempts);
        proto_pack_kv_int(pk, "priority", m->priority);
        request_done(req);
}
