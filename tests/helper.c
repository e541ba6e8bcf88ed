/*
 * helper.c -- a small child program for the integration tests.
 *
 * corrald spawns it in one of a few modes; each mode either exits in a
 * known way or reports what the child saw (descriptors, environment,
 * signal state, ...) into a file the test then reads. Files are written
 * under a temporary name and renamed, so a test that sees the file sees
 * all of it. Readiness files tell a test that the child has finished
 * setting up (e.g. ignores SIGTERM) without the test guessing a delay.
 *
 *   helper exit N                    exit with status N
 *   helper sleep S [READY]           sleep S seconds (READY: touched first)
 *   helper ignore-term S READY       ignore SIGTERM, touch READY, sleep S
 *   helper grandchild PIDFILE S [ignore-term]
 *                                    fork a grandchild (same process group)
 *                                    that writes its pid to PIDFILE and
 *                                    sleeps S; the parent sleeps S too
 *   helper kill-self SIG             die by signal SIG (name or number)
 *   helper fds FILE                  list open descriptors ("N TARGET" lines)
 *   helper env FILE                  write the environment, one per line
 *   helper cwd FILE                  write the working directory
 *   helper stdin FILE                copy standard input to FILE
 *   helper sigmask FILE              write SigBlk/SigIgn from /proc/self/status
 *   helper pgid FILE                 write "pid pgid sid"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void
die(const char *what)
{
        fprintf(stderr, "helper: %s: %s\n", what, strerror(errno));
        exit(100);
}

/* Sleep the whole interval even if a harmless signal interrupts it. */
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
        if (close(fd) == -1)
                die("close");
        if (rename(tmp, path) == -1)
                die("rename");
}

static void
write_str(const char *path, const char *s)
{
        write_file(path, s, strlen(s));
}

/* Descriptors open right now, read before anything else is opened. */
static void
mode_fds(const char *path)
{
        char out[8192], link[PATH_MAX], target[PATH_MAX];
        struct dirent *de;
        size_t len = 0;
        ssize_t n;
        DIR *d;

        d = opendir("/proc/self/fd");
        if (d == NULL)
                die("/proc/self/fd");
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
                        continue;
                snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
                n = readlink(link, target, sizeof target - 1);
                target[n < 0 ? 0 : n] = '\0';
                len += (size_t)snprintf(out + len, sizeof out - len, "%s %s\n", de->d_name, target);
                if (len >= sizeof out)
                        die("too many descriptors");
        }
        closedir(d);
        write_file(path, out, len);
}

static void
mode_env(const char *path)
{
        size_t len = 0, cap = 4096, n;
        char *buf = malloc(cap);

        if (buf == NULL)
                die("malloc");
        for (char **e = environ; *e != NULL; e++) {
                n = strlen(*e);
                while (len + n + 2 > cap) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                        if (buf == NULL)
                                die("realloc");
                }
                memcpy(buf + len, *e, n);
                len += n;
                buf[len++] = '\n';
        }
        write_file(path, buf, len);
        free(buf);
}

static void
mode_stdin(const char *path)
{
        size_t len = 0, cap = 65536;
        char *buf = malloc(cap);
        ssize_t n;

        if (buf == NULL)
                die("malloc");
        for (;;) {
                if (len == cap) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                        if (buf == NULL)
                                die("realloc");
                }
                n = read(0, buf + len, cap - len);
                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1)
                        die("read stdin");
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        write_file(path, buf, len);
        free(buf);
}

static void
mode_sigmask(const char *path)
{
        char line[256], out[1024];
        size_t len = 0;
        FILE *f;

        f = fopen("/proc/self/status", "re");
        if (f == NULL)
                die("/proc/self/status");
        while (fgets(line, sizeof line, f) != NULL) {
                if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
                        len += (size_t)snprintf(out + len, sizeof out - len, "%s", line);
        }
        fclose(f);
        write_file(path, out, len);
}

/* Fork a grandchild in our process group; both sleep. */
static void
mode_grandchild(const char *pidfile, double seconds, int ignore_term)
{
        char buf[32];
        pid_t pid;

        pid = fork();
        if (pid == -1)
                die("fork");
        if (pid == 0) {
                if (ignore_term)
                        signal(SIGTERM, SIG_IGN);
                snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
                write_str(pidfile, buf);
                sleep_for(seconds);
                _exit(0);
        }
        sleep_for(seconds);
}

static int
signal_number(const char *s)
{
        static const struct {
                const char *name;
                int sig;
        } table[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                     {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
                     {"TERM", SIGTERM}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}};
        char *end;
        long n;

        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
                if (strcmp(s, table[i].name) == 0)
                        return table[i].sig;
        }
        n = strtol(s, &end, 10);
        return (*s != '\0' && *end == '\0' && n > 0 && n < NSIG) ? (int)n : -1;
}

static void
usage(void)
{
        fprintf(stderr, "usage: helper MODE ARGS... (see helper.c)\n");
        exit(101);
}

int
main(int argc, char **argv)
{
        const char *mode;
        char buf[PATH_MAX + 64];
        int sig;

        if (argc < 2)
                usage();
        mode = argv[1];

        if (strcmp(mode, "exit") == 0 && argc == 3)
                return atoi(argv[2]);
        if (strcmp(mode, "sleep") == 0 && (argc == 3 || argc == 4)) {
                if (argc == 4)
                        write_str(argv[3], "ready\n");
                sleep_for(atof(argv[2]));
                return 0;
        }
        if (strcmp(mode, "ignore-term") == 0 && argc == 4) {
                signal(SIGTERM, SIG_IGN);
                write_str(argv[3], "ready\n");
                sleep_for(atof(argv[2]));
                return 0;
        }
        if (strcmp(mode, "grandchild") == 0 && (argc == 4 || argc == 5)) {
                mode_grandchild(argv[2], atof(argv[3]),
                                argc == 5 && strcmp(argv[4], "ignore-term") == 0);
                return 0;
        }
        if (strcmp(mode, "kill-self") == 0 && argc == 3) {
                sig = signal_number(argv[2]);
                if (sig == -1)
                        usage();
                signal(sig, SIG_DFL);
                kill(getpid(), sig);
                sleep_for(5);
                return 99; /* the signal did not kill us */
        }
        if (argc == 3 && strcmp(mode, "fds") == 0) {
                mode_fds(argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(mode, "env") == 0) {
                mode_env(argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(mode, "cwd") == 0) {
                if (getcwd(buf, PATH_MAX) == NULL)
                        die("getcwd");
                strcat(buf, "\n");
                write_str(argv[2], buf);
                return 0;
        }
        if (argc == 3 && strcmp(mode, "stdin") == 0) {
                mode_stdin(argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(mode, "sigmask") == 0) {
                mode_sigmask(argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(mode, "pgid") == 0) {
                snprintf(buf, sizeof buf, "%ld %ld %ld\n", (long)getpid(), (long)getpgid(0),
                         (long)getsid(0));
                write_str(argv[2], buf);
                return 0;
        }
        usage();
}
