/*
 * arena.c -- a bump allocator owning one request's decoded parameters.
 *
 * Memory comes in chunks; small allocations share the current chunk and a
 * large one (say, 16 MiB of stdin) gets a chunk of its own, so it wastes
 * nothing. Everything is released at once by proto_arena_free().
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define ARENA_CHUNK 4096u /* usable bytes of a shared chunk */
#define ARENA_ALIGN alignof(max_align_t)

struct arena_chunk {
        struct arena_chunk *next;
        size_t size; /* usable bytes in data */
        size_t used;
        max_align_t data[]; /* max_align_t: every offset we hand out is aligned */
};

#define ARENA_FIRST 512u /* usable bytes of the chunk that comes with the arena */

struct proto_arena {
        struct arena_chunk *head; /* the current shared chunk is the first one */
        /* Most requests fit here: one allocation per request, not two. */
        struct arena_chunk first;
        max_align_t first_data[ARENA_FIRST / sizeof(max_align_t)];
};

struct proto_arena *
proto_arena_new(void)
{
        struct proto_arena *a = malloc(sizeof *a);

        if (a == NULL)
                return NULL;
        a->first.next = NULL;
        a->first.size = sizeof a->first_data;
        a->first.used = 0;
        a->head = &a->first;
        return a;
}

void
proto_arena_free(struct proto_arena *a)
{
        struct arena_chunk *c, *next;

        if (a == NULL)
                return;
        for (c = a->head; c != NULL; c = next) {
                next = c->next;
                if (c != &a->first)
                        free(c);
        }
        free(a);
}

/* A new chunk of at least size usable bytes; NULL with errno on failure. */
static struct arena_chunk *
chunk_new(size_t size)
{
        struct arena_chunk *c;

        if (size > SIZE_MAX - sizeof *c) {
                errno = ENOMEM;
                return NULL;
        }
        c = malloc(sizeof *c + size);
        if (c == NULL)
                return NULL;
        c->size = size;
        c->used = 0;
        return c;
}

/* Aligned memory valid until proto_arena_free(); NULL with errno ENOMEM. */
void *
proto_arena_alloc(struct proto_arena *a, size_t n)
{
        struct arena_chunk *c = a->head;
        size_t need;
        void *p;

        if (n > SIZE_MAX - ARENA_ALIGN) {
                errno = ENOMEM;
                return NULL;
        }
        need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
        if (need == 0)
                need = ARENA_ALIGN; /* distinct pointers even for size 0 */

        if (c != NULL && c->size - c->used >= need) {
                p = (char *)c->data + c->used;
                c->used += need;
                return p;
        }
        if (need > ARENA_CHUNK / 4) {
                /* Large: a chunk of its own, linked behind the current one. */
                if ((c = chunk_new(need)) == NULL)
                        return NULL;
                c->used = need;
                if (a->head != NULL) {
                        c->next = a->head->next;
                        a->head->next = c;
                } else {
                        c->next = NULL;
                        a->head = c;
                }
                return c->data;
        }
        if ((c = chunk_new(ARENA_CHUNK)) == NULL)
                return NULL;
        c->next = a->head;
        a->head = c;
        c->used = need;
        return c->data;
}

/* Like strndup(3): at most len bytes of s, up to a NUL; always terminated. */
char *
proto_arena_strndup(struct proto_arena *a, const char *s, size_t len)
{
        char *p;

        len = strnlen(s, len);
        if (len == SIZE_MAX) {
                errno = ENOMEM;
                return NULL;
        }
        if ((p = proto_arena_alloc(a, len + 1)) == NULL)
                return NULL;
        if (len > 0)
                memcpy(p, s, len);
        p[len] = '\0';
        return p;
}
