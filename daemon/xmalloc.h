/*
 * xmalloc.h -- allocation for the daemon's own bookkeeping: abort on
 * out-of-memory (there is no sensible recovery for a lost record).
 * Sizes that come from clients are bounded before they get here.
 */
#ifndef CORRAL_XMALLOC_H
#define CORRAL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

#endif
