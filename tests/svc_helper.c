/*
 * svc_helper.c -- a child program for the supervision tests: services that
 * crash, fail a number of times, report readiness, wait for a go-ahead,
 * or leave a grandchild behind.
 *
 *   svc_helper exit-code N                exit with status N at once
 *   svc_helper exit-after S N             sleep S seconds, then exit N
 *   svc_helper sleep S                    sleep S seconds, exit 0
 *   svc_helper notify-ready DELAY [TEXT]  sd_notify STATUS=starting, sleep DELAY,
 *                                         then READY=1 with STATUS=TEXT; sleep 60
 *   svc_helper never-ready S              sleep S without ever notifying
 *   svc_helper fail-times FILE N CODE     a line per run in FILE; the first N
 *                                         runs exit CODE, later ones sleep 60
 *   svc_helper wait-file PATH [CODE]      wait (<= 60 s) until PATH exists, exit CODE
 *   svc_helper worker-env DIR             write "pid=PID" and the environment to
 *                                         DIR/env.$CORRAL_WORKER_INDEX; sleep 60
 *   svc_helper spawn-grandchild PIDFILE   fork a grandchild (same process group)
 *                                         that writes its pid to PIDFILE ("{i}"
 *                                         becomes $CORRAL_WORKER_INDEX); both sleep 60
 *
 * Files are written under a temporary name and renamed into place, so a
 * test that sees a file sees all of it. Exit codes 100-102 are the
 * helper's own failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

extern char **environ;

static void
die(const char *what)
{
        fprintf(stderr, "svc_helper: %s: %s\n", what, strerror(errno));
        exit(100);
}

/* Sleep the whole interval, whatever harmless signal interrupts it. */
static void
nap(double seconds)
{
        struct timespec ts;

        if (seconds <= 0)
                return;
        ts.tv_sec = (time_t)seconds;
        ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
}

/* Write buf to path atomically: a temporary file, then rename. */
static void
put_file(const char *path, const char *buf, size_t len)
{
        char tmp[PATH_MAX];
        size_t off = 0;
        int fd;

        if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
                die("path too long");
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1)
                die(tmp);
        while (off < len) {
                ssize_t n = write(fd, buf + off, len - off);

                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1)
                        die("write");
                off += (size_t)n;
        }
        if (close(fd) == -1)
                die("close");
        if (rename(tmp, path) == -1)
                die("rename");
}

/* sd_notify() returns -errno, 0 without NOTIFY_SOCKET, > 0 once sent. */
static void
notify(const char *msg)
{
        int r = sd_notify(0, msg);

        if (r <= 0) {
                fprintf(stderr, "svc_helper: sd_notify(%s): %s\n", msg,
                        r == 0 ? "no NOTIFY_SOCKET" : strerror(-r));
                exit(102);
        }
}

static void
mode_notify_ready(double delay, const char *text)
{
        char msg[512];

        notify("STATUS=starting");
        nap(delay);
        snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", text);
        notify(msg);
        nap(60);
}

/* Count earlier runs (lines in file), record this one, fail while below n. */
static int
mode_fail_times(const char *file, int n, int code)
{
        char line[64];
        int runs = 0, fd;
        FILE *f;

        if ((f = fopen(file, "re")) != NULL) {
                while (fgets(line, sizeof line, f) != NULL)
                        runs++;
                fclose(f);
        }
        fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd == -1)
                die(file);
        snprintf(line, sizeof line, "%ld\n", (long)getpid());
        if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
                die("write");
        close(fd);
        if (runs < n)
                return code;
        nap(60);
        return 0;
}

static int
mode_wait_file(const char *path, int code)
{
        for (int i = 0; i < 6000; i++) { /* 60 s */
                if (access(path, F_OK) == 0)
                        return code;
                nap(0.01);
        }
        fprintf(stderr, "svc_helper: %s never appeared\n", path);
        return 101;
}

static void
mode_worker_env(const char *dir)
{
        const char *index = getenv("CORRAL_WORKER_INDEX");
        size_t len, cap = 4096, n;
        char path[PATH_MAX], *buf;

        if (snprintf(path, sizeof path, "%s/env.%s", dir, index != NULL ? index : "none") >=
            (int)sizeof path)
                die("path too long");
        if ((buf = malloc(cap)) == NULL)
                die("malloc");
        len = (size_t)snprintf(buf, cap, "pid=%ld\n", (long)getpid());
        for (char **e = environ; *e != NULL; e++) {
                n = strlen(*e);
                while (len + n + 2 > cap) {
                        cap *= 2;
                        if ((buf = realloc(buf, cap)) == NULL)
                                die("realloc");
                }
                memcpy(buf + len, *e, n);
                len += n;
                buf[len++] = '\n';
        }
        put_file(path, buf, len);
        free(buf);
        nap(60);
}

/* PIDFILE with "{i}" replaced by the worker index. */
static void
expand_index(const char *in, char *out, size_t len)
{
        const char *index = getenv("CORRAL_WORKER_INDEX"), *at = strstr(in, "{i}");

        if (at == NULL || index == NULL) {
                snprintf(out, len, "%s", in);
                return;
        }
        snprintf(out, len, "%.*s%s%s", (int)(at - in), in, index, at + 3);
}

static void
mode_spawn_grandchild(const char *pidfile)
{
        char path[PATH_MAX], buf[32];
        pid_t pid;

        expand_index(pidfile, path, sizeof path);
        pid = fork();
        if (pid == -1)
                die("fork");
        if (pid == 0) {
                snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
                put_file(path, buf, strlen(buf));
                nap(60);
                _exit(0);
        }
        nap(60);
}

static void
usage(void)
{
        fprintf(stderr, "usage: svc_helper MODE ARGS... (see svc_helper.c)\n");
        exit(101);
}

int
main(int argc, char **argv)
{
        const char *mode;

        if (argc < 2)
                usage();
        mode = argv[1];
        if (strcmp(mode, "exit-code") == 0 && argc == 3)
                return atoi(argv[2]);
        if (strcmp(mode, "exit-after") == 0 && argc == 4) {
                nap(atof(argv[2]));
                return atoi(argv[3]);
        }
        if ((strcmp(mode, "sleep") == 0 || strcmp(mode, "never-ready") == 0) && argc == 3) {
                nap(atof(argv[2]));
                return 0;
        }
        if (strcmp(mode, "notify-ready") == 0 && (argc == 3 || argc == 4)) {
                mode_notify_ready(atof(argv[2]), argc == 4 ? argv[3] : "ready");
                return 0;
        }
        if (strcmp(mode, "fail-times") == 0 && argc == 5)
                return mode_fail_times(argv[2], atoi(argv[3]), atoi(argv[4]));
        if (strcmp(mode, "wait-file") == 0 && (argc == 3 || argc == 4))
                return mode_wait_file(argv[2], argc == 4 ? atoi(argv[3]) : 0);
        if (strcmp(mode, "worker-env") == 0 && argc == 3) {
                mode_worker_env(argv[2]);
                return 0;
        }
        if (strcmp(mode, "spawn-grandchild") == 0 && argc == 3) {
                mode_spawn_grandchild(argv[2]);
                return 0;
        }
        usage();
}
