/*
 * output-file.c -- file destinations: appended by corrald (so it can
 * rotate them), rotated when they pass log_max_bytes (PATH -> PATH.1 ...
 * PATH.N, the oldest dropped), reopened on SIGUSR1 / daemon.reopen_logs for
 * an external logrotate. Streams writing to one path share one sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corrald.h"
#include "log.h"
#include "output-internal.h"
#include "xmalloc.h"

struct filesink {
        char *path;
        int fd;
        uint64_t size;
        uint64_t max_bytes;
        unsigned backups;
        unsigned refs;
        bool failed; /* said once that writing fails */
        TAILQ_ENTRY(filesink) entry;
};

TAILQ_HEAD(filesink_list, filesink);

static struct filesink_list *
filesink_list(struct corrald *d)
{
        if (d->filesinks == NULL) {
                d->filesinks = xcalloc(1, sizeof(struct filesink_list));
                TAILQ_INIT((struct filesink_list *)d->filesinks);
        }
        return d->filesinks;
}

static int
filesink_open(struct filesink *f)
{
        struct stat st;
        int fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

        if (fd == -1)
                return -1;
        if (f->fd != -1)
                close(f->fd);
        f->fd = fd;
        f->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        f->failed = false;
        return 0;
}

struct filesink *
filesink_get(struct corrald *d, const char *path, uint64_t max_bytes, unsigned backups,
             struct proto_error *err)
{
        struct filesink_list *list = filesink_list(d);
        struct filesink *f;

        TAILQ_FOREACH(f, list, entry)
        {
                if (strcmp(f->path, path) == 0) {
                        f->refs++;
                        return f;
                }
        }
        f = xcalloc(1, sizeof *f);
        f->path = xstrdup(path);
        f->fd = -1;
        f->max_bytes = max_bytes;
        f->backups = backups;
        if (filesink_open(f) != 0) {
                proto_error_set(err, PROTO_E_SPAWN_FAILED, NULL, "cannot open %s: %s", path,
                                strerror(errno));
                free(f->path);
                free(f);
                return NULL;
        }
        f->refs = 1;
        TAILQ_INSERT_TAIL(list, f, entry);
        return f;
}

void
filesink_put(struct corrald *d, struct filesink *f)
{
        if (--f->refs > 0)
                return;
        TAILQ_REMOVE(filesink_list(d), f, entry);
        if (f->fd != -1)
                close(f->fd);
        free(f->path);
        free(f);
}

/* PATH -> PATH.1 -> ... -> PATH.backups (the oldest goes), then a fresh PATH. */
static void
filesink_rotate(struct filesink *f)
{
        char from[PATH_MAX + 16], to[PATH_MAX + 16];
        unsigned i;

        if (f->backups == 0) {
                if (ftruncate(f->fd, 0) == -1)
                        log_warn("cannot truncate %s: %s", f->path, strerror(errno));
                f->size = 0;
                return;
        }
        for (i = f->backups; i > 1; i--) {
                snprintf(from, sizeof from, "%s.%u", f->path, i - 1);
                snprintf(to, sizeof to, "%s.%u", f->path, i);
                if (rename(from, to) == -1 && errno != ENOENT)
                        log_warn("cannot rename %s: %s", from, strerror(errno));
        }
        snprintf(to, sizeof to, "%s.1", f->path);
        if (rename(f->path, to) == -1)
                log_warn("cannot rename %s: %s", f->path, strerror(errno));
        if (filesink_open(f) != 0)
                log_error("cannot reopen %s after rotating it: %s", f->path, strerror(errno));
}

void
filesink_write(struct filesink *f, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0 && f->fd != -1) {
                ssize_t n = write(f->fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* A full disk loses output, never the daemon: say so once. */
                        if (!f->failed)
                                log_error("writing %s: %s (output is lost until it works again)",
                                          f->path, n < 0 ? strerror(errno) : "short write");
                        f->failed = true;
                        return;
                }
                f->failed = false;
                p += n;
                len -= (size_t)n;
                f->size += (uint64_t)n;
        }
        if (f->max_bytes != 0 && f->size >= f->max_bytes)
                filesink_rotate(f);
}

void
output_reopen_files(struct corrald *d)
{
        struct filesink *f;
        unsigned n = 0;

        if (d->filesinks == NULL)
                return;
        TAILQ_FOREACH(f, (struct filesink_list *)d->filesinks, entry)
        {
                if (filesink_open(f) != 0)
                        log_error("cannot reopen %s: %s", f->path, strerror(errno));
                else
                        n++;
        }
        log_info("reopened %u log files", n);
}

void
output_files_free(struct corrald *d)
{
        free(d->filesinks);
        d->filesinks = NULL;
}
