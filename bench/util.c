/* util.c -- allocation that aborts, error messages, files, and connecting. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static void
oom(void)
{
        fputs("corral-bench: out of memory\n", stderr);
        abort();
}

char *
xstrdup(const char *s)
{
        char *p = strdup(s);

        if (p == NULL)
                oom();
        return p;
}

void *
xcalloc(size_t n, size_t size)
{
        void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

        if (p == NULL)
                oom();
        return p;
}

void *
xrealloc(void *p, size_t size)
{
        void *q = realloc(p, size == 0 ? 1 : size);

        if (q == NULL)
                oom();
        return q;
}

int
xasprintf(char **out, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(out, fmt, ap);
        va_end(ap);
        if (n < 0)
                oom();
        return n;
}

int
fail(char **cause, const char *fmt, ...)
{
        va_list ap;

        if (cause == NULL)
                return -1;
        free(*cause);
        va_start(ap, fmt);
        if (vasprintf(cause, fmt, ap) < 0)
                oom();
        va_end(ap);
        return -1;
}

int
fail_prefix(char **cause, const char *prefix)
{
        char *was;

        if (cause == NULL)
                return -1;
        was = *cause;
        *cause = NULL;
        fail(cause, "%s: %s", prefix, was != NULL ? was : "failed");
        free(was);
        return -1;
}

double
now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
unix_connect_retry(const char *path, double timeout, char **cause)
{
        struct sockaddr_un sun;
        double deadline = now_mono() + timeout;
        int fd, saved;

        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sun.sun_path)
                return fail(cause, "socket path too long: %s", path);
        memcpy(sun.sun_path, path, strlen(path) + 1);
        for (;;) {
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd == -1)
                        return fail(cause, "socket: %s", strerror(errno));
                if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
                        return fd;
                saved = errno;
                close(fd);
                if ((saved != ENOENT && saved != ECONNREFUSED) || now_mono() > deadline)
                        return fail(cause, "cannot connect to %s: %s", path, strerror(saved));
                usleep(5000);
        }
}

char *
file_read(const char *path, size_t *lenp)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0, cap = 4096;
        char *buf;
        ssize_t n;

        if (fd == -1)
                return NULL;
        buf = xcalloc(1, cap);
        for (;;) {
                if (len + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
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

int
file_write(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const char *p = data;
        ssize_t n;

        if (fd == -1)
                return -1;
        while (len > 0) {
                n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        close(fd);
                        return -1;
                }
                p += n;
                len -= (size_t)n;
        }
        return close(fd);
}
