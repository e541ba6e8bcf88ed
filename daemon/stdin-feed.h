/*
 * stdin-feed.h -- writes bytes given at spawn into a child's stdin pipe
 * without blocking the daemon, then closes it. Owned by its process.
 */
#ifndef CORRAL_STDIN_FEED_H
#define CORRAL_STDIN_FEED_H

#include <stddef.h>

struct event_base;
struct stdin_feed;

/*
 * Take ownership of fd (the pipe's write end) and feed it a copy of data.
 * Returns NULL when everything was written at once (fd is then closed).
 */
struct stdin_feed *stdin_feed_new(struct event_base *, int fd, const void *data, size_t len);
void stdin_feed_free(struct stdin_feed *);

#endif
