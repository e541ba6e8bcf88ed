/*
 * qready.c -- a queue's ready messages in delivery order. See qready.h.
 */
#include <search.h>
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "qready.h"
#include "queue.h"
#include "xmalloc.h"

/* Empty levels kept for their next message; beyond, the oldest is freed. */
#define QREADY_PARKED_MAX 8

struct qlevel {
        int32_t priority;
        size_t hidx;              /* in levels, while it has messages */
        struct qmsg *head, *tail; /* the FIFO, in id order (linked by qmsg.next) */
        struct heap older;        /* by id: messages older than the tail when they came */
        size_t n;
        TAILQ_ENTRY(qlevel) park_entry; /* while empty */
};

static int
qlevel_cmp(const void *a, const void *b)
{
        const struct qlevel *x = a, *y = b;

        return x->priority < y->priority ? -1 : x->priority > y->priority;
}

static int
qmsg_cmp_id(const void *a, const void *b)
{
        const struct qmsg *x = a, *y = b;

        return x->id < y->id ? -1 : x->id > y->id;
}

void
qready_init(struct qready *r)
{
        heap_init(&r->levels, qlevel_cmp, offsetof(struct qlevel, hidx));
        r->by_priority = NULL;
        TAILQ_INIT(&r->parked);
        r->nparked = 0;
        r->last = NULL;
        r->n = 0;
}

static void
qlevel_free(void *p)
{
        struct qlevel *l = p;

        heap_free(&l->older);
        free(l);
}

void
qready_free(struct qready *r)
{
        tdestroy(r->by_priority, qlevel_free);
        r->by_priority = NULL;
        heap_free(&r->levels);
        TAILQ_INIT(&r->parked);
        r->nparked = 0;
        r->last = NULL;
        r->n = 0;
}

static struct qlevel *
qlevel_find(struct qready *r, int32_t priority)
{
        struct qlevel key = {.priority = priority}, *l;
        void *node;

        if (r->last != NULL && r->last->priority == priority)
                return r->last;
        if ((node = tfind(&key, &r->by_priority, qlevel_cmp)) != NULL)
                return *(struct qlevel **)node;
        l = xcalloc(1, sizeof *l);
        l->priority = priority;
        heap_init(&l->older, qmsg_cmp_id, offsetof(struct qmsg, hidx));
        if (tsearch(l, &r->by_priority, qlevel_cmp) == NULL)
                fatalx("out of memory indexing a priority");
        /* Born empty: parked until its first message. */
        TAILQ_INSERT_TAIL(&r->parked, l, park_entry);
        r->nparked++;
        return l;
}

void
qready_push(struct qready *r, struct qmsg *m)
{
        struct qlevel *l = qlevel_find(r, m->priority);

        if (l->n == 0) {
                TAILQ_REMOVE(&r->parked, l, park_entry);
                r->nparked--;
                heap_push(&r->levels, l);
        }
        if (l->tail == NULL || m->id > l->tail->id) {
                m->next = NULL;
                if (l->tail != NULL)
                        l->tail->next = m;
                else
                        l->head = m;
                l->tail = m;
        } else
                heap_push(&l->older, m); /* came back: older than what followed it */
        l->n++;
        r->n++;
        r->last = l;
}

static struct qmsg *
qlevel_top(const struct qlevel *l)
{
        struct qmsg *o = heap_top(&l->older);

        if (l->head == NULL || (o != NULL && o->id < l->head->id))
                return o;
        return l->head;
}

struct qmsg *
qready_top(const struct qready *r)
{
        const struct qlevel *l = heap_top(&r->levels);

        return l != NULL ? qlevel_top(l) : NULL;
}

/* An emptied level leaves the order; the oldest parked beyond the bound is freed. */
static void
qlevel_park(struct qready *r, struct qlevel *l)
{
        struct qlevel *old;

        heap_remove(&r->levels, l);
        TAILQ_INSERT_TAIL(&r->parked, l, park_entry);
        if (++r->nparked <= QREADY_PARKED_MAX)
                return;
        old = TAILQ_FIRST(&r->parked);
        TAILQ_REMOVE(&r->parked, old, park_entry);
        r->nparked--;
        tdelete(old, &r->by_priority, qlevel_cmp);
        if (r->last == old)
                r->last = NULL;
        qlevel_free(old);
}

struct qmsg *
qready_pop(struct qready *r)
{
        struct qlevel *l = heap_top(&r->levels);
        struct qmsg *m;

        if (l == NULL)
                return NULL;
        m = qlevel_top(l);
        if (m == l->head) {
                l->head = m->next;
                if (l->head == NULL)
                        l->tail = NULL;
        } else
                heap_remove(&l->older, m);
        m->hidx = 0;
        l->n--;
        r->n--;
        if (l->n == 0)
                qlevel_park(r, l);
        return m;
}

size_t
qready_count(const struct qready *r)
{
        return r->n;
}

void
qready_each(const struct qready *r, void (*fn)(struct qmsg *, void *), void *arg)
{
        size_t i, j;

        for (i = 0; i < r->levels.n; i++) {
                const struct qlevel *l = r->levels.v[i];
                struct qmsg *m, *next;

                for (m = l->head; m != NULL; m = next) {
                        next = m->next; /* fn may free m */
                        fn(m, arg);
                }
                for (j = 0; j < l->older.n; j++)
                        fn(l->older.v[j], arg);
        }
}
