/*
 * spawn-env.c -- a child's environment: the daemon's own (or none) with
 * the request's "K=V" overrides applied. Apart from spawn.c so that the
 * fuzz targets' stand-in for spawn.c (tests/fuzz/mock_spawn.c) keeps it.
 */
#include <stdlib.h>
#include <string.h>

#include "spawn.h"
#include "strv.h"
#include "xmalloc.h"

extern char **environ;

/* Length of the key of "K=V", or of the whole string if it has no '='. */
static size_t
spawn_env_keylen(const char *kv)
{
        const char *eq = strchr(kv, '=');

        return eq != NULL ? (size_t)(eq - kv) : strlen(kv);
}

static int
spawn_env_overridden(const char *kv, const char *const *overrides)
{
        size_t klen = spawn_env_keylen(kv);

        for (; overrides != NULL && *overrides != NULL; overrides++) {
                if (spawn_env_keylen(*overrides) == klen && strncmp(*overrides, kv, klen) == 0)
                        return 1;
        }
        return 0;
}

char **
spawn_env_build(const char *const *overrides, int clear)
{
        size_t i = 0, n = strv_len(overrides) + 1;
        char **env, **e;
        const char *const *o;

        if (!clear)
                n += strv_len((const char *const *)environ);
        env = xcalloc(n, sizeof *env);
        for (e = environ; !clear && e != NULL && *e != NULL; e++) {
                if (!spawn_env_overridden(*e, overrides))
                        env[i++] = xstrdup(*e);
        }
        /* Later duplicates of a key win, as they would in a shell. */
        for (o = overrides; o != NULL && *o != NULL; o++) {
                if (!spawn_env_overridden(*o, o + 1))
                        env[i++] = xstrdup(*o);
        }
        env[i] = NULL;
        return env;
}
