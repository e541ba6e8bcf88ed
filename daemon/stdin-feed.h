/*
 * stdin-feed.h -- what a child reads on stdin, written without blocking
 * the daemon: bytes given at spawn (then stdin is closed), or the messages
 * of a queue, one per line, for as long as the child runs (a pipe between
 * pools). A queue message is acked once written into the pipe; one being
 * written when the child ends goes back to its queue. Owned by its process.
 */
#ifndef CORRAL_STDIN_FEED_H
#define CORRAL_STDIN_FEED_H

#include <stddef.h>

struct corrald;
struct event_base;
struct stdin_feed;

/*
 * Take ownership of fd (the pipe's write end) and feed it a copy of data.
 * Returns NULL when everything was written at once (fd is then closed).
 */
struct stdin_feed *stdin_feed_new(struct event_base *, int fd, const void *data, size_t len);
/* Take ownership of fd and feed it the messages of queue name. */
struct stdin_feed *stdin_feed_queue_new(struct corrald *, int fd, const char *queue);
void stdin_feed_free(struct stdin_feed *);

#endif
