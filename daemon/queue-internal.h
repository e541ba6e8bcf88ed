/*
 * queue-internal.h -- what the queue files share: queue.c (table, life
 * cycle, message placement, timers), queue-io.c (put, get, peek),
 * queue-reserve.c (reservations, acks, dead letters, the log's answers)
 * and queue-restore.c (replay at start-up). Not for other modules.
 */
#ifndef CORRAL_QUEUE_INTERNAL_H
#define CORRAL_QUEUE_INTERNAL_H

#include "queue.h"

struct queue_table {
        struct corrald *daemon;
        struct queue_list queues;
        unsigned count;
};

/* What a queue waits on the log for: puts to make visible, acks to finish. */
struct queue_pending {
        struct qmsg **v;
        size_t n, cap;
};

/* One group commit: what waits on the log for the same fdatasync. */
struct queue_batch {
        struct queue_pending committing, acking; /* puts to make visible, acks to finish */
        struct request_waitq waiters;            /* answered once the batch is durable */
};

struct queue_private {
        struct queue_batch open;    /* records still being added */
        struct queue_batch syncing; /* written; its fdatasync under way off the loop */
};

/* The private part lives right after the public struct, in the same allocation. */
static inline struct queue_private *
queue_priv(struct queue *q)
{
        return (struct queue_private *)(q + 1);
}

void qpending_add(struct queue_pending *, struct qmsg *);
double queue_mono(void);
struct queue *queue_alloc(struct queue_table *, const char *name, const struct queue_config *);
void queue_free(struct queue *);
/* <state dir>/queues, created if asked. */
int queue_dir(struct queue_table *, char *buf, size_t len, bool create, char **cause);
struct qmsg *qmsg_new(uint64_t id, const void *data, size_t len);
void queue_index(struct queue *, struct qmsg *);
/* Only reserved and acking messages are indexed by id (and all while the log replays). */
void queue_unindex(struct queue *, struct qmsg *);
struct qmsg *queue_lookup(struct queue *, uint64_t id);
/* After the log's replay: place every message, oldest first, and drop the index. */
void queue_replay_done(struct queue *);
/* Make m visible now, or after delay seconds. */
void queue_place(struct queue *, struct qmsg *, double delay);
/* Forget m entirely (acked, purged, dead-lettered). */
void queue_drop(struct queue *, struct qmsg *);
void queue_arm_timers(struct queue *);
/* Serve waiting getters while messages are ready. */
void queue_serve(struct queue *);
/* Let waiting putters in while there is room. */
void queue_admit(struct queue *);
/* Call (and forget) every waiter of a list; they may wait again. */
void queue_wake_list(struct queue_room_list *);
/* Record who holds m's reservation: c's supervised process if it is one, else c. */
void queue_set_holder(struct queue *, struct qmsg *, struct conn *);
/* A reservation ended without an ack: back to the queue, or to the dead letters. */
void queue_return(struct queue *, struct qmsg *, double delay, bool expired);

#endif
