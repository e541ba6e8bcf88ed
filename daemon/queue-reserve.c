/*
 * queue-reserve.c -- reliable delivery: who holds a reservation, ack (on
 * disk before the answer for a durable queue), nack, touch, expiry and
 * release when a holder goes away, dead letters, and the answers that
 * wait for the log.
 */
#include <errno.h>
#include <stdlib.h>
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

/* Who holds a reservation made on conn: its supervised process if it is one. */
void
queue_set_holder(struct queue *q, struct qmsg *m, struct conn *c)
{
        struct corrald *d = q->table->daemon;
        pid_t pid = c != NULL ? conn_peer_pid(c) : 0;
        struct process *p = NULL;

        m->holder = NULL;
        m->holder_process = 0;
        if (pid > 0) {
                pid_t pgid = getpgid(pid);

                p = process_find_pid(d->processes, pid);
                if (p == NULL && pgid > 0)
                        p = process_find_pid(d->processes, pgid);
        }
        if (p != NULL)
                m->holder_process = p->id;
        else {
                m->holder = c;
                conn_reservations_add(c, 1);
        }
}

/* Move m to the dead letter queue, or drop it with an event. */
static void
queue_dead_letter(struct queue *q, struct qmsg *m)
{
        struct queue *dl = q->cfg.dead_letter[0] ? queue_find(q->table, q->cfg.dead_letter) : NULL;
        struct corrald *d = q->table->daemon;
        uint64_t id = m->id;

        q->total_dead++;
        /* A dead letter queue out of ids (see queue.h) takes nothing: dropped. */
        if (dl != NULL && dl->next_id < QUEUE_ID_END) {
                struct qmsg *n = qmsg_new(dl->next_id++, m->data, m->len);

                n->priority = m->priority; /* a fresh start there: its own max_attempts apply */
                dl->count++;
                dl->bytes += n->len;
                dl->total_put++;
                queue_place(dl, n, 0);
                /* The copy is on disk before the original goes: at worst a duplicate. */
                if (dl->log != NULL) {
                        queue_log_put(dl->log, n);
                        if (queue_log_flush_now(dl->log) != 0)
                                log_error("queue %s: dead letter from %s not written: %s", dl->name,
                                          q->name, strerror(errno));
                }
                queue_serve(dl);
                log_info("queue %s: message %llu dead-lettered to %s after %u attempts", q->name,
                         (unsigned long long)id, dl->name, m->attempts);
        } else
                log_warn("queue %s: message %llu dropped after %u attempts (no dead letter "
                         "queue)",
                         q->name, (unsigned long long)id, m->attempts);
        if (q->log != NULL)
                queue_log_ack(q->log, id, false);
        queue_drop(q, m);
        /* After the drop, so that its counts are the queue's new ones. */
        events_queue(d, q, "queue.dead_lettered", id);
}

/* A reservation ends without an ack: back to the queue, or to the dead letters. */
void
queue_return(struct queue *q, struct qmsg *m, double delay, bool expired)
{
        heap_remove(&q->reserved, m);
        queue_unindex(q, m);
        if (m->holder != NULL)
                conn_reservations_add(m->holder, -1);
        m->holder = NULL;
        m->holder_process = 0;
        if (expired)
                q->total_expired++;
        if (q->cfg.max_attempts != 0 && m->attempts >= q->cfg.max_attempts) {
                queue_dead_letter(q, m);
                queue_admit(q);
                return;
        }
        queue_place(q, m, delay);
        if (delay > 0 && q->log != NULL)
                queue_log_delay(q->log, m->id, m->visible_wall);
}

/* The reserved message msg_id, or NULL with req answered. */
static struct qmsg *
queue_reserved(struct queue *q, struct request *req, uint64_t id)
{
        struct qmsg *m = queue_lookup(q, id);

        if (m == NULL || m->where != QMSG_RESERVED) {
                request_error(req, PROTO_E_NOT_FOUND, "msg_id",
                              "message %llu is not reserved in queue %s (acked, expired or never "
                              "delivered with ack)",
                              (unsigned long long)id, q->name);
                return NULL;
        }
        return m;
}

/* Remove a reserved message for good; durable: once the ack is on disk. False if it waits. */
static bool
queue_ack_msg(struct queue *q, struct qmsg *m)
{
        heap_remove(&q->reserved, m);
        if (m->holder != NULL)
                conn_reservations_add(m->holder, -1);
        m->holder = NULL;
        q->total_acked++;
        if (q->log == NULL) {
                queue_drop(q, m);
                queue_arm_timers(q);
                queue_admit(q);
                return true;
        }
        /* Durable: done once the ack is on disk, so an acked message never comes back. */
        m->where = QMSG_ACKING;
        queue_log_ack(q->log, m->id, true);
        qpending_add(&queue_priv(q)->open.acking, m);
        return false;
}

void
queue_ack(struct queue *q, struct request *req, uint64_t id)
{
        struct qmsg *m = queue_reserved(q, req, id);

        if (m == NULL)
                return;
        if (queue_ack_msg(q, m)) {
                request_ok(req);
                return;
        }
        req->data = NULL;
        request_hold(req, &queue_priv(q)->open.waiters);
        queue_log_commit(q->log);
        queue_arm_timers(q);
}

/* A job's reservation: far beyond any timer, so only the job's end settles it. */
#define QUEUE_JOB_DEADLINE 1e15

struct qmsg *
queue_take(struct queue *q)
{
        struct qmsg *m = qready_pop(&q->ready);

        if (m == NULL)
                return NULL;
        m->attempts++;
        q->total_got++;
        m->where = QMSG_RESERVED;
        m->when = QUEUE_JOB_DEADLINE;
        m->holder = NULL;
        m->holder_process = 0;
        heap_push(&q->reserved, m);
        queue_index(q, m);
        if (q->log != NULL) {
                queue_log_attempt(q->log, m->id, m->attempts);
                queue_log_commit(q->log);
        }
        return m;
}

void
queue_settle(struct queue *q, uint64_t id, bool success, double delay)
{
        struct qmsg *m = queue_lookup(q, id);

        if (m == NULL || m->where != QMSG_RESERVED)
                return;
        if (success) {
                if (!queue_ack_msg(q, m))
                        queue_log_commit(q->log);
                return;
        }
        queue_return(q, m, delay, false);
        if (q->log != NULL && queue_log_pending(q->log))
                queue_log_commit(q->log);
        queue_arm_timers(q);
        queue_serve(q);
}

void
queue_nack(struct queue *q, struct request *req, uint64_t id, double delay)
{
        struct qmsg *m = queue_reserved(q, req, id);

        if (m == NULL)
                return;
        queue_return(q, m, delay, false);
        request_ok(req);
        if (q->log != NULL && queue_log_pending(q->log))
                queue_log_commit(q->log);
        queue_arm_timers(q);
        queue_serve(q);
}

void
queue_touch(struct queue *q, struct request *req, uint64_t id)
{
        struct qmsg *m = queue_reserved(q, req, id);
        msgpack_packer *pk;

        if (m == NULL)
                return;
        m->when = queue_mono() + q->cfg.visibility_timeout;
        heap_update(&q->reserved, m);
        queue_arm_timers(q);
        pk = request_result(req);
        msgpack_pack_map(pk, 1);
        proto_pack_kv_double(pk, "visibility_timeout", q->cfg.visibility_timeout);
        request_done(req);
}

void
queue_log_seal(struct queue *q)
{
        struct queue_private *qp = queue_priv(q);
        struct queue_pending tmp;
        struct request *req;

        /* The syncing batch is empty: one fdatasync at a time per log. */
        tmp = qp->syncing.committing;
        qp->syncing.committing = qp->open.committing;
        qp->open.committing = tmp;
        tmp = qp->syncing.acking;
        qp->syncing.acking = qp->open.acking;
        qp->open.acking = tmp;
        /* Moved one by one: each request knows the list it waits on. */
        while ((req = TAILQ_FIRST(&qp->open.waiters)) != NULL) {
                TAILQ_REMOVE(&qp->open.waiters, req, wait_entry);
                TAILQ_INSERT_TAIL(&qp->syncing.waiters, req, wait_entry);
                req->waitq = &qp->syncing.waiters;
        }
}

void
queue_log_done(struct queue *q, bool sealed, bool ok, int error)
{
        struct queue_private *qp = queue_priv(q);
        struct queue_batch *b = sealed ? &qp->syncing : &qp->open;
        struct corrald *d = q->table->daemon;
        struct request *req;
        size_t i;

        /* One write per client for the whole batch of answers. */
        conn_batch_begin(d);
        for (i = 0; i < b->committing.n; i++) {
                struct qmsg *m = b->committing.v[i];

                if (ok) {
                        double delay = m->when;

                        queue_place(q, m, delay);
                } else {
                        q->count--;
                        q->bytes -= m->len;
                        q->total_put--;
                        free(m);
                }
        }
        for (i = 0; i < b->acking.n; i++) {
                struct qmsg *m = b->acking.v[i];

                if (ok)
                        queue_drop(q, m);
                else {
                        /* Not on disk: it stays reserved, the ack failed. */
                        q->total_acked--;
                        m->where = QMSG_RESERVED;
                        heap_push(&q->reserved, m);
                }
        }
        b->committing.n = b->acking.n = 0;
        while ((req = TAILQ_FIRST(&b->waiters)) != NULL) {
                request_unpark(req);
                if (!ok)
                        request_error(req, PROTO_E_IO_ERROR, NULL,
                                      "queue %s: the log could not be written: %s", q->name,
                                      strerror(error));
                else if (req->data != NULL) {
                        msgpack_packer *pk = request_result(req);

                        msgpack_pack_map(pk, 1);
                        proto_pack_kv_uint(pk, "msg_id", (uint64_t)(uintptr_t)req->data);
                        request_done(req);
                } else
                        request_ok(req);
        }
        if (ok)
                queue_log_maybe_compact(q->log, q->bytes + q->count * 48);
        queue_arm_timers(q);
        queue_serve(q);
        queue_admit(q);
        conn_batch_end(d);
}

/* Release the reservations matching (conn, process id). */
static void
queue_release(struct queue *q, struct conn *c, uint64_t process_id)
{
        size_t i = 0;
        bool any = false;

        /* Walk the heap's array; a returned message leaves it, so do not advance then. */
        while (i < q->reserved.n) {
                struct qmsg *m = q->reserved.v[i];

                if ((c != NULL && m->holder == c) ||
                    (process_id != 0 && m->holder_process == process_id)) {
                        queue_return(q, m, 0, false);
                        any = true;
                        i = 0;
                        continue;
                }
                i++;
        }
        if (any) {
                if (q->log != NULL && queue_log_pending(q->log))
                        queue_log_commit(q->log);
                queue_arm_timers(q);
                queue_serve(q);
        }
}

void
queue_release_conn(struct queue_table *qt, struct conn *c)
{
        struct queue *q;

        if (conn_reservations(c) == 0)
                return;
        TAILQ_FOREACH(q, &qt->queues, entry)
        queue_release(q, c, 0);
}

void
queue_release_process(struct queue_table *qt, uint64_t process_id)
{
        struct queue *q;

        TAILQ_FOREACH(q, &qt->queues, entry)
        {
                if (q->reserved.n > 0)
                        queue_release(q, NULL, process_id);
        }
}
