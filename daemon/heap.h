/*
 * heap.h -- a binary min-heap of pointers that knows where each element
 * sits, so an element can be removed or re-keyed in O(log n). The
 * element stores its own index (at idx_off bytes into it).
 */
#ifndef CORRAL_HEAP_H
#define CORRAL_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* Negative if a must come out before b. */
typedef int (*heap_cmp_fn)(const void *a, const void *b);

struct heap {
        void **v;
        size_t n, cap;
        heap_cmp_fn cmp;
        size_t idx_off; /* offset of a size_t index inside each element */
};

void heap_init(struct heap *, heap_cmp_fn, size_t idx_off);
void heap_free(struct heap *);
void heap_push(struct heap *, void *);
void *heap_top(const struct heap *);
void *heap_pop(struct heap *);
/* Remove e, which must be in the heap. */
void heap_remove(struct heap *, void *e);
/* e's key changed: restore the order. */
void heap_update(struct heap *, void *e);

#endif
