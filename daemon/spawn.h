/*
 * spawn.h -- start a child with posix_spawn (vfork semantics, so the cost
 * does not grow with the daemon's size) in a clean state: a new session
 * and process group, an empty signal mask, default dispositions, and no
 * descriptor but 0, 1 and 2.
 */
#ifndef CORRAL_SPAWN_H
#define CORRAL_SPAWN_H

#include <sys/types.h>

struct spawn_req {
        const char *const *argv;
        char *const *envp; /* the child's whole environment */
        const char *cwd;   /* NULL: the daemon's */
        int stdin_fd;      /* -1: /dev/null */
};

/*
 * Start the child. Returns its pid, or -1 with errno set and *what naming
 * the step that failed ("exec", "cwd", ...). Exec failures are reported
 * here, synchronously: a missing binary never becomes a child exiting 127.
 */
pid_t spawn_start(const struct spawn_req *, const char **what);

/*
 * Build the child's environment: the daemon's (unless clear) with the
 * "K=V" overrides applied. Free with spawn_env_free.
 */
char **spawn_env_build(const char *const *overrides, int clear);
void spawn_env_free(char **);

#endif
