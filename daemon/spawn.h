/*
 * spawn.h -- start a child with vfork semantics (clone with CLONE_VM and
 * CLONE_VFORK, as posix_spawn does inside libc, so the cost does not grow
 * with the daemon's size) in a clean state: a new session and process
 * group, an empty signal mask, every disposition default (glibc's
 * posix_spawn sets its internal signals 32 and 33 to SIG_IGN, which
 * survives exec), and no descriptor but 0, 1 and 2. Being our own code,
 * the child can later apply settings posix_spawn has no attribute for.
 */
#ifndef CORRAL_SPAWN_H
#define CORRAL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * spawn_req.flags. stdout and stderr default to /dev/null; a flag says
 * that the matching descriptor field is meant. The default is the zero
 * value so that an initialiser leaving these fields out (a zero fd would
 * be the daemon's own stdin) keeps today's behaviour.
 */
enum {
        SPAWN_STDOUT = 0x1, /* stdout_fd becomes the child's 1 */
        SPAWN_STDERR = 0x2, /* stderr_fd becomes the child's 2 */
        SPAWN_CGROUP = 0x4, /* the child joins the cgroup whose cgroup.procs is cgroup_fd */
};

/* Settings applied in the child before exec (a pool's user, limits, ...). */
#define SPAWN_LIMITS_MAX 8
struct spawn_privs {
        bool set_ids;  /* become uid/gid with these supplementary groups */
        bool user_set; /* the uid is a chosen user's, not corrald's own (a group alone) */
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t ngroups;
        bool set_umask;
        mode_t umask;
        unsigned nlimits;
        struct {
                int resource; /* RLIMIT_* */
                struct rlimit lim;
        } limits[SPAWN_LIMITS_MAX];
        bool set_nice;
        int nice;
        bool set_oom;
        char oom[8]; /* the text written to /proc/self/oom_score_adj */
};

struct spawn_req {
        const char *const *argv;
        char *const *envp; /* the child's whole environment */
        const char *cwd;   /* NULL: the daemon's */
        int stdin_fd;      /* -1: /dev/null */
        unsigned flags;    /* SPAWN_STDOUT, SPAWN_STDERR */
        int stdout_fd;     /* with SPAWN_STDOUT; else /dev/null */
        int stderr_fd;     /* with SPAWN_STDERR; else /dev/null (may equal stdout_fd) */
        const struct spawn_privs *privs; /* NULL: none */
        const struct rlimit *nofile;     /* the descriptor limit to give back, or NULL */
        int cgroup_fd;                   /* with SPAWN_CGROUP */
};

/*
 * Take the few low descriptors spawn_start copies a child's into, so that
 * a child need not copy the daemon's whole table (see spawn.c). Early, while
 * few are open; spawn_start does it itself if this was not called.
 */
void spawn_init(void);

/*
 * Start the child. Returns its pid, or -1 with errno set and *what naming
 * the step that failed ("exec", "cwd", "stdin", ...). Failures are
 * reported here, synchronously, and such a child is reaped before
 * returning: a missing binary never becomes a child exiting 127. The
 * descriptors in req stay the caller's.
 */
pid_t spawn_start(const struct spawn_req *, const char **what);

/*
 * The daemon's other dealings with its children go through here too, so
 * that a test can replace this file whole (tests/fuzz/mock_spawn.c) and
 * no real process is ever started, signalled or waited for.
 */
/* kill(2): pid, or with a negative pid its process group. */
int spawn_kill(pid_t, int sig);
/*
 * A child that has ended, left unreaped (so that its pid and process
 * group cannot be reused yet): its pid, 0 if none has ended, -1 with
 * errno (ECHILD: no children at all).
 */
pid_t spawn_ended(void);
/* Reap that child: its pid with *status filled, or -1 with errno. */
pid_t spawn_wait(pid_t, int *status);

/*
 * Build the child's environment: the daemon's (unless clear) with the
 * "K=V" overrides applied. Free with strv_free.
 */
char **spawn_env_build(const char *const *overrides, int clear);

#endif
