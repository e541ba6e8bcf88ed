/* stdin-feed.c -- non-blocking delivery of spawn-time stdin data. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "stdin-feed.h"
#include "xmalloc.h"

struct stdin_feed {
        int fd;
        struct event *ev;
        unsigned char *data;
        size_t len, off;
};

/* Write what the pipe takes. 1: finished (or the reader is gone), 0: more to write. */
static int
stdin_feed_write(struct stdin_feed *f)
{
        while (f->off < f->len) {
                ssize_t n = write(f->fd, f->data + f->off, f->len - f->off);

                if (n > 0) {
                        f->off += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                /* EPIPE: the child closed its stdin; what it did not read is its choice. */
                if (n < 0 && errno != EPIPE)
                        log_warn("writing a child's stdin: %s", strerror(errno));
                return 1;
        }
        return 1;
}

static void
stdin_feed_cb(evutil_socket_t fd, short what, void *arg)
{
        struct stdin_feed *f = arg;

        if (stdin_feed_write(f)) {
                event_free(f->ev);
                f->ev = NULL;
                close(f->fd);
                f->fd = -1;
                free(f->data);
                f->data = NULL;
        }
}

struct stdin_feed *
stdin_feed_new(struct event_base *base, int fd, const void *data, size_t len)
{
        struct stdin_feed *f = xcalloc(1, sizeof *f);
        int flags = fcntl(fd, F_GETFL);

        if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
                log_warn("making a stdin pipe non-blocking: %s", strerror(errno));
        f->fd = fd;
        f->data = (unsigned char *)data; /* only until we know a copy is needed */
        f->len = len;
        if (stdin_feed_write(f)) {
                close(fd);
                free(f);
                return NULL;
        }
        f->data = xmalloc(len - f->off);
        memcpy(f->data, (const unsigned char *)data + f->off, len - f->off);
        f->len -= f->off;
        f->off = 0;
        f->ev = event_new(base, fd, EV_WRITE | EV_PERSIST, stdin_feed_cb, f);
        if (f->ev == NULL || event_add(f->ev, NULL) != 0)
                fatalx("cannot watch a stdin pipe");
        return f;
}

void
stdin_feed_free(struct stdin_feed *f)
{
        if (f == NULL)
                return;
        if (f->ev != NULL)
                event_free(f->ev);
        if (f->fd >= 0)
                close(f->fd);
        free(f->data);
        free(f);
}
