/*
 * harness.c -- start and stop a real corrald per test, run programs with
 * bounded waits, inspect /proc, and talk raw MessagePack-RPC.
 *
 * Invariant: nothing a test starts outlives it. The test process makes
 * itself a child subreaper, so the daemon, its children and their
 * orphans all remain its descendants; cleanup() kills every descendant
 * (and their process groups) and reaps them, at exit, on failure and
 * from the alarm() guard. The harness is test code: it keeps a little
 * global state (the running daemons) so that cleanup can find them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_HARNESS 8
#define ALARM_GUARD 100 /* seconds; CTest's TIMEOUT is a little longer */
#define READY_WAIT  15.0
#define STOP_WAIT   15.0

static struct harness *harnesses[MAX_HARNESS];
static const char *current_case = "?";
static volatile sig_atomic_t in_cleanup;

/* ---- time and waiting ------------------------------------------------- */

double
now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
}

bool
wait_until(bool (*pred)(void *), void *arg, double timeout)
{
        double deadline = now_mono() + timeout;
        int ms = 2;

        for (;;) {
                if (pred(arg))
                        return true;
                if (now_mono() > deadline)
                        return false;
                sleep_ms(ms);
                if (ms < 50)
                        ms *= 2;
        }
}

/* ---- /proc ------------------------------------------------------------ */

/* Parse /proc/pid/stat: state, ppid, pgid. Returns false if gone. */
static bool
proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgid)
{
        char path[64], buf[1024], *p;
        ssize_t n;
        int fd;
        long pp, pg;

        snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
        if (p == NULL || sscanf(p + 1, " %c %ld %ld", state, &pp, &pg) != 3)
                return false;
        if (ppid != NULL)
                *ppid = (pid_t)pp;
        if (pgid != NULL)
                *pgid = (pid_t)pg;
        return true;
}

char
proc_state(pid_t pid)
{
        char s;

        return proc_stat(pid, &s, NULL, NULL) ? s : 0;
}

pid_t
proc_ppid(pid_t pid)
{
        char s;
        pid_t pp;

        return proc_stat(pid, &s, &pp, NULL) ? pp : -1;
}

/* Calls fn for each process in /proc; stops early if fn returns false. */
static void
proc_each(bool (*fn)(pid_t, char, pid_t, pid_t, void *), void *arg)
{
        struct dirent *de;
        DIR *d;
        char *end;
        long pid;
        char st;
        pid_t pp, pg;

        d = opendir("/proc");
        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                pid = strtol(de->d_name, &end, 10);
                if (*end != '\0' || pid <= 0)
                        continue;
                if (!proc_stat((pid_t)pid, &st, &pp, &pg))
                        continue;
                if (!fn((pid_t)pid, st, pp, pg, arg))
                        break;
        }
        closedir(d);
}

struct count_arg {
        pid_t parent;
        bool zombies_only;
        int n;
};

static bool
count_cb(pid_t pid, char st, pid_t pp, pid_t pg, void *arg)
{
        struct count_arg *c = arg;

        if (pp == c->parent && (!c->zombies_only || st == 'Z'))
                c->n++;
        return true;
}

int
proc_zombie_children(pid_t parent)
{
        struct count_arg c = {parent, true, 0};

        proc_each(count_cb, &c);
        return c.n;
}

int
proc_children(pid_t parent)
{
        struct count_arg c = {parent, false, 0};

        proc_each(count_cb, &c);
        return c.n;
}

int
proc_fd_count(pid_t pid)
{
        char path[64];
        struct dirent *de;
        DIR *d;
        int n = 0;

        snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
        d = opendir(path);
        if (d == NULL)
                return -1;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] != '.')
                        n++;
        }
        closedir(d);
        return n;
}

bool
pid_gone(pid_t pid, pid_t daemon)
{
        char st;
        pid_t pp;

        if (!proc_stat(pid, &st, &pp, NULL))
                return true;
        if (st != 'Z' && st != 'X')
                return false;
        if (pp == getpid()) {
                /* Reparented to us, the subreaper: reap it. */
                waitpid(pid, NULL, WNOHANG);
                return true;
        }
        /* A zombie of the daemon's is the daemon's to reap. */
        return pp != daemon;
}

struct gone_arg {
        pid_t pid, daemon;
};

static bool
gone_pred(void *arg)
{
        struct gone_arg *g = arg;

        return pid_gone(g->pid, g->daemon);
}

bool
wait_pid_gone(pid_t pid, pid_t daemon, double timeout)
{
        struct gone_arg g = {pid, daemon};

        return wait_until(gone_pred, &g, timeout);
}

/* ---- cleanup ------------------------------------------------------------ */

#define MAX_PROCS 8192

struct scan {
        pid_t pid[MAX_PROCS], ppid[MAX_PROCS], pgid[MAX_PROCS];
        int n;
};

static bool
scan_cb(pid_t pid, char st, pid_t pp, pid_t pg, void *arg)
{
        struct scan *s = arg;

        if (s->n == MAX_PROCS)
                return false;
        s->pid[s->n] = pid;
        s->ppid[s->n] = pp;
        s->pgid[s->n] = pg;
        s->n++;
        return true;
}

/* SIGKILL every descendant and its process group; returns how many were found. */
static int
kill_descendants(void)
{
        static struct scan s; /* large: keep it off the stack */
        static bool mark[MAX_PROCS];
        pid_t self = getpid(), mypg = getpgrp();
        bool changed = true;
        int found = 0;

        s.n = 0;
        proc_each(scan_cb, &s);
        memset(mark, 0, sizeof mark);
        while (changed) {
                changed = false;
                for (int i = 0; i < s.n; i++) {
                        if (mark[i] || s.pid[i] == self)
                                continue;
                        bool desc = s.ppid[i] == self;
                        for (int j = 0; !desc && j < s.n; j++)
                                desc = mark[j] && s.pid[j] == s.ppid[i];
                        if (desc) {
                                mark[i] = true;
                                changed = true;
                        }
                }
        }
        for (int i = 0; i < s.n; i++) {
                if (!mark[i])
                        continue;
                found++;
                if (s.pgid[i] > 1 && s.pgid[i] != mypg)
                        kill(-s.pgid[i], SIGKILL);
                kill(s.pid[i], SIGKILL);
        }
        return found;
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        remove(path);
        return 0;
}

static void
cleanup(void)
{
        int status;

        if (in_cleanup)
                return;
        in_cleanup = 1;
        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] != NULL && harnesses[i]->pid > 0 && !harnesses[i]->exited)
                        kill(harnesses[i]->pid, SIGKILL);
        }
        /* Orphans reach us as their parents die: repeat until none is left (bounded). */
        for (int round = 0; round < 100; round++) {
                int found = kill_descendants();

                while (waitpid(-1, &status, WNOHANG) > 0)
                        ;
                if (found == 0)
                        break;
                sleep_ms(20);
        }
        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] != NULL && harnesses[i]->dir[0] != '\0')
                        nftw(harnesses[i]->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        }
}

static void
on_fatal_signal(int sig)
{
        static const char msg[] = "harness: guard signal: killing the daemon and children\n";

        /* Async-signal-safe part first: the daemons die even if the rest hangs. */
        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] != NULL && harnesses[i]->pid > 0 && !harnesses[i]->exited)
                        kill(harnesses[i]->pid, SIGKILL);
        }
        if (write(2, msg, sizeof msg - 1) < 0) {
                /* nothing to do */
        }
        cleanup();
        _exit(sig == SIGALRM ? 124 : 128 + sig);
}

static void
dump_logs(void)
{
        for (int i = 0; i < MAX_HARNESS; i++) {
                struct harness *h = harnesses[i];
                size_t len;
                char *log;

                if (h == NULL)
                        continue;
                log = file_read(h->log, &len);
                if (log == NULL)
                        continue;
                fprintf(stderr, "---- corrald log (%s, pid %ld) ----\n", h->sock, (long)h->pid);
                /* The tail is what matters; keep the output readable. */
                fputs(len > 32768 ? log + len - 32768 : log, stderr);
                fprintf(stderr, "---- end of log ----\n");
                free(log);
        }
}

void
t_fail(const char *file, int line, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "FAIL %s: %s:%d: ", current_case, file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        dump_logs();
        cleanup();
        fflush(NULL);
        /* _exit: a failed test's leaks are not news; LeakSanitizer checks passing ones. */
        _exit(1);
}

int
harness_main(int argc, char **argv, const struct test_case *cases, size_t n)
{
        struct sigaction sa;
        double t0;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 2 && strcmp(argv[1], "--list") == 0) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", cases[i].name);
                return 0;
        }
        if (argc != 2) {
                fprintf(stderr, "usage: %s CASE | --list\n", argv[0]);
                return 2;
        }
        for (size_t i = 0; i < n; i++) {
                if (strcmp(argv[1], cases[i].name) != 0)
                        continue;
                current_case = cases[i].name;
                signal(SIGPIPE, SIG_IGN);
                if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
                        perror("prctl(PR_SET_CHILD_SUBREAPER)");
                        return 1;
                }
                atexit(cleanup);
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = on_fatal_signal;
                sigaction(SIGALRM, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGHUP, &sa, NULL);
                /* CORRAL_TEST_ALARM overrides the guard (to test the guard itself). */
                alarm(getenv("CORRAL_TEST_ALARM") != NULL
                          ? (unsigned)atoi(getenv("CORRAL_TEST_ALARM"))
                          : ALARM_GUARD);
                t0 = now_mono();
                cases[i].run();
                cleanup();
                printf("PASS %s (%.2f s)\n", current_case, now_mono() - t0);
                return 0;
        }
        fprintf(stderr, "%s: no test case %s\n", argv[0], argv[1]);
        return 2;
}

/* ---- files -------------------------------------------------------------- */

char *
file_read(const char *path, size_t *lenp)
{
        size_t len = 0, cap = 4096;
        char *buf, *nbuf;
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1)
                return NULL;
        buf = malloc(cap);
        if (buf == NULL)
                abort();
        for (;;) {
                if (len + 1 >= cap) {
                        cap *= 2;
                        nbuf = realloc(buf, cap);
                        if (nbuf == NULL)
                                abort();
                        buf = nbuf;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n == -1 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        buf[len] = '\0';
        if (lenp != NULL)
                *lenp = len;
        return buf;
}

bool
file_exists(const char *path)
{
        return access(path, F_OK) == 0;
}

static bool
file_pred(void *arg)
{
        return file_exists(arg);
}

bool
wait_file(const char *path, double timeout)
{
        return wait_until(file_pred, (void *)path, timeout);
}

/* ---- the daemon -------------------------------------------------------- */

struct harness *
harness_new(void)
{
        const char *tmp = getenv("TMPDIR");
        struct harness *h;
        int slot = -1;

        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] == NULL) {
                        slot = i;
                        break;
                }
        }
        T_ASSERTF(slot != -1, "too many daemons in one test");
        h = calloc(1, sizeof *h);
        T_ASSERT(h != NULL);
        /* A socket path must fit sun_path (108 bytes): fall back to /tmp. */
        if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60)
                tmp = "/tmp";
        snprintf(h->dir, sizeof h->dir, "%s/corral-test.XXXXXX", tmp);
        T_ASSERTF(mkdtemp(h->dir) != NULL, "mkdtemp %s: %s", h->dir, strerror(errno));
        snprintf(h->sock, sizeof h->sock, "%s/corrald.sock", h->dir);
        snprintf(h->log, sizeof h->log, "%s/corrald.log", h->dir);
        harnesses[slot] = h;
        return h;
}

const char *
harness_path(const struct harness *h, const char *name)
{
        static char bufs[8][512];
        static int next;
        char *b = bufs[next++ % 8];

        snprintf(b, sizeof bufs[0], "%s/%s", h->dir, name);
        return b;
}

bool
harness_valgrind(void)
{
        const char *v = getenv("CORRAL_TEST_VALGRIND");

        return v != NULL && strcmp(v, "1") == 0;
}

/* Append opt to the environment variable name, sep between options. */
static void
env_append(const char *name, const char *opt, const char *sep)
{
        const char *old = getenv(name);
        char buf[1024];

        snprintf(buf, sizeof buf, "%s%s%s", old ? old : "", old && *old ? sep : "", opt);
        setenv(name, buf, 1);
}

void
harness_small_quarantine(void)
{
        /* Checked by the build: ASan is in corrald whenever it is in the tests. */
#if defined(__SANITIZE_ADDRESS__)
        env_append("ASAN_OPTIONS", "quarantine_size_mb=4", ":");
#endif
        if (harness_valgrind())
                env_append("VALGRIND_OPTS", "--freelist-vol=4000000", " ");
}

bool
harness_can_connect(const char *path)
{
        struct sockaddr_un sun;
        int fd, rc;

        if (strlen(path) >= sizeof sun.sun_path)
                return false;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd == -1)
                return false;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
        close(fd);
        return rc == 0;
}

/* In the forked child: become corrald. Never returns. */
static void
exec_daemon(const struct harness *h, pid_t parent, const char *const *argv)
{
        struct rlimit rl = {0, 0};
        sigset_t set;
        int fd;

        setpgid(0, 0);
        /* If the test dies without cleaning up, the daemon dies with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(127);
        if (chdir(h->dir) == -1)
                _exit(127);
        setrlimit(RLIMIT_CORE, &rl); /* no core files from the test's children */
        fd = open("/dev/null", O_RDONLY);
        if (fd == -1 || dup2(fd, 0) == -1)
                _exit(127);
        fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
                _exit(127);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigemptyset(&set);
        if (h->dirty_signals) {
                /* Like a careless parent: the daemon must not pass these on. */
                sigaddset(&set, SIGUSR2);
                signal(SIGXFSZ, SIG_IGN);
        }
        sigprocmask(SIG_SETMASK, &set, NULL);
        unsetenv("CORRAL_SOCKET");
        setenv("CORRAL_TEST_MARK", "inherited", 1);
        execv(argv[0], (char *const *)argv);
        dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

void
harness_launch(struct harness *h, const char *const *extra)
{
        char state[300];
        const char *argv[40];
        size_t n = 0;
        double deadline;
        pid_t pid, parent = getpid();
        int status;

        /*
         * Private state and no configuration file: a test must never read
         * or write the machine's /etc/corral or /var/lib/corral (extra may
         * name its own; the last one given wins).
         */
        snprintf(state, sizeof state, "%s/state", h->dir);
        argv[n++] = CORRALD_PATH;
        argv[n++] = "--socket";
        argv[n++] = h->sock;
        argv[n++] = "--state-dir";
        argv[n++] = state;
        argv[n++] = "--config";
        argv[n++] = "/dev/null";
        argv[n++] = "--log-level";
        argv[n++] = "debug";
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
                T_ASSERT(n < 39);
                argv[n++] = extra[i];
        }
        argv[n] = NULL;

        fflush(NULL);
        pid = fork();
        T_ASSERTF(pid != -1, "fork: %s", strerror(errno));
        if (pid == 0)
                exec_daemon(h, parent, argv);
        h->pid = pid;
        h->exited = false;

        deadline = now_mono() + READY_WAIT;
        for (int ms = 2;; ms = ms < 50 ? ms * 2 : ms) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        h->exited = true;
                        h->status = status;
                        t_fail(__FILE__, __LINE__,
                               "corrald exited before it was ready (status 0x%x)", status);
                }
                if (harness_can_connect(h->sock))
                        return;
                if (now_mono() > deadline)
                        t_fail(__FILE__, __LINE__,
                               "corrald did not accept connections within %.0f s", READY_WAIT);
                sleep_ms(ms);
        }
}

struct harness *
harness_start(const char *const *extra)
{
        struct harness *h = harness_new();

        harness_launch(h, extra);
        return h;
}

bool
harness_wait_exit(struct harness *h, double timeout)
{
        double deadline = now_mono() + timeout;
        int status;

        if (h->exited)
                return true;
        for (int ms = 1;; ms = ms < 50 ? ms * 2 : ms) {
                pid_t r = waitpid(h->pid, &status, WNOHANG);

                if (r == h->pid) {
                        h->exited = true;
                        h->status = status;
                        return true;
                }
                if (now_mono() > deadline)
                        return false;
                sleep_ms(ms);
        }
}

struct leftover_arg {
        pid_t self;
        int n;
        char list[512];
};

static bool
is_harness_daemon(pid_t pid)
{
        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] != NULL && harnesses[i]->pid == pid && !harnesses[i]->exited)
                        return true;
        }
        return false;
}

static bool
leftover_cb(pid_t pid, char st, pid_t pp, pid_t pg, void *arg)
{
        struct leftover_arg *a = arg;
        size_t len;

        if (pp != a->self || is_harness_daemon(pid))
                return true;
        if (st == 'Z' || st == 'X') {
                waitpid(pid, NULL, WNOHANG); /* an orphan that already died: ours to reap */
                return true;
        }
        a->n++;
        len = strlen(a->list);
        snprintf(a->list + len, sizeof a->list - len, " %ld(%c)", (long)pid, st);
        return true;
}

int
harness_leftovers(char *buf, size_t len)
{
        struct leftover_arg a;

        memset(&a, 0, sizeof a);
        a.self = getpid();
        proc_each(leftover_cb, &a);
        if (buf != NULL)
                snprintf(buf, len, "%s", a.list);
        return a.n;
}

void
harness_stop(struct harness *h)
{
        char list[512];
        int left;

        T_ASSERT(h->pid > 0);
        if (!h->exited) {
                kill(h->pid, SIGTERM);
                if (!harness_wait_exit(h, STOP_WAIT)) {
                        kill(h->pid, SIGKILL);
                        harness_wait_exit(h, 5);
                        t_fail(__FILE__, __LINE__, "corrald did not exit within %.0f s of SIGTERM",
                               STOP_WAIT);
                }
        }
        T_ASSERTF(WIFEXITED(h->status) && WEXITSTATUS(h->status) == 0,
                  "corrald ended with %s %d, expected exit 0",
                  WIFEXITED(h->status) ? "exit status" : "signal",
                  WIFEXITED(h->status) ? WEXITSTATUS(h->status) : WTERMSIG(h->status));
        /*
         * We are the subreaper: whatever the daemon left alive is now our
         * child. A task already on its way out (ASan's leak checker runs
         * its tracer as a separate task at exit) gets a moment to go; a
         * real leftover (a sleeping child) is still there after it.
         */
        left = harness_leftovers(list, sizeof list);
        for (int i = 0; left > 0 && i < 40; i++) {
                usleep(50 * 1000);
                left = harness_leftovers(list, sizeof list);
        }
        T_ASSERTF(left == 0, "corrald exited but left %d live processes behind:%s", left, list);
}

void
harness_free(struct harness *h)
{
        if (h == NULL)
                return;
        if (h->pid > 0 && !h->exited) {
                kill(h->pid, SIGKILL);
                harness_wait_exit(h, 5);
        }
        nftw(h->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        for (int i = 0; i < MAX_HARNESS; i++) {
                if (harnesses[i] == h)
                        harnesses[i] = NULL;
        }
        free(h);
}

struct corral *
harness_connect(const struct harness *h)
{
        struct corral_error err;
        struct corral *c;

        memset(&err, 0, sizeof err);
        c = corral_connect(h->sock, &err);
        T_ASSERTF(c != NULL, "corral_connect(%s): %s %s", h->sock, err.code, err.message);
        corral_set_timeout(c, 30);
        return c;
}

/* ---- running programs --------------------------------------------------- */

struct buf {
        char *p;
        size_t len, cap;
};

static void
buf_read(struct buf *b, int *fd)
{
        char tmp[4096];
        ssize_t n;

        n = read(*fd, tmp, sizeof tmp);
        if (n == -1 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                close(*fd);
                *fd = -1;
                return;
        }
        if (b->len + (size_t)n + 1 > b->cap) {
                b->cap = (b->len + (size_t)n + 1) * 2;
                b->p = realloc(b->p, b->cap);
                if (b->p == NULL)
                        abort();
        }
        memcpy(b->p + b->len, tmp, (size_t)n);
        b->len += (size_t)n;
        b->p[b->len] = '\0';
}

void
run_result_clear(struct run_result *r)
{
        free(r->out);
        free(r->err);
        memset(r, 0, sizeof *r);
}

int
run_cmd(struct run_result *r, double timeout, const char *const *argv, const char *const *env)
{
        struct buf out = {0}, err = {0};
        int po[2], pe[2], status;
        double deadline = now_mono() + timeout;
        pid_t pid;

        memset(r, 0, sizeof *r);
        T_ASSERT(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
        fflush(NULL);
        pid = fork();
        T_ASSERT(pid != -1);
        if (pid == 0) {
                int fd = open("/dev/null", O_RDONLY);

                setpgid(0, 0);
                dup2(fd, 0);
                dup2(po[1], 1);
                dup2(pe[1], 2);
                signal(SIGPIPE, SIG_DFL);
                for (size_t i = 0; env != NULL && env[i] != NULL; i++)
                        putenv((char *)env[i]);
                execv(argv[0], (char *const *)argv);
                dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(po[1]);
        close(pe[1]);
        while (po[0] != -1 || pe[0] != -1) {
                struct pollfd pfd[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
                int left = (int)((deadline - now_mono()) * 1000);

                if (left <= 0)
                        break;
                if (poll(pfd, 2, left) == -1 && errno != EINTR)
                        break;
                if (po[0] != -1 && pfd[0].revents != 0)
                        buf_read(&out, &po[0]);
                if (pe[0] != -1 && pfd[1].revents != 0)
                        buf_read(&err, &pe[0]);
        }
        if (po[0] != -1)
                close(po[0]);
        if (pe[0] != -1)
                close(pe[0]);
        r->status = -1;
        for (int ms = 1;; ms = ms < 50 ? ms * 2 : ms) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        r->status =
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                        break;
                }
                if (now_mono() > deadline) {
                        kill(-pid, SIGKILL);
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        break;
                }
                sleep_ms(ms);
        }
        r->out = out.p != NULL ? out.p : strdup("");
        r->err = err.p != NULL ? err.p : strdup("");
        return r->status;
}

int
run_ctl(const struct harness *h, struct run_result *r, ...)
{
        const char *argv[64];
        const char *a;
        size_t n = 0;
        va_list ap;

        argv[n++] = CORRALCTL_PATH;
        argv[n++] = "--socket";
        argv[n++] = h->sock;
        va_start(ap, r);
        while ((a = va_arg(ap, const char *)) != NULL) {
                T_ASSERT(n < 63);
                argv[n++] = a;
        }
        va_end(ap);
        argv[n] = NULL;
        return run_cmd(r, 30, argv, NULL);
}

/* ---- raw MessagePack-RPC ----------------------------------------------- */

struct raw *
raw_connect(const char *path)
{
        struct sockaddr_un sun;
        struct raw *r;

        r = calloc(1, sizeof *r);
        T_ASSERT(r != NULL);
        r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        T_ASSERT(r->fd != -1);
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
        T_ASSERTF(connect(r->fd, (struct sockaddr *)&sun, sizeof sun) == 0, "connect %s: %s", path,
                  strerror(errno));
        fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
        T_ASSERT(msgpack_unpacker_init(&r->up, 65536));
        return r;
}

void
raw_close(struct raw *r)
{
        if (r == NULL)
                return;
        close(r->fd);
        msgpack_unpacker_destroy(&r->up);
        free(r);
}

bool
raw_send(struct raw *r, const void *data, size_t len)
{
        const char *p = data;
        double deadline = now_mono() + 20;

        while (len > 0) {
                ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);

                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1 && errno == EAGAIN) {
                        struct pollfd pfd = {r->fd, POLLOUT, 0};

                        T_ASSERTF(now_mono() < deadline, "raw_send: blocked for 20 s");
                        poll(&pfd, 1, 100);
                        continue;
                }
                return false; /* EPIPE, ECONNRESET: the peer is gone */
        }
        return true;
}

void
raw_request(struct raw *r, uint32_t msgid, const char *method,
            void (*params_fn)(msgpack_packer *, void *), void *arg)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 4);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint32(&pk, msgid);
        pk_str(&pk, method);
        if (params_fn != NULL) {
                msgpack_pack_array(&pk, 1);
                params_fn(&pk, arg);
        } else {
                msgpack_pack_array(&pk, 0);
        }
        T_ASSERTF(raw_send(r, sb.data, sb.size), "raw_request %s: connection closed", method);
        msgpack_sbuffer_destroy(&sb);
}

int
raw_next(struct raw *r, double timeout, msgpack_unpacked *out)
{
        double deadline = now_mono() + timeout;

        for (;;) {
                msgpack_unpack_return rc = msgpack_unpacker_next(&r->up, out);

                if (rc == MSGPACK_UNPACK_SUCCESS)
                        return 1;
                T_ASSERTF(rc == MSGPACK_UNPACK_CONTINUE, "the daemon sent invalid MessagePack (%d)",
                          (int)rc);
                if (r->closed)
                        return 0;
                int left = (int)((deadline - now_mono()) * 1000);
                if (left < 0)
                        return -1;
                struct pollfd pfd = {r->fd, POLLIN, 0};
                if (poll(&pfd, 1, left) <= 0)
                        continue;
                T_ASSERT(msgpack_unpacker_reserve_buffer(&r->up, 65536));
                ssize_t n = recv(r->fd, msgpack_unpacker_buffer(&r->up),
                                 msgpack_unpacker_buffer_capacity(&r->up), 0);
                if (n == -1 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0) {
                        r->closed = true; /* EOF or ECONNRESET: queued data came first */
                        continue;
                }
                msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
        }
}

void
raw_response(struct raw *r, double timeout, msgpack_unpacked *out)
{
        int rc = raw_next(r, timeout, out);

        T_ASSERTF(rc != -1, "no response within %.1f s", timeout);
        T_ASSERTF(rc != 0, "the daemon closed the connection instead of responding");
        T_ASSERTF(out->data.type == MSGPACK_OBJECT_ARRAY && out->data.via.array.size == 4 &&
                      out->data.via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      out->data.via.array.ptr[0].via.u64 == 1,
                  "not a response [1, msgid, error, result]");
}

bool
raw_wait_closed(struct raw *r, double timeout)
{
        double deadline = now_mono() + timeout;
        msgpack_unpacked m;
        int rc;

        msgpack_unpacked_init(&m);
        for (;;) {
                double left = deadline - now_mono();

                rc = raw_next(r, left > 0 ? left : 0, &m);
                if (rc != 1)
                        break;
        }
        msgpack_unpacked_destroy(&m);
        return rc == 0;
}

uint32_t
resp_msgid(const msgpack_object *o)
{
        const msgpack_object *id = &o->via.array.ptr[1];

        T_ASSERTF(id->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "response msgid is not a uint");
        return (uint32_t)id->via.u64;
}

bool
resp_msgid_nil(const msgpack_object *o)
{
        return o->via.array.ptr[1].type == MSGPACK_OBJECT_NIL;
}

const msgpack_object *
resp_error(const msgpack_object *o)
{
        const msgpack_object *e = &o->via.array.ptr[2];

        if (e->type == MSGPACK_OBJECT_NIL)
                return NULL;
        T_ASSERTF(e->type == MSGPACK_OBJECT_MAP, "response error is neither nil nor a map");
        return e;
}

const msgpack_object *
resp_result(const msgpack_object *o)
{
        return &o->via.array.ptr[3];
}

const char *
resp_error_str(const msgpack_object *o, const char *key)
{
        const msgpack_object *e = resp_error(o), *v;
        const char *s;

        if (e == NULL)
                return "";
        v = obj_get(e, key);
        s = v != NULL ? obj_str(v) : NULL;
        return s != NULL ? s : "";
}

const msgpack_object *
obj_get(const msgpack_object *map, const char *key)
{
        size_t klen = strlen(key);

        if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
                return NULL;
        for (uint32_t i = 0; i < map->via.map.size; i++) {
                const msgpack_object_kv *kv = &map->via.map.ptr[i];

                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
                    memcmp(kv->key.via.str.ptr, key, klen) == 0)
                        return &kv->val;
        }
        return NULL;
}

const char *
obj_str(const msgpack_object *o)
{
        static char bufs[8][4096];
        static int next;
        char *b;
        size_t n;

        if (o == NULL || o->type != MSGPACK_OBJECT_STR)
                return NULL;
        b = bufs[next++ % 8];
        n = o->via.str.size < sizeof bufs[0] - 1 ? o->via.str.size : sizeof bufs[0] - 1;
        memcpy(b, o->via.str.ptr, n);
        b[n] = '\0';
        return b;
}

bool
obj_is_nil(const msgpack_object *o)
{
        return o == NULL || o->type == MSGPACK_OBJECT_NIL;
}

int64_t
obj_int(const msgpack_object *o)
{
        T_ASSERTF(o != NULL && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                                o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER),
                  "expected an integer");
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)o->via.u64 : o->via.i64;
}

void
pk_str(msgpack_packer *pk, const char *s)
{
        size_t n = strlen(s);

        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
}

void
pk_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
        pk_str(pk, key);
        pk_str(pk, val);
}

void
pk_kv_uint(msgpack_packer *pk, const char *key, uint64_t v)
{
        pk_str(pk, key);
        msgpack_pack_uint64(pk, v);
}

void
pk_kv_double(msgpack_packer *pk, const char *key, double v)
{
        pk_str(pk, key);
        msgpack_pack_double(pk, v);
}

void
pk_kv_bool(msgpack_packer *pk, const char *key, bool v)
{
        pk_str(pk, key);
        if (v)
                msgpack_pack_true(pk);
        else
                msgpack_pack_false(pk);
}

void
pk_target_id(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 1);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
}

/* ---- convenience over libcorral ---------------------------------------- */

void
spawn_simple(struct corral *c, const char *const *argv, const char *name,
             struct corral_process *out)
{
        struct corral_spawn_opts o;
        struct corral_error err;

        memset(&o, 0, sizeof o);
        memset(&err, 0, sizeof err);
        o.argv = argv;
        o.name = name;
        T_ASSERTF(corral_spawn(c, &o, out, &err) == 0, "spawn %s: %s [%s] %s", argv[0], err.code,
                  err.field, err.message);
        T_ASSERTF(strcmp(out->state, "running") == 0, "spawned process is %s, not running",
                  out->state);
        T_ASSERT(out->pid > 0);
}

struct corral_target
target_id(uint64_t id)
{
        struct corral_target t = {id, NULL};

        return t;
}

struct corral_target
target_name(const char *name)
{
        struct corral_target t = {0, name};

        return t;
}
