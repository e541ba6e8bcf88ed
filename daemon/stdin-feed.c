/* stdin-feed.c -- non-blocking delivery of a child's stdin: spawn-time bytes or a queue. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"
#include "log.h"
#include "queue.h"
#include "stdin-feed.h"
#include "xmalloc.h"

struct stdin_feed {
        int fd;
        struct event *ev; /* the pipe is writable */
        unsigned char *data;
        size_t len, off;
        /* Fed from a queue. */
        struct corrald *daemon;
        char *queue;
        uint64_t msg_id;    /* the message being written, 0 if none */
        struct event *kick; /* runs the feed from the loop */
        struct queue_room_wait ready;
        bool waiting; /* on the queue's ready waiters */
};

/* Write what the pipe takes. 1: all written, 0: more to write, -1: the reader is gone. */
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
                return -1;
        }
        return 1;
}

/* Stop feeding: close the pipe (the child sees EOF). */
static void
stdin_feed_close(struct stdin_feed *f)
{
        if (f->ev != NULL) {
                event_free(f->ev);
                f->ev = NULL;
        }
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        free(f->data);
        f->data = NULL;
        f->len = f->off = 0;
}

/* Give the message being written back to its queue (attempt counted). */
static void
stdin_feed_return(struct stdin_feed *f)
{
        struct queue *q;

        if (f->msg_id == 0)
                return;
        if ((q = queue_find(f->daemon->queues, f->queue)) != NULL)
                queue_settle(q, f->msg_id, false, 0);
        f->msg_id = 0;
}

static void stdin_feed_queue_step(struct stdin_feed *);

static void
stdin_feed_cb(evutil_socket_t fd, short what, void *arg)
{
        struct stdin_feed *f = arg;

        if (f->queue != NULL) {
                stdin_feed_queue_step(f);
                return;
        }
        if (stdin_feed_write(f) != 0)
                stdin_feed_close(f);
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
        if (stdin_feed_write(f) != 0) {
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

static void
stdin_feed_kick_cb(evutil_socket_t fd, short what, void *arg)
{
        stdin_feed_queue_step(arg);
}

/* A message is ready in the queue: continue from the loop, not inside the queue's code. */
static void
stdin_feed_ready_cb(void *arg)
{
        struct stdin_feed *f = arg;

        f->waiting = false;
        event_active(f->kick, EV_TIMEOUT, 0);
}

/* Write the current message; when done, ack it and take the next one. */
static void
stdin_feed_queue_step(struct stdin_feed *f)
{
        struct queue *q;
        struct qmsg *m;

        while (f->fd >= 0) {
                if (f->msg_id != 0) {
                        int r = stdin_feed_write(f);

                        if (r == 0) {
                                event_add(f->ev, NULL);
                                return;
                        }
                        if (r < 0) {
                                stdin_feed_return(f);
                                stdin_feed_close(f);
                                return;
                        }
                        event_del(f->ev);
                        if ((q = queue_find(f->daemon->queues, f->queue)) != NULL)
                                queue_settle(q, f->msg_id, true, 0);
                        f->msg_id = 0;
                }
                if ((q = queue_find(f->daemon->queues, f->queue)) == NULL) {
                        log_warn("stdin queue %s is gone: closing the child's stdin", f->queue);
                        stdin_feed_close(f);
                        return;
                }
                if ((m = queue_take(q)) == NULL) {
                        if (!f->waiting) {
                                f->waiting = true;
                                queue_wait_ready(q, &f->ready);
                        }
                        return;
                }
                f->msg_id = m->id;
                free(f->data);
                f->data = xmalloc((size_t)m->len + 1);
                memcpy(f->data, m->data, m->len);
                f->data[m->len] = '\n';
                f->len = (size_t)m->len + 1;
                f->off = 0;
        }
}

struct stdin_feed *
stdin_feed_queue_new(struct corrald *d, int fd, const char *queue)
{
        struct stdin_feed *f = xcalloc(1, sizeof *f);
        int flags = fcntl(fd, F_GETFL);

        if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
                log_warn("making a stdin pipe non-blocking: %s", strerror(errno));
        f->fd = fd;
        f->daemon = d;
        f->queue = xstrdup(queue);
        f->ready.fn = stdin_feed_ready_cb;
        f->ready.arg = f;
        f->ev = event_new(d->base, fd, EV_WRITE, stdin_feed_cb, f);
        f->kick = event_new(d->base, -1, 0, stdin_feed_kick_cb, f);
        if (f->ev == NULL || f->kick == NULL)
                fatalx("cannot watch a stdin pipe");
        event_active(f->kick, EV_TIMEOUT, 0);
        return f;
}

void
stdin_feed_free(struct stdin_feed *f)
{
        struct queue *q;

        if (f == NULL)
                return;
        if (f->queue != NULL) {
                stdin_feed_return(f);
                if (f->waiting && (q = queue_find(f->daemon->queues, f->queue)) != NULL)
                        queue_cancel_ready(q, &f->ready);
                event_free(f->kick);
                free(f->queue);
        }
        stdin_feed_close(f);
        free(f);
}
