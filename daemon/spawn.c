/*
 * spawn.c -- start a child with clone(CLONE_VM | CLONE_VFORK), as libc's
 * posix_spawn does, with PATH resolution and a clean child state. Checks
 * in the parent (PATH, cwd) make the common errors precise; the child
 * reports the rest through a close-on-exec pipe, not through the memory
 * it shares with us: where clone's CLONE_VM and CLONE_VFORK are emulated
 * as a plain fork (valgrind, qemu-user), shared memory would lose the
 * report, while the pipe still tells exec (end of file) from a failure.
 * Also the rest of the daemon's dealings with children: signals and
 * reaping.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "log.h"
#include "spawn.h"

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

/*
 * The child runs on its own stack but in our memory, while the calling
 * thread waits in clone() until it execs or exits. So it takes no lock,
 * allocates nothing, and makes raw system calls only: libc wrappers may
 * be intercepted by the sanitizers (ASan's _exit runs its leak checker)
 * or keep state that belongs to our thread, not to the child.
 */

#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define SPAWN_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef SPAWN_NO_SANITIZE
#define SPAWN_NO_SANITIZE
#endif
/* Sanitizer checks would run on a stack and in a process they know nothing of. */
#define SPAWN_CHILD __attribute__((noinline)) SPAWN_NO_SANITIZE

/* Ample: the child makes raw calls only, with a few words of locals. */
#define SPAWN_STACK_SIZE (64 * 1024)

/* The kernel's signal set is _NSIG - 1 bits, much smaller than glibc's sigset_t. */
#define SPAWN_KSIGSET_SIZE (_NSIG / 8)

/*
 * The kernel's struct sigaction (handler, flags, restorer, mask), not
 * glibc's. SIG_DFL with no flags and an empty mask is all zeros, so the
 * architectures without sa_restorer read the same thing.
 */
struct spawn_ksigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        unsigned long mask[SPAWN_KSIGSET_SIZE / sizeof(unsigned long)];
};

/* What the child needs. */
struct spawn_child {
        const struct spawn_req *req;
        const char *path; /* argv[0], resolved */
        int report_fd;    /* the pipe's write end, close-on-exec */
        int keep_below;   /* > 0: it shares our descriptor table; keep those below this */
};

/*
 * What a child that failed before exec writes into the pipe, in one
 * write (smaller than PIPE_BUF, so whole or not at all). step is a
 * literal: the child runs on our memory or on a copy of it, the address
 * is ours either way.
 */
struct spawn_report {
        int error;        /* errno of the step that failed */
        const char *step; /* that step's name */
};

/* The step of a child that could not take its own descriptor table. */
static const char SPAWN_STEP_FILES[] = "spawn";

/* Every disposition to SIG_DFL, glibc's 32 and 33 included (its sigaction refuses them). */
SPAWN_CHILD static int
spawn_child_signals(void)
{
        const struct spawn_ksigaction dfl = {.handler = SIG_DFL};
        int sig;

        for (sig = 1; sig < _NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                if (syscall(SYS_rt_sigaction, (long)sig, &dfl, NULL, (long)SPAWN_KSIGSET_SIZE) ==
                    -1)
                        return errno;
        }
        return 0;
}

/*
 * A copy of fd above 2, if it is not already: then installing one of
 * 0, 1, 2 never overwrites the source of another, and dup3 always clears
 * close-on-exec on its target (onto itself it would leave it set).
 */
SPAWN_CHILD static int
spawn_child_above2(int fd)
{
        if (fd > 2)
                return fd;
        return (int)syscall(SYS_fcntl, (long)fd, (long)F_DUPFD_CLOEXEC, 3L);
}

SPAWN_CHILD static int
spawn_child_devnull(int flags)
{
        return (int)syscall(SYS_openat, (long)AT_FDCWD, "/dev/null", (long)(flags | O_CLOEXEC));
}

/* Descriptors 0, 1, 2: the caller's or /dev/null. Returns 0 or an errno, naming the step. */
SPAWN_CHILD static int
spawn_child_stdio(const struct spawn_req *req, const char **step)
{
        static const char *const names[3] = {"stdin", "stdout", "stderr"};
        int src[3], null_w = -1, fd;

        src[0] = req->stdin_fd;
        if (src[0] < 0 && (src[0] = spawn_child_devnull(O_RDONLY)) == -1) {
                *step = names[0];
                return errno;
        }
        /* One open serves both stdout and stderr. */
        if ((~req->flags & (SPAWN_STDOUT | SPAWN_STDERR)) != 0 &&
            (null_w = spawn_child_devnull(O_WRONLY)) == -1) {
                *step = names[(req->flags & SPAWN_STDOUT) ? 2 : 1];
                return errno;
        }
        src[1] = (req->flags & SPAWN_STDOUT) ? req->stdout_fd : null_w;
        src[2] = (req->flags & SPAWN_STDERR) ? req->stderr_fd : null_w;
        for (fd = 0; fd < 3; fd++) {
                *step = names[fd];
                if (src[fd] < 0) /* a flag without a descriptor */
                        return EBADF;
                if ((src[fd] = spawn_child_above2(src[fd])) == -1)
                        return errno;
        }
        /* The sources, all above 2 now, go with close_range. */
        for (fd = 0; fd < 3; fd++) {
                *step = names[fd];
                if (syscall(SYS_dup3, (long)src[fd], (long)fd, 0L) == -1)
                        return errno;
        }
        return 0;
}

/*
 * Close every descriptor above 2 but keep (the report pipe, above 2 and
 * close-on-exec itself): ours are close-on-exec, this is the belt to
 * those braces.
 */
SPAWN_CHILD static void
spawn_child_close_from3(int keep)
{
        struct {
                uint64_t cur, max;
        } rl;
        uint64_t fd;

        if ((keep == 3 || syscall(SYS_close_range, 3L, (long)keep - 1, 0L) == 0) &&
            syscall(SYS_close_range, (long)keep + 1, (long)~0U, 0L) == 0)
                return;
        /* Before Linux 5.9, or under a seccomp filter that refuses close_range. */
        if (syscall(SYS_prlimit64, 0L, (long)RLIMIT_NOFILE, NULL, &rl) == -1 || rl.cur > INT_MAX)
                rl.cur = 1024 * 1024; /* the kernel's default fs.nr_open */
        for (fd = 3; fd < rl.cur; fd++) {
                if (fd != (uint64_t)keep)
                        syscall(SYS_close, (long)fd);
        }
}

/*
 * Limits, priority, OOM score, umask, then the identity: what needs
 * privilege first, the user last. Returns 0 or an errno, naming the step.
 */
SPAWN_CHILD static int
spawn_child_privs(const struct spawn_privs *pv, const char **step)
{
        unsigned i;

        for (i = 0; i < pv->nlimits; i++) {
                *step = "limits";
                if (syscall(SYS_prlimit64, 0L, (long)pv->limits[i].resource, &pv->limits[i].lim,
                            NULL) == -1)
                        return errno;
        }
        if (pv->set_nice) {
                *step = "nice";
                if (syscall(SYS_setpriority, (long)PRIO_PROCESS, 0L, (long)pv->nice) == -1)
                        return errno;
        }
        if (pv->set_oom) {
                long fd, n = 0;

                *step = "oom_score_adjust";
                fd = syscall(SYS_openat, (long)AT_FDCWD, "/proc/self/oom_score_adj",
                             (long)(O_WRONLY | O_CLOEXEC), 0L);
                if (fd == -1)
                        return errno;
                while (pv->oom[n] != '\0')
                        n++;
                if (syscall(SYS_write, fd, pv->oom, n) != n) {
                        int e = errno;

                        syscall(SYS_close, fd);
                        return e != 0 ? e : EIO;
                }
                syscall(SYS_close, fd);
        }
        if (pv->set_umask)
                syscall(SYS_umask, (long)pv->umask);
        if (pv->set_ids) {
                *step = "groups";
                if (syscall(SYS_setgroups, (long)pv->ngroups, pv->groups) == -1)
                        return errno;
                *step = "group";
                if (syscall(SYS_setresgid, (long)pv->gid, (long)pv->gid, (long)pv->gid) == -1)
                        return errno;
                *step = "user";
                if (syscall(SYS_setresuid, (long)pv->uid, (long)pv->uid, (long)pv->uid) == -1)
                        return errno;
        }
        return 0;
}

SPAWN_CHILD static _Noreturn void
spawn_child_fail(struct spawn_child *c, const char *step, int error)
{
        struct spawn_report r = {.error = error != 0 ? error : EINVAL, .step = step};

        syscall(SYS_write, (long)c->report_fd, &r, (long)sizeof r);
        /* exit_group, not _exit: ASan's _exit interceptor would run its leak check in here. */
        for (;;)
                syscall(SYS_exit_group, 127L);
}

SPAWN_CHILD static int
spawn_child_main(void *arg)
{
        struct spawn_child *c = arg;
        const struct spawn_req *req = c->req;
        unsigned long none[SPAWN_KSIGSET_SIZE / sizeof(unsigned long)] = {0};
        const char *step = NULL;
        int error;

        /*
         * Sharing our table, it must take its own before anything opens,
         * closes or replaces a descriptor: only those below keep_below
         * (the slots) are copied. Before Linux 5.9, the whole table.
         */
        if (c->keep_below > 0 &&
            syscall(SYS_close_range, (long)c->keep_below, (long)~0U, (long)CLOSE_RANGE_UNSHARE) ==
                -1 &&
            syscall(SYS_unshare, (long)CLONE_FILES) == -1)
                spawn_child_fail(c, SPAWN_STEP_FILES, errno);
        /* Into its cgroup first, so that everything it becomes is counted there. */
        if ((req->flags & SPAWN_CGROUP) && syscall(SYS_write, (long)req->cgroup_fd, "0", 1L) != 1)
                spawn_child_fail(c, "cgroup", errno);
        /* Signals stay blocked (the parent's mask) until the last step. */
        if ((error = spawn_child_signals()) != 0)
                spawn_child_fail(c, "signals", error);
        /* A new session: its own process group, no controlling terminal. */
        if (syscall(SYS_setsid) == -1)
                spawn_child_fail(c, "setsid", errno);
        if ((error = spawn_child_stdio(req, &step)) != 0)
                spawn_child_fail(c, step, error);
        /* corrald raised its own descriptor limit; children start from the usual one. */
        if (req->nofile != NULL &&
            syscall(SYS_prlimit64, 0L, (long)RLIMIT_NOFILE, req->nofile, NULL) == -1)
                spawn_child_fail(c, "limits", errno);
        /* Before chdir: the working directory is entered as the user it runs as. */
        if (req->privs != NULL && (error = spawn_child_privs(req->privs, &step)) != 0)
                spawn_child_fail(c, step, error);
        if (req->cwd != NULL && syscall(SYS_chdir, req->cwd) == -1)
                spawn_child_fail(c, "cwd", errno);
        spawn_child_close_from3(c->report_fd);
        /* Any signal that came since the parent blocked them now acts by default. */
        if (syscall(SYS_rt_sigprocmask, (long)SIG_SETMASK, none, NULL, (long)SPAWN_KSIGSET_SIZE) ==
            -1)
                spawn_child_fail(c, "signals", errno);
        syscall(SYS_execve, c->path, req->argv, req->envp);
        spawn_child_fail(c, "exec", errno);
}

pid_t
spawn_wait(pid_t pid, int *status)
{
        pid_t r;

        do
                r = waitpid(pid, status, 0);
        while (r == -1 && errno == EINTR);
        return r;
}

pid_t
spawn_ended(void)
{
        siginfo_t si;

        for (;;) {
                memset(&si, 0, sizeof si);
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
                        return si.si_pid;
                if (errno != EINTR)
                        return -1;
        }
}

int
spawn_kill(pid_t pid, int sig)
{
        return kill(pid, sig);
}

/*
 * The report pipe, both ends close-on-exec and above 2 (the child's
 * stdio setup overwrites 0, 1 and 2). Returns 0 or -1 with errno.
 */
static int
spawn_report_pipe(int fds[2])
{
        int i, fd;

        if (pipe2(fds, O_CLOEXEC) == -1)
                return -1;
        for (i = 0; i < 2; i++) {
                if (fds[i] > 2)
                        continue;
                if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1) {
                        int error = errno;

                        close(fds[0]);
                        close(fds[1]);
                        errno = error;
                        return -1;
                }
                close(fds[i]);
                fds[i] = fd;
        }
        return 0;
}

/*
 * The child's report: end of file once it has exec'd (the write end was
 * close-on-exec), a struct spawn_report if it failed. Under CLONE_VFORK
 * it has done either when clone returns; emulated as a fork, this waits
 * for it. Returns 0 (exec'd) or the report's errno, with *step set.
 */
static int
spawn_report_read(int fd, const char **step)
{
        struct spawn_report r;
        ssize_t n;

        while ((n = read(fd, &r, sizeof r)) == -1 && errno == EINTR)
                ;
        if (n != (ssize_t)sizeof r)
                return 0;
        *step = r.step;
        return r.error;
}

/*
 * Slots: a few low descriptors, held open on /dev/null for the daemon's
 * life. Before a spawn, the descriptors the child needs are copied into
 * them and the child, which shares our table (CLONE_FILES), first takes
 * its own with only the descriptors below the highest slot
 * (close_range(CLOSE_RANGE_UNSHARE)). Without them, clone() copied every
 * descriptor of the daemon (two per captured process) and the child
 * closed them all again: with 8,000 open, a spawn took 1.5 ms instead of
 * 0.5. Off (SLOTS_OFF) where they cannot be had or clone refuses
 * CLONE_FILES with CLONE_VFORK: the plain copy then.
 */
enum { SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR, SLOT_CGROUP, SLOT_REPORT, SPAWN_NSLOTS };

static struct {
        enum { SLOTS_UNTRIED, SLOTS_READY, SLOTS_OFF } state;
        int fd[SPAWN_NSLOTS];
        int null_fd; /* what a slot holds between spawns */
        int top;     /* the highest slot + 1 */
} spawn_slots;

/*
 * valgrind aborts on a clone with CLONE_FILES but without CLONE_FS (it
 * knows threads and forks only), and it announces itself by preloading
 * its vgpreload libraries.
 */
static bool
spawn_under_valgrind(void)
{
        const char *preload = getenv("LD_PRELOAD");

        return preload != NULL && strstr(preload, "/vgpreload_") != NULL;
}

void
spawn_init(void)
{
        int i;

        if (spawn_slots.state != SLOTS_UNTRIED)
                return;
        spawn_slots.state = SLOTS_OFF;
        if (spawn_under_valgrind())
                return;
        if ((spawn_slots.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
                return;
        spawn_slots.top = spawn_slots.null_fd + 1;
        for (i = 0; i < SPAWN_NSLOTS; i++) {
                if ((spawn_slots.fd[i] = fcntl(spawn_slots.null_fd, F_DUPFD_CLOEXEC, 3)) == -1) {
                        while (i-- > 0)
                                close(spawn_slots.fd[i]);
                        close(spawn_slots.null_fd);
                        return;
                }
                if (spawn_slots.fd[i] + 1 > spawn_slots.top)
                        spawn_slots.top = spawn_slots.fd[i] + 1;
        }
        spawn_slots.state = SLOTS_READY;
}

/*
 * Back to /dev/null: the slots must not hold the child's pipes open (its
 * output would never see end of file). A slot that cannot be is closed,
 * and the slots are given up.
 */
static void
spawn_slots_clear(void)
{
        int i;

        for (i = 0; i < SPAWN_NSLOTS; i++) {
                if (dup3(spawn_slots.null_fd, spawn_slots.fd[i], O_CLOEXEC) == -1) {
                        log_warn("spawn: cannot reset descriptor %d: %s; spawning without slots",
                                 spawn_slots.fd[i], strerror(errno));
                        close(spawn_slots.fd[i]);
                        spawn_slots.state = SLOTS_OFF;
                }
        }
}

/* *fd into slot i (if it is a descriptor); 0, or -1 with errno. */
static int
spawn_slots_put(int i, int *fd)
{
        if (*fd < 0)
                return 0;
        if (dup3(*fd, spawn_slots.fd[i], O_CLOEXEC) == -1)
                return -1;
        *fd = spawn_slots.fd[i];
        return 0;
}

/*
 * r: a copy of req whose descriptors are the slots; child->report_fd
 * too. 0, or -1 (slots cleared) when one could not be filled.
 */
static int
spawn_slots_fill(struct spawn_req *r, struct spawn_child *child)
{
        if (spawn_slots_put(SLOT_STDIN, &r->stdin_fd) == -1 ||
            ((r->flags & SPAWN_STDOUT) && spawn_slots_put(SLOT_STDOUT, &r->stdout_fd) == -1) ||
            ((r->flags & SPAWN_STDERR) && spawn_slots_put(SLOT_STDERR, &r->stderr_fd) == -1) ||
            ((r->flags & SPAWN_CGROUP) && spawn_slots_put(SLOT_CGROUP, &r->cgroup_fd) == -1) ||
            spawn_slots_put(SLOT_REPORT, &child->report_fd) == -1) {
                spawn_slots_clear();
                return -1;
        }
        child->keep_below = spawn_slots.top;
        return 0;
}

/*
 * clone(CLONE_VM | CLONE_VFORK) with every signal blocked. The child
 * shares our memory: no handler of ours may run in it until it has reset
 * them all. Raw rt_sigprocmask, because pthread_sigmask will not block
 * glibc's 32 and 33. clone returns once the child has exec'd or exited
 * (CLONE_VFORK), so signals wait for one exec at most.
 */
static pid_t
spawn_clone(struct spawn_child *child, char *stack_top, int flags)
{
        sigset_t all, old;
        pid_t pid;
        int error;

        memset(&all, 0xff, sizeof all);
        syscall(SYS_rt_sigprocmask, (long)SIG_BLOCK, &all, &old, (long)SPAWN_KSIGSET_SIZE);
        pid = clone(spawn_child_main, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD | flags, child);
        error = errno;
        syscall(SYS_rt_sigprocmask, (long)SIG_SETMASK, &old, NULL, (long)SPAWN_KSIGSET_SIZE);
        errno = error;
        return pid;
}

pid_t
spawn_start(const struct spawn_req *req, const char **what)
{
        /* The child's stack grows down from its end, 16-aligned by _Alignas and the size. */
        _Alignas(16) char stack[SPAWN_STACK_SIZE];
        struct spawn_child child;
        struct spawn_req shared;
        char path[PATH_MAX];
        struct stat st;
        pid_t pid;
        int error, report[2];

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
        if (spawn_report_pipe(report) == -1) {
                *what = "spawn";
                return -1;
        }
        child.req = req;
        child.path = path;
        child.report_fd = report[1];
        child.keep_below = 0;
        pid = -1;
        error = 0;
        spawn_init();
        shared = *req;
        if (spawn_slots.state == SLOTS_READY && spawn_slots_fill(&shared, &child) == 0) {
                child.req = &shared;
                pid = spawn_clone(&child, stack + sizeof stack, CLONE_FILES);
                error = errno;
                spawn_slots_clear();
                if (pid == -1 && error == EINVAL) {
                        /* An emulator (qemu-user) that knows no such clone: the copy, then. */
                        spawn_slots.state = SLOTS_OFF;
                        child.req = req;
                        child.report_fd = report[1];
                        child.keep_below = 0;
                }
        }
        if (child.keep_below == 0) {
                pid = spawn_clone(&child, stack + sizeof stack, 0);
                error = errno;
        }
        /* Ours closed, the slots cleared: end of file comes with the child's exec or exit. */
        close(report[1]);
        if (pid == -1) {
                close(report[0]);
                *what = "spawn";
                errno = error;
                return -1;
        }
        error = spawn_report_read(report[0], what);
        close(report[0]);
        if (error != 0) {
                /* It failed before exec: no supervised death, and no zombie. */
                spawn_wait(pid, NULL);
                if (*what == SPAWN_STEP_FILES && child.keep_below > 0) {
                        /* It could not take its own table: never share it again. */
                        spawn_slots.state = SLOTS_OFF;
                        return spawn_start(req, what);
                }
                errno = error;
                return -1;
        }
        return pid;
}
