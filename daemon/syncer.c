/*
 * syncer.c -- fdatasync off the event loop. See syncer.h.
 *
 * Jobs go to the worker through a mutex-protected list; finished ones
 * come back through another, and an eventfd wakes the loop to run their
 * callbacks. A job waited for (syncer_wait) is marked cancelled and only
 * freed when the loop collects it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "syncer.h"
#include "xmalloc.h"

struct sync_job {
        int fd;
        int error;
        bool done;      /* fdatasync has returned */
        bool cancelled; /* its result was taken by syncer_wait */
        void (*cb)(void *, int);
        void *arg;
        TAILQ_ENTRY(sync_job) entry;
};
TAILQ_HEAD(sync_jobs, sync_job);

struct syncer {
        struct event_base *base;
        pthread_t thread;
        bool started;
        bool stopping;
        pthread_mutex_t mu;
        pthread_cond_t work;     /* a job was queued, or stopping */
        pthread_cond_t finished; /* a job's fdatasync returned */
        struct sync_jobs queued, done;
        int efd; /* the worker's "jobs done" signal to the loop */
        struct event *ev;
};

static void *
syncer_main(void *arg)
{
        struct syncer *s = arg;
        struct sync_job *j;
        uint64_t one = 1;

        pthread_mutex_lock(&s->mu);
        for (;;) {
                while (!s->stopping && TAILQ_EMPTY(&s->queued))
                        pthread_cond_wait(&s->work, &s->mu);
                if ((j = TAILQ_FIRST(&s->queued)) == NULL)
                        break; /* stopping, and nothing left to do */
                TAILQ_REMOVE(&s->queued, j, entry);
                pthread_mutex_unlock(&s->mu);
                j->error = fdatasync(j->fd) == 0 ? 0 : errno;
                pthread_mutex_lock(&s->mu);
                j->done = true;
                TAILQ_INSERT_TAIL(&s->done, j, entry);
                pthread_cond_broadcast(&s->finished);
                /*
                 * Only fails with the counter full, which already says
                 * "look". No logging here: the log is the loop's.
                 */
                (void)!write(s->efd, &one, sizeof one);
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

/* On the loop: run the callbacks of the jobs the worker has finished. */
static void
syncer_collect(struct syncer *s)
{
        struct sync_jobs done;
        struct sync_job *j;

        TAILQ_INIT(&done);
        pthread_mutex_lock(&s->mu);
        TAILQ_CONCAT(&done, &s->done, entry);
        pthread_mutex_unlock(&s->mu);
        while ((j = TAILQ_FIRST(&done)) != NULL) {
                TAILQ_REMOVE(&done, j, entry);
                if (!j->cancelled)
                        j->cb(j->arg, j->error);
                free(j);
        }
}

static void
syncer_ready_cb(evutil_socket_t fd, short what, void *arg)
{
        uint64_t n;

        if (read(fd, &n, sizeof n) == -1 && errno != EAGAIN)
                log_warn("syncer: eventfd: %s", strerror(errno));
        syncer_collect(arg);
}

struct syncer *
syncer_new(struct event_base *base)
{
        struct syncer *s = xcalloc(1, sizeof *s);

        s->base = base;
        TAILQ_INIT(&s->queued);
        TAILQ_INIT(&s->done);
        if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->work, NULL) != 0 ||
            pthread_cond_init(&s->finished, NULL) != 0)
                fatalx("syncer: cannot create its locks");
        if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
                fatal("syncer: eventfd");
        s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST, syncer_ready_cb, s);
        if (s->ev == NULL || event_add(s->ev, NULL) != 0)
                fatalx("syncer: cannot create an event");
        return s;
}

/* Started with every signal blocked: signals are the loop's, never the worker's. */
static void
syncer_start(struct syncer *s)
{
        sigset_t all, old;
        int r;

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&s->thread, NULL, syncer_main, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                fatalx("syncer: cannot start its thread: %s", strerror(r));
        s->started = true;
}

struct sync_job *
syncer_submit(struct syncer *s, int fd, void (*done)(void *, int), void *arg)
{
        struct sync_job *j = xcalloc(1, sizeof *j);

        j->fd = fd;
        j->cb = done;
        j->arg = arg;
        if (!s->started)
                syncer_start(s);
        pthread_mutex_lock(&s->mu);
        TAILQ_INSERT_TAIL(&s->queued, j, entry);
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->mu);
        return j;
}

int
syncer_wait(struct syncer *s, struct sync_job *j)
{
        int error;

        pthread_mutex_lock(&s->mu);
        while (!j->done)
                pthread_cond_wait(&s->finished, &s->mu);
        j->cancelled = true; /* freed by syncer_collect */
        error = j->error;
        pthread_mutex_unlock(&s->mu);
        return error;
}

void
syncer_free(struct syncer *s)
{
        struct sync_job *j;

        if (s == NULL)
                return;
        if (s->started) {
                pthread_mutex_lock(&s->mu);
                s->stopping = true;
                pthread_cond_signal(&s->work);
                pthread_mutex_unlock(&s->mu);
                pthread_join(s->thread, NULL);
        }
        /* Whoever submitted them is gone: no callbacks now. */
        while ((j = TAILQ_FIRST(&s->done)) != NULL) {
                TAILQ_REMOVE(&s->done, j, entry);
                free(j);
        }
        event_free(s->ev);
        close(s->efd);
        pthread_cond_destroy(&s->finished);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        free(s);
}
