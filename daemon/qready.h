/*
 * qready.h -- a queue's ready messages, in delivery order: the lowest
 * priority first, then the oldest (lowest id) first.
 *
 * Each priority is a level: a FIFO of messages in id order (a put is
 * always the newest, so it is appended in O(1) and a get takes the head
 * in O(1)), beside a small heap for the messages that come back older
 * than the FIFO's tail (nacked, expired, delayed); the level's next
 * message is the older of the two heads. Levels are found by priority
 * (the last one used first) and ordered in a heap of their own.
 */
#ifndef CORRAL_QREADY_H
#define CORRAL_QREADY_H

#include <stddef.h>
#include <sys/queue.h>

#include "heap.h"

struct qmsg;
struct qlevel;
TAILQ_HEAD(qlevel_list, qlevel);

struct qready {
        struct heap levels;        /* non-empty levels, by priority */
        void *by_priority;         /* tsearch of every level, empty ones included */
        struct qlevel_list parked; /* empty levels, kept a while for their next message */
        unsigned nparked;
        struct qlevel *last; /* the level of the last push */
        size_t n;            /* messages */
};

void qready_init(struct qready *);
/* Free the levels; the messages are the caller's (qready_each first). */
void qready_free(struct qready *);
void qready_push(struct qready *, struct qmsg *);
/* The next message to deliver, or NULL. */
struct qmsg *qready_top(const struct qready *);
/* Take the next message out; NULL if there is none. */
struct qmsg *qready_pop(struct qready *);
size_t qready_count(const struct qready *);
/* Every ready message, in no particular order. */
void qready_each(const struct qready *, void (*fn)(struct qmsg *, void *), void *arg);

#endif
