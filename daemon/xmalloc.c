/* xmalloc.c -- allocation wrappers that never return NULL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

void *
xmalloc(size_t size)
{
        void *p = malloc(size == 0 ? 1 : size);

        if (p == NULL)
                fatalx("out of memory allocating %zu bytes", size);
        return p;
}

void *
xcalloc(size_t n, size_t size)
{
        void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

        if (p == NULL)
                fatalx("out of memory allocating %zu x %zu bytes", n, size);
        return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
        void *p = reallocarray(ptr, n == 0 ? 1 : n, size == 0 ? 1 : size);

        if (p == NULL)
                fatalx("out of memory reallocating %zu x %zu bytes", n, size);
        return p;
}

char *
xstrdup(const char *s)
{
        char *p = strdup(s);

        if (p == NULL)
                fatalx("out of memory duplicating a string");
        return p;
}

char *
xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);

        if (p == NULL)
                fatalx("out of memory duplicating a string");
        return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (n < 0)
                fatalx("out of memory formatting a string");
        return n;
}
