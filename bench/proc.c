/*
 * proc.c -- starting, watching and always stopping the bench's processes.
 *
 * The bench is a child subreaper: corrald's children, the daemonised
 * task-spooler server and any other orphan of ours is re-parented to us,
 * so "every descendant" is "every child, until there are none". The
 * registry of started PIDs is the one process-wide table of the program:
 * the SIGINT/SIGTERM handler must reach it, and it only uses
 * async-signal-safe calls (kill, waitpid, open/read/getdents64 on /proc).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

#define PROC_MAX 64

struct proc_entry {
        pid_t pid; /* 0: free slot */
        bool exited;
        int status;
        char what[32];
};

static struct proc_entry proc_table[PROC_MAX];
static char proc_workdir[256]; /* named by the handler: its logs are kept for a look */

static struct proc_entry *
proc_find(pid_t pid)
{
        size_t i;

        for (i = 0; i < PROC_MAX; i++) {
                if (proc_table[i].pid == pid)
                        return &proc_table[i];
        }
        return NULL;
}

void
proc_register(pid_t pid, const char *what)
{
        struct proc_entry *e = proc_find(0);

        if (e == NULL) {
                fprintf(stderr, "corral-bench: too many processes to track\n");
                kill(pid, SIGKILL);
                return;
        }
        e->exited = false;
        e->status = 0;
        snprintf(e->what, sizeof e->what, "%s", what);
        e->pid = pid; /* last: the handler may look at the table at any time */
}

void
proc_forget(pid_t pid)
{
        struct proc_entry *e = proc_find(pid);

        if (e != NULL && pid != 0)
                e->pid = 0;
}

/* Note the status of a registered child reaped by a wildcard wait. */
static void
proc_note_status(pid_t pid, int status)
{
        struct proc_entry *e = proc_find(pid);

        if (e != NULL && pid != 0) {
                e->exited = true;
                e->status = status;
        }
}

/* ---- /proc without stdio: usable from the signal handler ---------------- */

/* ppid and comm of pid from /proc/pid/stat; false if gone. */
static bool
proc_stat(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
        char path[64], buf[512], *open_p, *close_p, *p;
        ssize_t n;
        int fd;
        long v = 0;
        size_t i, len;

        /* "/proc/" + digits, built by hand: snprintf is not async-signal-safe. */
        char digits[24];
        long x = pid;

        len = 0;
        do {
                digits[len++] = (char)('0' + x % 10);
                x /= 10;
        } while (x > 0 && len < sizeof digits);
        memcpy(path, "/proc/", 6);
        for (i = 0; i < len; i++)
                path[6 + i] = digits[len - 1 - i];
        memcpy(path + 6 + len, "/stat", 6);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* "pid (comm) S ppid ...": comm may hold spaces and parentheses. */
        open_p = strchr(buf, '(');
        close_p = strrchr(buf, ')');
        if (open_p == NULL || close_p == NULL || close_p[1] == '\0' || close_p[2] == '\0')
                return false;
        if (comm != NULL && commlen > 0) {
                len = (size_t)(close_p - open_p - 1);
                if (len >= commlen)
                        len = commlen - 1;
                memcpy(comm, open_p + 1, len);
                comm[len] = '\0';
        }
        p = close_p + 4; /* ") S " */
        while (*p >= '0' && *p <= '9')
                v = v * 10 + (*p++ - '0');
        *ppid = (pid_t)v;
        return true;
}

struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/*
 * Call fn(pid, comm, arg) for every child of ours. Returns how many
 * children there are. Async-signal-safe.
 */
static size_t
proc_each_child(void (*fn)(pid_t, const char *, void *), void *arg)
{
        char buf[4096];
        pid_t self = getpid(), ppid;
        size_t count = 0;
        long n, off;
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char comm[32];

        if (fd == -1)
                return 0;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
                for (off = 0; off < n;) {
                        struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
                        const char *s = d->d_name;
                        long pid = 0;

                        off += d->d_reclen;
                        if (*s < '1' || *s > '9')
                                continue;
                        for (; *s >= '0' && *s <= '9'; s++)
                                pid = pid * 10 + (*s - '0');
                        if (*s != '\0' || !proc_stat((pid_t)pid, &ppid, comm, sizeof comm) ||
                            ppid != self)
                                continue;
                        count++;
                        if (fn != NULL)
                                fn((pid_t)pid, comm, arg);
                }
        }
        close(fd);
        return count;
}

static void
proc_kill_cb(pid_t pid, const char *comm, void *arg)
{
        kill(pid, SIGKILL);
}

static void
proc_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Kill everything: registered processes first, then every child until none is left. */
static void
proc_kill_everything(void)
{
        size_t i;
        int round, status;
        pid_t pid;

        for (i = 0; i < PROC_MAX; i++) {
                if (proc_table[i].pid > 0 && !proc_table[i].exited)
                        kill(proc_table[i].pid, SIGKILL);
        }
        /* Orphans arrive as their parents die: repeat, bounded (about 5 s). */
        for (round = 0; round < 500; round++) {
                while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                        proc_note_status(pid, status);
                if (proc_each_child(proc_kill_cb, NULL) == 0)
                        break;
                proc_sleep_ms(10);
        }
}

static void
proc_signal_handler(int sig)
{
        static const char msg[] = "corral-bench: interrupted; stopping everything it started\n";
        static const char kept[] = "corral-bench: logs kept in ";
        ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);

        proc_kill_everything();
        if (proc_workdir[0] != '\0') {
                r = write(STDERR_FILENO, kept, sizeof kept - 1);
                r = write(STDERR_FILENO, proc_workdir, strlen(proc_workdir));
                r = write(STDERR_FILENO, "\n", 1);
        }
        (void)r;
        _exit(128 + sig);
}

void
proc_init(const char *workdir)
{
        struct sigaction sa;

        snprintf(proc_workdir, sizeof proc_workdir, "%s", workdir);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
                perror("corral-bench: prctl(PR_SET_CHILD_SUBREAPER)");
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = proc_signal_handler;
        sigfillset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGALRM, &sa, NULL); /* the per-scenario watchdog */
        /* A dead socket peer must be an error return, not our death. */
        signal(SIGPIPE, SIG_IGN);
}

void
proc_kill_all(void)
{
        proc_kill_everything();
}

void
proc_reap_orphans(void)
{
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                proc_note_status(pid, status);
}

struct named {
        const char *comm;
        pid_t *pids;
        size_t max, n;
};

static void
proc_named_cb(pid_t pid, const char *comm, void *arg)
{
        struct named *nm = arg;

        if (strcmp(comm, nm->comm) == 0 && nm->n < nm->max)
                nm->pids[nm->n++] = pid;
}

size_t
proc_children_named(const char *comm, pid_t *pids, size_t max)
{
        struct named nm = {comm, pids, max, 0};

        proc_each_child(proc_named_cb, &nm);
        return nm.n;
}

/* ---- starting and stopping ------------------------------------------------ */

static void
proc_child_exec(const char *const *argv, const char *const *env, const char *log, int deathsig,
                pid_t parent, int errfd)
{
        sigset_t none;
        int fd, err, sig;

        setpgid(0, 0); /* our own group: a Ctrl-C reaches the bench, which stops us */
        if (deathsig > 0 && (prctl(PR_SET_PDEATHSIG, deathsig) == -1 || getppid() != parent))
                _exit(127);
        for (sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if ((fd = open("/dev/null", O_RDONLY)) != -1) {
                dup2(fd, 0);
                close(fd);
        }
        fd = log != NULL ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
        if (fd == -1)
                fd = open("/dev/null", O_WRONLY);
        if (fd != -1) {
                dup2(fd, 1);
                dup2(fd, 2);
                if (fd > 2)
                        close(fd);
        }
        for (; env != NULL && *env != NULL; env++)
                putenv((char *)*env);
        execvp(argv[0], (char *const *)argv);
        err = errno;
        if (write(errfd, &err, sizeof err) < 0)
                _exit(127);
        _exit(127);
}

pid_t
proc_start(const char *const *argv, const char *const *env, const char *log, int deathsig,
           char **cause)
{
        pid_t parent = getpid(), pid;
        int pfd[2], err = 0;
        ssize_t n;

        if (pipe2(pfd, O_CLOEXEC) == -1)
                return fail(cause, "pipe: %s", strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid == -1) {
                close(pfd[0]);
                close(pfd[1]);
                return fail(cause, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                close(pfd[0]);
                proc_child_exec(argv, env, log, deathsig, parent, pfd[1]);
        }
        close(pfd[1]);
        proc_register(pid, argv[0]);
        do
                n = read(pfd[0], &err, sizeof err);
        while (n < 0 && errno == EINTR);
        close(pfd[0]);
        if (n > 0) {
                proc_wait(pid, 5, NULL);
                proc_forget(pid);
                return fail(cause, "cannot run %s: %s", argv[0], strerror(err));
        }
        return pid;
}

bool
proc_wait(pid_t pid, double timeout, int *status)
{
        double deadline = now_mono() + timeout;
        long ms = 1;
        int st;
        pid_t r;
        struct proc_entry *e;

        for (;;) {
                r = waitpid(pid, &st, WNOHANG);
                if (r == pid) {
                        proc_note_status(pid, st);
                        if (status != NULL)
                                *status = st;
                        return true;
                }
                if (r == -1 && errno == ECHILD) {
                        /* Reaped already by a wildcard wait: the registry has its status. */
                        e = proc_find(pid);
                        if (status != NULL)
                                *status = e != NULL && e->exited ? e->status : 0;
                        return true;
                }
                if (now_mono() > deadline)
                        return false;
                proc_sleep_ms(ms);
                if (ms < 20)
                        ms *= 2;
        }
}

void
proc_stop(pid_t pid, int sig, double timeout)
{
        if (pid <= 0)
                return;
        kill(pid, sig);
        if (!proc_wait(pid, timeout, NULL)) {
                fprintf(stderr, "corral-bench: pid %ld did not stop within %gs; killing it\n",
                        (long)pid, timeout);
                kill(pid, SIGKILL);
                proc_wait(pid, 5, NULL);
        }
        proc_forget(pid);
}

int
proc_run(const char *const *argv, const char *const *env, double timeout)
{
        posix_spawn_file_actions_t fa;
        char **envp;
        size_t n = 0, m = 0, i;
        pid_t pid;
        int status, error;

        while (environ[n] != NULL)
                n++;
        while (env != NULL && env[m] != NULL)
                m++;
        envp = xcalloc(n + m + 1, sizeof *envp);
        /* Extra entries first: getenv() finds the first match. */
        for (i = 0; i < m; i++)
                envp[i] = (char *)env[i];
        for (i = 0; i < n; i++)
                envp[m + i] = environ[i];
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        error = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        free(envp);
        if (error != 0)
                return -1;
        if (!proc_wait(pid, timeout, &status)) {
                kill(pid, SIGKILL);
                proc_wait(pid, 5, NULL);
                return -1;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

long
proc_rss_kib(pid_t pid)
{
        char path[64], *buf, *p;
        long kib = -1;

        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
        if ((buf = file_read(path, NULL)) == NULL)
                return -1;
        if ((p = strstr(buf, "\nVmRSS:")) != NULL)
                kib = strtol(p + 7, NULL, 10);
        free(buf);
        return kib;
}

long long
proc_cpu_ns(pid_t pid)
{
        char path[64], *buf;
        long long ns = -1;

        /* schedstat's first field: nanoseconds on a CPU (utime/stime tick at 10 ms only). */
        snprintf(path, sizeof path, "/proc/%ld/schedstat", (long)pid);
        if ((buf = file_read(path, NULL)) == NULL)
                return -1;
        ns = strtoll(buf, NULL, 10);
        free(buf);
        return ns;
}

long
proc_headroom(void)
{
        char *s = file_read("/proc/sys/kernel/pid_max", NULL), *slash;
        long pid_max = s != NULL ? strtol(s, NULL, 10) : 32768, alive = 0, limit;
        struct rlimit rl;

        free(s);
        /* /proc/loadavg's "running/total" counts every task, which pid_max bounds. */
        if ((s = file_read("/proc/loadavg", NULL)) != NULL && (slash = strchr(s, '/')) != NULL)
                alive = strtol(slash + 1, NULL, 10);
        free(s);
        limit = pid_max;
        if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (long)rl.rlim_cur < limit && geteuid() != 0)
                limit = (long)rl.rlim_cur;
        return limit - alive;
}
