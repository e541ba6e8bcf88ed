/*
 * output-internal.h -- shared by output.c (streams and destinations),
 * output-file.c (file destinations) and output-follow.c (followers).
 */
#ifndef CORRAL_OUTPUT_INTERNAL_H
#define CORRAL_OUTPUT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "logring.h"
#include "output.h"
#include "queue.h"

struct event;
struct filesink;

struct output_stream {
        struct output *out;
        enum log_stream stream;
        enum output_kind kind;
        char *arg;    /* file path or queue name */
        int fd;       /* our end of the pipe, -1 when none */
        int child_fd; /* the child's end until it has been spawned */
        struct event *ev;
        struct event *retry; /* re-checks a slow follower */
        char *partial;       /* the line being assembled */
        size_t plen;
        bool line_ready; /* partial is a complete line its destination could not take yet */
        char *held;      /* bytes read but not delivered yet (destination full) */
        size_t hlen;
        bool paused, eof, warned;
        bool waiting_room;
        struct queue_room_wait room;
        struct filesink *file;
        /* A reload's new destination, taken at the next run. */
        bool reconfigure;
        enum output_kind next_kind;
        char *next_arg;
};

struct output {
        struct corrald *daemon;
        struct process *proc;
        struct logring ring;
        uint64_t log_max_bytes;
        unsigned log_backups;
        struct output_stream streams[2];
};

/* File destinations, shared by every stream writing to one path. */
struct filesink *filesink_get(struct corrald *, const char *path, uint64_t max_bytes,
                              unsigned backups, struct proto_error *err);
void filesink_put(struct corrald *, struct filesink *);
void filesink_write(struct filesink *, const void *, size_t);

/* A new captured line of p: to its followers. */
void output_follow_line(struct corrald *, const struct process *, const struct logline *);

#endif
