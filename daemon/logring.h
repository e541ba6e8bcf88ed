/*
 * logring.h -- a process's captured output: the newest lines of stdout
 * and stderr, each with its time and stream, within a byte budget. When a
 * line does not fit, the oldest go, and the bytes lost are counted so a
 * reader can be told. Owned by its process's output.
 */
#ifndef CORRAL_LOGRING_H
#define CORRAL_LOGRING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };

struct logline {
        TAILQ_ENTRY(logline) entry;
        uint64_t seq; /* per ring, for followers and merging */
        double ts;    /* wall clock */
        uint8_t stream;
        uint32_t len; /* without the newline */
        char data[];
};

TAILQ_HEAD(logline_list, logline);

struct logring {
        struct logline_list lines;
        size_t bytes; /* data plus per-line overhead */
        size_t cap;
        uint64_t lost; /* bytes of data dropped to make room, ever */
        uint64_t next_seq;
};

void logring_init(struct logring *, size_t cap);
void logring_clear(struct logring *);
/* Append a line; returns it (it may later be dropped). */
struct logline *logring_add(struct logring *, enum log_stream, double ts, const char *, size_t);
/* Shrink to cap bytes (keeping the newest lines). */
void logring_trim(struct logring *, size_t cap);
/* The bytes a line costs in the budget. */
size_t logline_cost(size_t len);

#endif
