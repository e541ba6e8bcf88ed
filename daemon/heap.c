/* heap.c -- an indexed binary min-heap. */
#include <stdlib.h>

#include "heap.h"
#include "xmalloc.h"

static size_t *
heap_idx(const struct heap *h, void *e)
{
        return (size_t *)((char *)e + h->idx_off);
}

static void
heap_set(struct heap *h, size_t i, void *e)
{
        h->v[i] = e;
        *heap_idx(h, e) = i;
}

static void
heap_up(struct heap *h, size_t i)
{
        void *e = h->v[i];

        while (i > 0) {
                size_t parent = (i - 1) / 2;

                if (h->cmp(e, h->v[parent]) >= 0)
                        break;
                heap_set(h, i, h->v[parent]);
                i = parent;
        }
        heap_set(h, i, e);
}

static void
heap_down(struct heap *h, size_t i)
{
        void *e = h->v[i];

        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                void *best = e;

                if (l < h->n && h->cmp(h->v[l], best) < 0) {
                        m = l;
                        best = h->v[l];
                }
                if (r < h->n && h->cmp(h->v[r], best) < 0)
                        m = r;
                if (m == i)
                        break;
                heap_set(h, i, h->v[m]);
                i = m;
        }
        heap_set(h, i, e);
}

void
heap_init(struct heap *h, heap_cmp_fn cmp, size_t idx_off)
{
        h->v = NULL;
        h->n = h->cap = 0;
        h->cmp = cmp;
        h->idx_off = idx_off;
}

void
heap_free(struct heap *h)
{
        free(h->v);
        h->v = NULL;
        h->n = h->cap = 0;
}

void
heap_push(struct heap *h, void *e)
{
        if (h->n == h->cap) {
                h->cap = h->cap ? h->cap * 2 : 16;
                h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
        }
        h->v[h->n] = e;
        heap_up(h, h->n++);
}

void *
heap_top(const struct heap *h)
{
        return h->n > 0 ? h->v[0] : NULL;
}

void *
heap_pop(struct heap *h)
{
        void *top;

        if (h->n == 0)
                return NULL;
        top = h->v[0];
        heap_remove(h, top);
        return top;
}

void
heap_remove(struct heap *h, void *e)
{
        size_t i = *heap_idx(h, e);
        void *last = h->v[--h->n];

        if (i == h->n)
                return;
        heap_set(h, i, last);
        heap_update(h, last);
}

void
heap_update(struct heap *h, void *e)
{
        size_t i = *heap_idx(h, e);

        heap_up(h, i);
        heap_down(h, *heap_idx(h, e));
}
