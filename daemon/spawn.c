/* spawn.c -- posix_spawn with PATH resolution and a clean child state. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spawn.h"
#include "xmalloc.h"

extern char **environ;

#define SPAWN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The PATH the child will search: its own if its environment sets one. */
static const char *
spawn_path_of(char *const *envp)
{
        const char *path;

        for (; envp != NULL && *envp != NULL; envp++) {
                if (strncmp(*envp, "PATH=", 5) == 0)
                        return *envp + 5;
        }
        path = getenv("PATH");
        return path != NULL ? path : SPAWN_DEFAULT_PATH;
}

/*
 * Find file in PATH like execvp does, but before spawning, so that the
 * error (ENOENT, or EACCES if only non-executable candidates exist) is
 * precise. Writes the chosen path into buf.
 */
static int
spawn_resolve(const char *file, char *const *envp, char *buf, size_t len)
{
        const char *p, *end;
        int saw_eacces = 0;
        struct stat st;

        if (strchr(file, '/') != NULL) {
                if ((size_t)snprintf(buf, len, "%s", file) >= len)
                        return ENAMETOOLONG;
                return 0;
        }
        if (*file == '\0')
                return ENOENT;
        for (p = spawn_path_of(envp); p != NULL; p = end != NULL ? end + 1 : NULL) {
                size_t dirlen;

                end = strchr(p, ':');
                dirlen = end != NULL ? (size_t)(end - p) : strlen(p);
                if (dirlen == 0) /* an empty entry means the current directory */
                        snprintf(buf, len, "%s", file);
                else if ((size_t)snprintf(buf, len, "%.*s/%s", (int)dirlen, p, file) >= len)
                        continue;
                if (stat(buf, &st) != 0 || S_ISDIR(st.st_mode))
                        continue;
                if (access(buf, X_OK) == 0)
                        return 0;
                saw_eacces = 1;
        }
        return saw_eacces ? EACCES : ENOENT;
}

static int
spawn_file_actions(posix_spawn_file_actions_t *fa, const struct spawn_req *req)
{
        int error;

        if (req->stdin_fd >= 0)
                error = posix_spawn_file_actions_adddup2(fa, req->stdin_fd, 0);
        else
                error = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
        if (error == 0)
                error = posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
        if (error == 0)
                error = posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
        if (error == 0 && req->cwd != NULL)
                error = posix_spawn_file_actions_addchdir_np(fa, req->cwd);
        /* Every daemon descriptor is close-on-exec; this is the belt to those braces. */
        if (error == 0)
                error = posix_spawn_file_actions_addclosefrom_np(fa, 3);
        return error;
}

static int
spawn_attrs(posix_spawnattr_t *attr)
{
        sigset_t none, all;
        int error;

        sigemptyset(&none);
        sigfillset(&all);
        error = posix_spawnattr_setsigmask(attr, &none);
        if (error == 0)
                error = posix_spawnattr_setsigdefault(attr, &all);
        /* A new session: its own process group, no controlling terminal. */
        if (error == 0)
                error = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                           POSIX_SPAWN_SETSIGDEF);
        return error;
}

pid_t
spawn_start(const struct spawn_req *req, const char **what)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        char path[PATH_MAX];
        struct stat st;
        pid_t pid = -1;
        int error;

        if (req->cwd != NULL) {
                if (stat(req->cwd, &st) != 0) {
                        *what = "cwd";
                        return -1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        *what = "cwd";
                        errno = ENOTDIR;
                        return -1;
                }
        }
        error = spawn_resolve(req->argv[0], req->envp, path, sizeof path);
        if (error != 0) {
                *what = "exec";
                errno = error;
                return -1;
        }
        if ((error = posix_spawn_file_actions_init(&fa)) != 0) {
                *what = "spawn";
                errno = error;
                return -1;
        }
        if ((error = posix_spawnattr_init(&attr)) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                *what = "spawn";
                errno = error;
                return -1;
        }
        error = spawn_file_actions(&fa, req);
        if (error == 0)
                error = spawn_attrs(&attr);
        if (error == 0) {
                error = posix_spawn(&pid, path, &fa, &attr, (char *const *)req->argv, req->envp);
                *what = "exec";
        } else
                *what = "spawn";
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (error != 0) {
                errno = error;
                return -1;
        }
        return pid;
}

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
        size_t n = 0, i = 0;
        char **env, **e;
        const char *const *o;

        for (e = environ; !clear && e != NULL && *e != NULL; e++)
                n++;
        for (o = overrides; o != NULL && *o != NULL; o++)
                n++;
        env = xcalloc(n + 1, sizeof *env);
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

void
spawn_env_free(char **env)
{
        char **e;

        for (e = env; e != NULL && *e != NULL; e++)
                free(*e);
        free(env);
}
