/* logring.c -- the bounded line buffer of a process's output. */
#include <stdlib.h>
#include <string.h>

#include "logring.h"
#include "xmalloc.h"

size_t
logline_cost(size_t len)
{
        return sizeof(struct logline) + len;
}

void
logring_init(struct logring *r, size_t cap)
{
        TAILQ_INIT(&r->lines);
        r->bytes = 0;
        r->cap = cap;
        r->lost = 0;
        r->next_seq = 1;
}

static void
logring_drop_oldest(struct logring *r)
{
        struct logline *l = TAILQ_FIRST(&r->lines);

        TAILQ_REMOVE(&r->lines, l, entry);
        r->bytes -= logline_cost(l->len);
        r->lost += l->len;
        free(l);
}

void
logring_clear(struct logring *r)
{
        struct logline *l;

        while ((l = TAILQ_FIRST(&r->lines)) != NULL) {
                TAILQ_REMOVE(&r->lines, l, entry);
                free(l);
        }
        r->bytes = 0;
}

struct logline *
logring_add(struct logring *r, enum log_stream stream, double ts, const char *data, size_t len)
{
        struct logline *l;

        /* A line larger than the whole budget keeps only its end. */
        if (logline_cost(len) > r->cap) {
                size_t keep = r->cap > sizeof *l ? r->cap - sizeof *l : 0;

                r->lost += len - keep;
                data += len - keep;
                len = keep;
        }
        while (!TAILQ_EMPTY(&r->lines) && r->bytes + logline_cost(len) > r->cap)
                logring_drop_oldest(r);
        l = xmalloc(sizeof *l + len);
        l->seq = r->next_seq++;
        l->ts = ts;
        l->stream = (uint8_t)stream;
        l->len = (uint32_t)len;
        memcpy(l->data, data, len);
        TAILQ_INSERT_TAIL(&r->lines, l, entry);
        r->bytes += logline_cost(len);
        return l;
}

void
logring_trim(struct logring *r, size_t cap)
{
        r->cap = cap;
        while (!TAILQ_EMPTY(&r->lines) && r->bytes > cap)
                logring_drop_oldest(r);
}
