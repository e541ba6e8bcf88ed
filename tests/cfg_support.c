/*
 * cfg_support.c -- notification socket, daemon launchers, configuration
 * files, reload and pool pids for the systemd and configuration tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "cfg_support.h"

/* ---- files -------------------------------------------------------------- */

void
cfg_write(const char *path, const char *fmt, ...)
{
        char tmp[PATH_MAX];
        char *text = NULL;
        va_list ap;
        int len, fd;

        va_start(ap, fmt);
        len = vasprintf(&text, fmt, ap);
        va_end(ap);
        T_ASSERT(len >= 0);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        T_ASSERTF(fd != -1, "open %s: %s", tmp, strerror(errno));
        T_ASSERTF(write(fd, text, (size_t)len) == len, "write %s: %s", tmp, strerror(errno));
        T_ASSERT(close(fd) == 0);
        T_ASSERTF(rename(tmp, path) == 0, "rename %s: %s", path, strerror(errno));
        free(text);
}

void
cfg_mkdir(const char *path, mode_t mode)
{
        T_ASSERTF(mkdir(path, mode) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
        T_ASSERTF(chmod(path, mode) == 0, "chmod %s: %s", path, strerror(errno));
}

int
cfg_line_of(const char *text, const char *needle)
{
        const char *hit = strstr(text, needle);
        int line = 1;

        T_ASSERTF(hit != NULL, "'%s' is not in the text", needle);
        for (const char *p = text; p < hit; p++)
                line += *p == '\n';
        return line;
}

const char *
cfg_place(const char *path, int line)
{
        static char bufs[4][PATH_MAX + 32];
        static int next;
        char *b = bufs[next++ % 4];

        snprintf(b, sizeof bufs[0], "%s:%d:", path, line);
        return b;
}

/* ---- starting corrald ---------------------------------------------------- */

/* Split "K=V" entries into setenv (set) or unsetenv (!set). */
static void
cfg_env_apply(const char *const *env, bool set)
{
        for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
                const char *eq = strchr(env[i], '=');
                char key[256];

                T_ASSERT(eq != NULL && (size_t)(eq - env[i]) < sizeof key);
                memcpy(key, env[i], (size_t)(eq - env[i]));
                key[eq - env[i]] = '\0';
                if (set)
                        T_ASSERT(setenv(key, eq + 1, 1) == 0);
                else
                        unsetenv(key);
        }
}

void
cfg_launch(struct harness *h, const char *config, const char *const *extra, const char *const *env)
{
        const char *args[32];
        size_t n = 0;

        if (config != NULL) {
                args[n++] = "--config";
                args[n++] = config;
        }
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
                T_ASSERT(n < 31);
                args[n++] = extra[i];
        }
        args[n] = NULL;
        /* The harness's child inherits our environment: set it around the fork. */
        cfg_env_apply(env, true);
        harness_launch(h, args);
        cfg_env_apply(env, false);
}

void
cfg_exec_daemon(struct harness *h, const char *const *argv, const char *const *env, int listen_fd,
                bool listen_pid_self)
{
        pid_t parent = getpid(), pid;

        fflush(NULL);
        pid = fork();
        T_ASSERTF(pid != -1, "fork: %s", strerror(errno));
        if (pid == 0) {
                struct rlimit rl = {0, 0};
                char buf[32];
                sigset_t set;
                int fd;

                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent || chdir(h->dir) == -1)
                        _exit(127);
                setrlimit(RLIMIT_CORE, &rl);
                fd = open("/dev/null", O_RDONLY);
                if (fd == -1 || dup2(fd, 0) == -1)
                        _exit(127);
                fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
                        _exit(127);
                for (int sig = 1; sig < NSIG; sig++)
                        signal(sig, SIG_DFL);
                sigemptyset(&set);
                sigprocmask(SIG_SETMASK, &set, NULL);
                unsetenv("CORRAL_SOCKET");
                for (size_t i = 0; env != NULL && env[i] != NULL; i++)
                        putenv((char *)env[i]);
                if (listen_fd >= 0) {
                        if (listen_fd == 3) {
                                if (fcntl(3, F_SETFD, 0) == -1)
                                        _exit(127);
                        } else if (dup2(listen_fd, 3) == -1)
                                _exit(127);
                        /* LISTEN_PID must be the pid that execs: ours, after the fork. */
                        snprintf(buf, sizeof buf, "%ld", listen_pid_self ? (long)getpid() : 1L);
                        setenv("LISTEN_FDS", "1", 1);
                        setenv("LISTEN_PID", buf, 1);
                }
                execv(argv[0], (char *const *)argv);
                dprintf(2, "cfg_exec_daemon: exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        h->pid = pid;
        h->exited = false;
}

void
cfg_wait_serving(struct harness *h, const char *sock, double timeout)
{
        double deadline = now_mono() + timeout;
        struct corral_error err;
        struct timespec ts = {0, 20 * 1000 * 1000};

        for (;;) {
                struct corral *c;

                T_ASSERTF(!harness_wait_exit(h, 0), "corrald exited before serving (status 0x%x)",
                          h->status);
                memset(&err, 0, sizeof err);
                if ((c = corral_connect(sock, &err)) != NULL) {
                        int r;

                        corral_set_timeout(c, 5);
                        r = corral_ping(c, &err);
                        corral_close(c);
                        if (r == 0)
                                return;
                }
                T_ASSERTF(now_mono() < deadline, "corrald did not serve %s within %.0f s: %s %s",
                          sock, timeout, err.code, err.message);
                nanosleep(&ts, NULL);
        }
}

int
cfg_listen_socket(const char *path)
{
        struct sockaddr_un sun;
        int fd;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        T_ASSERT(fd != -1);
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        T_ASSERT(strlen(path) < sizeof sun.sun_path);
        strcpy(sun.sun_path, path);
        T_ASSERTF(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0, "bind %s: %s", path,
                  strerror(errno));
        T_ASSERTF(listen(fd, 64) == 0, "listen: %s", strerror(errno));
        return fd;
}

int
cfg_check_config(const char *config, struct run_result *r)
{
        const char *argv[] = {CORRALD_PATH, "--check-config", "--config", config, NULL};

        if (config == NULL)
                argv[2] = NULL;
        return run_cmd(r, 30, argv, NULL);
}

/* ---- the notification socket --------------------------------------------- */

struct cfg_notify *
cfg_notify_new(const struct harness *h)
{
        struct cfg_notify *ns = calloc(1, sizeof *ns);
        struct sockaddr_un sun;

        T_ASSERT(ns != NULL);
        snprintf(ns->path, sizeof ns->path, "%s/notify.sock", h->dir);
        snprintf(ns->env, sizeof ns->env, "NOTIFY_SOCKET=%s", ns->path);
        ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        T_ASSERT(ns->fd != -1);
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        T_ASSERT(strlen(ns->path) < sizeof sun.sun_path);
        strcpy(sun.sun_path, ns->path);
        T_ASSERTF(bind(ns->fd, (struct sockaddr *)&sun, sizeof sun) == 0, "bind %s: %s", ns->path,
                  strerror(errno));
        return ns;
}

void
cfg_notify_free(struct cfg_notify *ns)
{
        if (ns == NULL)
                return;
        close(ns->fd);
        unlink(ns->path);
        free(ns->msgs);
        free(ns);
}

size_t
cfg_notify_read(struct cfg_notify *ns, double timeout)
{
        double deadline = now_mono() + timeout;
        size_t got = 0;

        for (;;) {
                char buf[sizeof ns->msgs[0].text];
                ssize_t n = recv(ns->fd, buf, sizeof buf - 1, 0);

                if (n >= 0) {
                        if (ns->n == ns->cap) {
                                ns->cap = ns->cap ? ns->cap * 2 : 64;
                                ns->msgs = realloc(ns->msgs, ns->cap * sizeof *ns->msgs);
                                T_ASSERT(ns->msgs != NULL);
                        }
                        ns->msgs[ns->n].t = now_mono();
                        memcpy(ns->msgs[ns->n].text, buf, (size_t)n);
                        ns->msgs[ns->n].text[n] = '\0';
                        ns->n++;
                        got++;
                        continue;
                }
                T_ASSERTF(errno == EAGAIN || errno == EINTR, "recv: %s", strerror(errno));
                if (got > 0)
                        return got;
                int left = (int)((deadline - now_mono()) * 1000);
                if (left <= 0)
                        return 0;
                struct pollfd pfd = {ns->fd, POLLIN, 0};
                poll(&pfd, 1, left);
        }
}

bool
cfg_msg_has(const char *text, const char *line)
{
        size_t len = strlen(line);
        bool prefix = len > 0 && line[len - 1] == '=';

        for (const char *p = text; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t l = e != NULL ? (size_t)(e - p) : strlen(p);

                if (prefix ? (l >= len && memcmp(p, line, len) == 0)
                           : (l == len && memcmp(p, line, len) == 0))
                        return true;
                if (e == NULL)
                        break;
                p = e + 1;
        }
        return false;
}

const char *
cfg_msg_value(const char *text, const char *key)
{
        static char bufs[4][1024];
        static int next;
        size_t klen = strlen(key);

        for (const char *p = text; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t l = e != NULL ? (size_t)(e - p) : strlen(p);

                if (l > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
                        char *b = bufs[next++ % 4];
                        size_t vl =
                            l - klen - 1 < sizeof bufs[0] - 1 ? l - klen - 1 : sizeof bufs[0] - 1;

                        memcpy(b, p + klen + 1, vl);
                        b[vl] = '\0';
                        return b;
                }
                if (e == NULL)
                        break;
                p = e + 1;
        }
        return NULL;
}

int
cfg_notify_wait(struct cfg_notify *ns, size_t from, const char *line, double timeout)
{
        double deadline = now_mono() + timeout;

        for (;;) {
                for (size_t i = from; i < ns->n; i++) {
                        if (cfg_msg_has(ns->msgs[i].text, line))
                                return (int)i;
                }
                if (ns->n > from)
                        from = ns->n;
                double left = deadline - now_mono();
                if (left <= 0)
                        return -1;
                cfg_notify_read(ns, left);
        }
}

size_t
cfg_notify_count(const struct cfg_notify *ns, size_t from, const char *line)
{
        size_t n = 0;

        for (size_t i = from; i < ns->n; i++)
                n += cfg_msg_has(ns->msgs[i].text, line);
        return n;
}

const char *
cfg_notify_dump(const struct cfg_notify *ns)
{
        static char buf[8192];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ns->n && len < sizeof buf - 64; i++) {
                int w = snprintf(buf + len, sizeof buf - len, "\n  [%zu] +%.3f \"", i,
                                 ns->msgs[i].t - ns->msgs[0].t);
                len += (size_t)w;
                for (const char *p = ns->msgs[i].text; *p != '\0' && len < sizeof buf - 8; p++) {
                        if (*p == '\n') {
                                buf[len++] = '\\';
                                buf[len++] = 'n';
                        } else
                                buf[len++] = *p;
                }
                buf[len++] = '"';
                buf[len] = '\0';
        }
        return buf;
}

/* ---- calls ---------------------------------------------------------------- */

int
cfg_reload(struct corral *c, struct corral_error *err)
{
        struct corral_result res;
        int r;

        memset(err, 0, sizeof *err);
        memset(&res, 0, sizeof res);
        r = corral_call(c, "daemon.reload", NULL, 0, &res, err);
        if (r == 0) {
                T_ASSERTF(res.obj.type == MSGPACK_OBJECT_MAP && res.obj.via.map.size == 0,
                          "daemon.reload answered a %d (size %u), expected {}", (int)res.obj.type,
                          res.obj.type == MSGPACK_OBJECT_MAP ? res.obj.via.map.size : 0);
                corral_result_free(&res);
        }
        return r;
}

bool
cfg_pool_exists(struct corral *c, const char *pool)
{
        struct corral_pool p;
        struct corral_error err;

        memset(&p, 0, sizeof p);
        memset(&err, 0, sizeof err);
        if (corral_pool_info(c, pool, &p, &err) == 0) {
                corral_pool_clear(&p);
                return true;
        }
        T_ASSERTF(strcmp(err.code, "not_found") == 0, "pool.info %s: %s %s", pool, err.code,
                  err.message);
        return false;
}

bool
cfg_queue_exists(struct corral *c, const char *queue)
{
        struct corral_queue_info q;
        struct corral_error err;

        memset(&q, 0, sizeof q);
        memset(&err, 0, sizeof err);
        if (corral_queue_info(c, queue, &q, &err) == 0) {
                corral_queue_clear(&q);
                return true;
        }
        T_ASSERTF(strcmp(err.code, "not_found") == 0, "queue.info %s: %s %s", queue, err.code,
                  err.message);
        return false;
}

static int
cfg_pid_cmp(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

size_t
cfg_running_pids(struct corral *c, const char *pool, pid_t *pids, size_t max, size_t *live)
{
        struct corral_process *ps = NULL;
        struct corral_error err;
        size_t n = 0, running = 0;

        memset(&err, 0, sizeof err);
        T_OK(corral_list(c, pool, true, &ps, &n, &err), &err);
        for (size_t i = 0; i < n; i++) {
                if (strcmp(ps[i].state, "running") != 0 || ps[i].pid <= 0)
                        continue;
                if (running < max)
                        pids[running] = ps[i].pid;
                running++;
        }
        corral_process_list_free(ps, n);
        qsort(pids, running < max ? running : max, sizeof *pids, cfg_pid_cmp);
        if (live != NULL)
                *live = n;
        return running;
}

void
cfg_wait_running(struct corral *c, const char *pool, size_t n, pid_t *pids, double timeout)
{
        double deadline = now_mono() + timeout;
        struct timespec ts = {0, 20 * 1000 * 1000};
        pid_t buf[256];
        size_t running = 0, live = 0;

        T_ASSERT(n <= 256);
        for (;;) {
                running = cfg_running_pids(c, pool, buf, 256, &live);
                if (running == n && live == n)
                        break;
                T_ASSERTF(now_mono() < deadline,
                          "pool %s: %zu running of %zu live members after %.0f s, expected %zu",
                          pool, running, live, timeout, n);
                nanosleep(&ts, NULL);
        }
        if (pids != NULL)
                memcpy(pids, buf, n * sizeof *pids);
}

bool
cfg_pids_have(const pid_t *pids, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++) {
                if (pids[i] == pid)
                        return true;
        }
        return false;
}

/* ---- cfg_child's reports --------------------------------------------------- */

const char *
cfg_report(const char *report, const char *key)
{
        return cfg_msg_value(report, key);
}

char *
cfg_report_read(const char *path, double timeout)
{
        char *text;

        T_ASSERTF(wait_file(path, timeout), "no report %s within %.0f s", path, timeout);
        text = file_read(path, NULL);
        T_ASSERTF(text != NULL, "cannot read %s", path);
        return text;
}
