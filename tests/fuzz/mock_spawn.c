/*
 * mock_spawn.c -- daemon/spawn.c for the fuzz targets: the same interface
 * (spawn.h), and no process is ever started, signalled or waited for.
 *
 * A child is a record here with a fake pid above the kernel's
 * PID_MAX_LIMIT (2^22), so that even a kill() that got past this file
 * could reach no real process. What it does is chosen by the last
 * component of argv[0]:
 *
 *   true, false     end at once with 0, 1
 *   exit N          ends at once with N
 *   echo ARGS...    writes ARGS and a newline to stdout, then ends with 0
 *   warn ARGS...    the same to stderr
 *   cat             copies stdin to stdout; ends with 0 at the end of its input
 *   ready [STATUS]  says READY=1 (and STATUS=), then runs
 *   crash           dies of SIGSEGV (core dumped) at once
 *   deaf            runs, and ignores every signal but KILL
 *   missing*, ""    cannot be found (ENOENT at "exec")
 *   noexec          cannot be executed (EACCES at "exec")
 *   eagain          cannot be started (EAGAIN at "spawn")
 *   anything else   runs until a signal whose default action ends it
 *
 * A cwd that is missing or no directory fails as in spawn.c (it is only
 * stat()ed). A child writes only to pipes (the daemon's capture, file,
 * journal and queue destinations), never to corrald's own descriptors
 * (inherit), and holds its pipes until it ends, as a real one does.
 *
 * Invariants checked (abort): the daemon signals only its children, never
 * pid 0, -1 or a child it has reaped (whose pid a real system may have
 * given to anyone); it waits only for a child that has ended (a real
 * waitpid() would block the daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corrald.h"
#include "mock_spawn.h"
#include "process.h"
#include "spawn.h"
#include "xmalloc.h"

#define MOCK_PID_BASE (1 << 30) /* above PID_MAX_LIMIT */
#define MOCK_IO_CHUNK 4096      /* bytes a child reads or writes in one step */

enum mock_prog {
        MOCK_RUN,
        MOCK_TRUE,
        MOCK_FALSE,
        MOCK_EXIT,
        MOCK_ECHO,
        MOCK_CAT,
        MOCK_READY,
        MOCK_CRASH,
        MOCK_DEAF,
};

struct mock_child {
        enum mock_prog prog;
        int code;        /* exit's */
        int in, out;     /* our copies of its stdin and output pipes, or -1 */
        int other;       /* of the output it does not write to: held only */
        char *buf;       /* bytes still to write to out */
        size_t len, off; /* of buf */
        char *status;    /* ready's STATUS=, or NULL */
        bool started;    /* has taken its first step */
        bool ended;      /* a zombie: waits to be reaped */
        bool reaped;     /* gone: its pid must never be used again */
        int wstatus;     /* for waitpid */
};

/* Child i has pid MOCK_PID_BASE + i: pids are never reused before mock_spawn_reset(). */
static struct mock_child *mock_children;
static size_t mock_count, mock_cap;
static size_t mock_zombies, mock_unreaped;

static struct mock_child *
mock_find(pid_t pid)
{
        if (pid < MOCK_PID_BASE || (size_t)(pid - MOCK_PID_BASE) >= mock_count)
                return NULL;
        return &mock_children[pid - MOCK_PID_BASE];
}

/* Our own copy of a pipe the daemon hands the child; -1 for anything else. */
static int
mock_take(int fd)
{
        struct stat st;
        int copy;

        /* 0-2 are corrald's own (inherit): a mock child never writes there. */
        if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
                return -1;
        if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
                abort();
        if (fcntl(copy, F_SETFL, fcntl(copy, F_GETFL) | O_NONBLOCK) == -1)
                abort();
        return copy;
}

static void
mock_close(int *fd)
{
        if (*fd != -1)
                close(*fd);
        *fd = -1;
}

/* Its pipes closed and its pending output dropped. */
static void
mock_release(struct mock_child *c)
{
        mock_close(&c->in);
        mock_close(&c->out);
        mock_close(&c->other);
        free(c->buf);
        c->buf = NULL;
        c->len = c->off = 0;
}

/* It ends: its pipes close (the daemon sees the end of its output), then the reaper comes. */
static void
mock_end(struct mock_child *c, int wstatus)
{
        mock_release(c);
        c->ended = true;
        c->wstatus = wstatus;
        mock_zombies++;
}

static pid_t
mock_fail(const char **what, const char *step, int error)
{
        *what = step;
        errno = error;
        return -1;
}

/* echo's text: its arguments, space-separated, and a newline. */
static void
mock_echo_text(struct mock_child *c, const char *const *argv)
{
        size_t len = 1, i;

        for (i = 1; argv[i] != NULL; i++)
                len += strlen(argv[i]) + 1;
        c->buf = xmalloc(len);
        c->len = 0;
        for (i = 1; argv[i] != NULL; i++) {
                size_t n = strlen(argv[i]);

                memcpy(c->buf + c->len, argv[i], n);
                c->len += n;
                if (argv[i + 1] != NULL)
                        c->buf[c->len++] = ' ';
        }
        c->buf[c->len++] = '\n';
}

void
spawn_init(void)
{
}

pid_t
spawn_start(const struct spawn_req *req, const char **what)
{
        const char *name = strrchr(req->argv[0], '/');
        const char *arg1 = req->argv[1];
        struct mock_child *c;
        struct stat st;

        name = name != NULL ? name + 1 : req->argv[0];
        if (req->cwd != NULL) {
                if (stat(req->cwd, &st) != 0)
                        return mock_fail(what, "cwd", errno);
                if (!S_ISDIR(st.st_mode))
                        return mock_fail(what, "cwd", ENOTDIR);
        }
        if (*name == '\0' || strncmp(name, "missing", 7) == 0)
                return mock_fail(what, "exec", ENOENT);
        if (strcmp(name, "noexec") == 0)
                return mock_fail(what, "exec", EACCES);
        if (strcmp(name, "eagain") == 0)
                return mock_fail(what, "spawn", EAGAIN);
        if (mock_count == mock_cap) {
                mock_cap = mock_cap != 0 ? mock_cap * 2 : 16;
                mock_children = xreallocarray(mock_children, mock_cap, sizeof *mock_children);
        }
        c = &mock_children[mock_count++];
        memset(c, 0, sizeof *c);
        c->prog = MOCK_RUN;
        if (strcmp(name, "true") == 0)
                c->prog = MOCK_TRUE;
        else if (strcmp(name, "false") == 0)
                c->prog = MOCK_FALSE;
        else if (strcmp(name, "exit") == 0) {
                c->prog = MOCK_EXIT;
                c->code = arg1 != NULL ? atoi(arg1) & 0xff : 0;
        } else if (strcmp(name, "echo") == 0 || strcmp(name, "warn") == 0) {
                c->prog = MOCK_ECHO;
                mock_echo_text(c, req->argv);
        } else if (strcmp(name, "cat") == 0)
                c->prog = MOCK_CAT;
        else if (strcmp(name, "ready") == 0) {
                c->prog = MOCK_READY;
                c->status = arg1 != NULL ? xstrdup(arg1) : NULL;
        } else if (strcmp(name, "crash") == 0)
                c->prog = MOCK_CRASH;
        else if (strcmp(name, "deaf") == 0)
                c->prog = MOCK_DEAF;
        c->in = mock_take(req->stdin_fd);
        c->out = (req->flags & SPAWN_STDOUT) ? mock_take(req->stdout_fd) : -1;
        c->other = (req->flags & SPAWN_STDERR) ? mock_take(req->stderr_fd) : -1;
        if (strcmp(name, "warn") == 0) {
                int fd = c->out;

                c->out = c->other;
                c->other = fd;
        }
        mock_unreaped++;
        return MOCK_PID_BASE + (pid_t)(mock_count - 1);
}

/* Signals whose default action ends a process, and those that also dump core. */
static bool
mock_sig_ends(int sig)
{
        switch (sig) {
        case SIGCHLD:
        case SIGCONT:
        case SIGURG:
        case SIGWINCH:
        case SIGSTOP: /* stopping is not modelled: a stopped child just stays */
        case SIGTSTP:
        case SIGTTIN:
        case SIGTTOU:
                return false;
        default:
                return true;
        }
}

static bool
mock_sig_cores(int sig)
{
        switch (sig) {
        case SIGQUIT:
        case SIGILL:
        case SIGTRAP:
        case SIGABRT:
        case SIGBUS:
        case SIGFPE:
        case SIGSEGV:
        case SIGXCPU:
        case SIGXFSZ:
        case SIGSYS:
                return true;
        default:
                return false;
        }
}

int
spawn_kill(pid_t pid, int sig)
{
        struct mock_child *c = mock_find(pid < 0 && pid != INT_MIN ? -pid : pid);

        if (c == NULL) {
                /* 0 would be corrald's own process group, -1 every process. */
                fprintf(stderr, "mock_spawn: kill(%ld, %d): not a child of corrald\n", (long)pid,
                        sig);
                abort();
        }
        if (c->reaped) {
                fprintf(stderr, "mock_spawn: kill(%ld, %d): the child was reaped already\n",
                        (long)pid, sig);
                abort();
        }
        if (sig < 0 || sig >= _NSIG) {
                errno = EINVAL;
                return -1;
        }
        if (sig == 0 || c->ended)
                return 0;
        if (sig == SIGKILL || (c->prog != MOCK_DEAF && mock_sig_ends(sig)))
                mock_end(c, sig | (mock_sig_cores(sig) ? WCOREFLAG : 0));
        return 0;
}

pid_t
spawn_ended(void)
{
        size_t i;

        if (mock_unreaped == 0) {
                errno = ECHILD;
                return -1;
        }
        for (i = 0; mock_zombies > 0 && i < mock_count; i++) {
                if (mock_children[i].ended && !mock_children[i].reaped)
                        return MOCK_PID_BASE + (pid_t)i;
        }
        return 0;
}

pid_t
spawn_wait(pid_t pid, int *status)
{
        struct mock_child *c = mock_find(pid);

        if (c == NULL || c->reaped) {
                errno = ECHILD;
                return -1;
        }
        if (!c->ended) {
                fprintf(stderr, "mock_spawn: waitpid(%ld) on a running child would block\n",
                        (long)pid);
                abort();
        }
        c->reaped = true;
        mock_zombies--;
        mock_unreaped--;
        if (status != NULL)
                *status = c->wstatus;
        return pid;
}

/* Write what is pending to stdout (dropped without one); true if any went. */
static bool
mock_flush(struct mock_child *c)
{
        ssize_t n;

        if (c->off == c->len)
                return false;
        if (c->out == -1) {
                c->off = c->len;
                return true;
        }
        n = write(c->out, c->buf + c->off,
                  c->len - c->off > MOCK_IO_CHUNK ? MOCK_IO_CHUNK : c->len - c->off);
        if (n > 0) {
                c->off += (size_t)n;
                return true;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                c->off = c->len; /* the reader has gone (EPIPE) */
                return true;
        }
        return false;
}

/* cat: the next piece of stdin once the last one is written; ends at EOF. */
static bool
mock_cat(struct mock_child *c)
{
        bool did = mock_flush(c);
        ssize_t n;

        if (c->off < c->len)
                return did;
        if (c->buf == NULL)
                c->buf = xmalloc(MOCK_IO_CHUNK);
        n = c->in != -1 ? read(c->in, c->buf, MOCK_IO_CHUNK) : 0;
        if (n > 0) {
                c->len = (size_t)n;
                c->off = 0;
                mock_flush(c);
                return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return did;
        mock_end(c, W_EXITCODE(0, 0));
        return true;
}

/* Child i's step; it may call into the daemon, which may spawn (and move the array). */
static bool
mock_step_one(struct corrald *d, size_t i)
{
        struct mock_child *c = &mock_children[i];
        bool first = !c->started, did = false;
        struct process *p;

        c->started = true;
        switch (c->prog) {
        case MOCK_TRUE:
                mock_end(c, W_EXITCODE(0, 0));
                return true;
        case MOCK_FALSE:
                mock_end(c, W_EXITCODE(1, 0));
                return true;
        case MOCK_EXIT:
                mock_end(c, W_EXITCODE(c->code, 0));
                return true;
        case MOCK_CRASH:
                mock_end(c, SIGSEGV | WCOREFLAG);
                return true;
        case MOCK_ECHO:
                /* A full pipe holds it back (the daemon may have stopped reading). */
                if (mock_flush(c) || first)
                        did = true;
                if (c->off == c->len) {
                        mock_end(c, W_EXITCODE(0, 0));
                        did = true;
                }
                return did;
        case MOCK_CAT:
                return mock_cat(c) || first;
        case MOCK_READY:
                if (!first)
                        return false;
                /* As notify.c would deliver it: by the sender's pid. */
                if ((p = process_find_pid(d->processes, MOCK_PID_BASE + (pid_t)i)) != NULL)
                        process_notify(p, true, c->status);
                return true;
        default:
                return first;
        }
}

bool
mock_spawn_step(struct corrald *d)
{
        bool did = false;
        size_t i, n = mock_count; /* children spawned during the step start next time */

        for (i = 0; i < n; i++) {
                if (!mock_children[i].ended)
                        did |= mock_step_one(d, i);
        }
        return did;
}

bool
mock_spawn_reapable(void)
{
        return mock_zombies > 0;
}

void
mock_spawn_reset(void)
{
        size_t i;

        for (i = 0; i < mock_count; i++) {
                mock_release(&mock_children[i]);
                free(mock_children[i].status);
        }
        free(mock_children);
        mock_children = NULL;
        mock_count = mock_cap = 0;
        mock_zombies = mock_unreaped = 0;
}
