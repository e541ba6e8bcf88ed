/* strv.c -- string vectors. */
#include <stdlib.h>

#include "strv.h"
#include "xmalloc.h"

size_t
strv_len(const char *const *v)
{
        size_t n = 0;

        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

char **
strv_copy(const char *const *v, size_t n)
{
        char **copy;
        size_t i;

        if (v == NULL)
                return NULL;
        if (n == (size_t)-1)
                n = strv_len(v);
        copy = xcalloc(n + 1, sizeof *copy);
        for (i = 0; i < n; i++)
                copy[i] = xstrdup(v[i]);
        return copy;
}

void
strv_free(char **v)
{
        char **p;

        for (p = v; p != NULL && *p != NULL; p++)
                free(*p);
        free(v);
}
