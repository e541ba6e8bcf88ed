/*
 * refspawn.c -- start a child the way corrald does, without corrald.
 *
 * The references for spawning and joining must pay for the same child
 * setup as corrald's daemon/spawn.c (a new session, stdio on /dev/null,
 * an empty signal mask, default dispositions, descriptors above 2
 * closed), so that a ratio measures the daemon and not a different exec.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include "bench.h"

extern char **environ;

pid_t
refspawn(const char *const *argv)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        pid_t pid;
        int error;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
        error = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return error == 0 ? pid : -1;
}
