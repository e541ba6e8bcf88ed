/*
 * syncer.h -- fdatasync off the event loop.
 *
 * A durable queue's group commit waits for the disk, which takes from a
 * fraction of a millisecond to tens of milliseconds. Done on the loop,
 * that wait stalls every client; done here, by one worker thread, the
 * loop goes on serving (and gathering the next batch) while the disk
 * works. The thread only ever calls fdatasync: every other piece of
 * state stays on the loop, where the completion callback runs.
 */
#ifndef CORRAL_SYNCER_H
#define CORRAL_SYNCER_H

struct event_base;
struct syncer;
struct sync_job;

/* The worker thread starts with the first job. */
struct syncer *syncer_new(struct event_base *);
/* Finishes the jobs under way (without their callbacks) and joins the thread. */
void syncer_free(struct syncer *);
/*
 * fdatasync(fd) on the worker; done(arg, 0 or errno) runs on the loop
 * once it returns. fd must stay open, and unwritten, until then.
 */
struct sync_job *syncer_submit(struct syncer *, int fd, void (*done)(void *arg, int error),
                               void *arg);
/*
 * Wait for job's fdatasync to return and take its result instead of the
 * callback (which is then never called): 0 or errno.
 */
int syncer_wait(struct syncer *, struct sync_job *);

#endif
