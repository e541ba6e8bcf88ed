/*
 * cfg_child.c -- a child for the systemd and configuration tests.
 *
 * It reports what corrald set up for it (who it runs as, its limits, its
 * environment) into a file the test reads. Files are written under a
 * temporary name in the same directory and renamed, so a test that sees
 * the file sees all of it.
 *
 *   cfg_child report FILE [SECONDS]  write "key=value" lines (uid, gid,
 *                                    groups, umask, rlimits, nice,
 *                                    oom_score_adj, cwd, env:K=V), then
 *                                    sleep SECONDS (600)
 *   cfg_child consume DIR            copy stdin to DIR/msg-$CORRAL_MSG_ID
 *   cfg_child sleep SECONDS          sleep
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void
die(const char *what)
{
        fprintf(stderr, "cfg_child: %s: %s\n", what, strerror(errno));
        exit(100);
}

static void
sleep_for(double seconds)
{
        struct timespec ts;

        ts.tv_sec = (time_t)seconds;
        ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
}

/* Write buf to path atomically (temporary file, then rename). */
static void
write_file(const char *path, const char *buf, size_t len)
{
        char tmp[PATH_MAX];
        size_t off = 0;
        ssize_t n;
        int fd;

        if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
                die("path too long");
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1)
                die(tmp);
        while (off < len) {
                n = write(fd, buf + off, len - off);
                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1)
                        die("write");
                off += (size_t)n;
        }
        if (close(fd) == -1 || rename(tmp, path) == -1)
                die(path);
}

/* A growing text buffer; aborts on out-of-memory (test code). */
struct text {
        char *p;
        size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(t->p != NULL ? t->p + t->len : NULL,
                              t->p != NULL ? t->cap - t->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0)
                        die("vsnprintf");
                if (t->p != NULL && t->len + (size_t)n < t->cap) {
                        t->len += (size_t)n;
                        return;
                }
                t->cap = (t->cap + (size_t)n + 1) * 2;
                if ((t->p = realloc(t->p, t->cap)) == NULL)
                        die("realloc");
        }
}

static void
add_limit(struct text *t, const char *name, int resource)
{
        struct rlimit rl;

        if (getrlimit(resource, &rl) == -1)
                die("getrlimit");
        text_add(t, "%s=", name);
        if (rl.rlim_cur == RLIM_INFINITY)
                text_add(t, "inf/");
        else
                text_add(t, "%llu/", (unsigned long long)rl.rlim_cur);
        if (rl.rlim_max == RLIM_INFINITY)
                text_add(t, "inf\n");
        else
                text_add(t, "%llu\n", (unsigned long long)rl.rlim_max);
}

static void
report(const char *path)
{
        struct text t = {0};
        gid_t groups[256];
        char cwd[PATH_MAX], oom[64] = "?";
        mode_t um;
        int n, fd;

        text_add(&t, "pid=%ld\n", (long)getpid());
        text_add(&t, "uid=%ld\neuid=%ld\n", (long)getuid(), (long)geteuid());
        text_add(&t, "gid=%ld\negid=%ld\n", (long)getgid(), (long)getegid());
        n = getgroups(256, groups);
        if (n == -1)
                die("getgroups");
        text_add(&t, "groups=");
        for (int i = 0; i < n; i++)
                text_add(&t, "%s%ld", i > 0 ? "," : "", (long)groups[i]);
        text_add(&t, "\n");
        um = umask(0);
        umask(um);
        text_add(&t, "umask=%04o\n", (unsigned)um);
        add_limit(&t, "nofile", RLIMIT_NOFILE);
        add_limit(&t, "nproc", RLIMIT_NPROC);
        add_limit(&t, "core", RLIMIT_CORE);
        add_limit(&t, "as", RLIMIT_AS);
        add_limit(&t, "cpu", RLIMIT_CPU);
        errno = 0;
        n = getpriority(PRIO_PROCESS, 0);
        if (n == -1 && errno != 0)
                die("getpriority");
        text_add(&t, "nice=%d\n", n);
        fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
        if (fd != -1) {
                ssize_t r = read(fd, oom, sizeof oom - 1);

                oom[r > 0 ? r : 0] = '\0';
                oom[strcspn(oom, "\n")] = '\0';
                close(fd);
        }
        text_add(&t, "oom_score_adj=%s\n", oom);
        text_add(&t, "cwd=%s\n", getcwd(cwd, sizeof cwd) != NULL ? cwd : "?");
        for (char **e = environ; *e != NULL; e++)
                text_add(&t, "env:%s\n", *e);
        write_file(path, t.p, t.len);
        free(t.p);
}

static void
consume(const char *dir)
{
        const char *id = getenv("CORRAL_MSG_ID");
        struct text t = {0};
        char path[PATH_MAX], buf[4096];
        ssize_t n;

        if (id == NULL)
                die("no CORRAL_MSG_ID");
        text_add(&t, "%s", "");
        while ((n = read(0, buf, sizeof buf)) != 0) {
                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1)
                        die("read");
                text_add(&t, "%.*s", (int)n, buf);
        }
        snprintf(path, sizeof path, "%s/msg-%s", dir, id);
        write_file(path, t.p, t.len);
        free(t.p);
}

int
main(int argc, char **argv)
{
        if (argc >= 3 && argc <= 4 && strcmp(argv[1], "report") == 0) {
                report(argv[2]);
                sleep_for(argc == 4 ? atof(argv[3]) : 600);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "consume") == 0) {
                consume(argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
                sleep_for(atof(argv[2]));
                return 0;
        }
        fprintf(stderr, "usage: cfg_child report FILE [S] | consume DIR | sleep S\n");
        return 2;
}
