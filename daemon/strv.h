/*
 * strv.h -- NULL-terminated string vectors (argv, env, name lists), owned
 * by whoever holds them: one copy, free and length for the whole daemon.
 */
#ifndef CORRAL_STRV_H
#define CORRAL_STRV_H

#include <stddef.h>

/* A deep copy of n strings of v (n == (size_t)-1: up to its NULL); NULL for NULL. */
char **strv_copy(const char *const *v, size_t n);
void strv_free(char **);
size_t strv_len(const char *const *);

#endif
