/*
 * queue-log.h -- the append-only log of a durable queue.
 *
 * Records (put, ack, attempt count, delay, config) are appended to a
 * pending buffer and written by queue_log_flush_now(): once per loop turn
 * for fsync=batch (group commit: the puts and acks that arrived together
 * share one fsync, and each is answered only after it; a batch with no
 * answer waiting, such as the removals of gets without ack, is written
 * and rides on the next fsync), at once for always, and without fsync
 * for never. Each record carries a CRC-32; replay stops at
 * the first torn or corrupt record and truncates the file there.
 * Compaction rewrites the live messages to a new file (atomic rename,
 * directory fsync) when most of the log is garbage.
 */
#ifndef CORRAL_QUEUE_LOG_H
#define CORRAL_QUEUE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct syncer;
struct queue;
struct queue_config;
struct qmsg;
struct queue_log;

enum queue_log_type {
        QLOG_CONFIG = 1,
        QLOG_PUT = 2,
        QLOG_ACK = 3,
        QLOG_ATTEMPT = 4,
        QLOG_DELAY = 5,
};

/* One replayed record. */
struct queue_log_rec {
        enum queue_log_type type;
        uint64_t id;
        int32_t priority;
        uint32_t attempts;
        double visible_wall;
        const unsigned char *data;
        uint32_t len;
};

/* Create a new log (truncating any old one) for q in dir, starting with its config. */
struct queue_log *queue_log_create(struct event_base *, struct syncer *, struct queue *,
                                   const char *dir, char **cause);
/*
 * Open an existing log: read its config (for the caller to create the
 * queue), then replay its records through fn. A torn or corrupt tail is
 * truncated with a warning.
 */
int queue_log_read_config(const char *path, struct queue_config *cfg, char **cause);
struct queue_log *queue_log_open(struct event_base *, struct syncer *, struct queue *,
                                 const char *path,
                                 void (*fn)(struct queue *, const struct queue_log_rec *),
                                 char **cause);
void queue_log_free(struct queue_log *);
/* Close and remove the file (the queue was deleted). */
void queue_log_remove(struct queue_log *);

void queue_log_put(struct queue_log *, const struct qmsg *);
/* A removal; answered_after: an answer waits for it to be on disk (fsync batch syncs then). */
void queue_log_ack(struct queue_log *, uint64_t id, bool answered_after);
void queue_log_attempt(struct queue_log *, uint64_t id, uint32_t attempts);
void queue_log_delay(struct queue_log *, uint64_t id, double visible_wall);
/* Records are pending: flush them per the queue's fsync policy. */
void queue_log_commit(struct queue_log *);
/* Write (and fsync) what is pending now, after settling the batch syncing; 0 or -1 with errno. */
int queue_log_flush_now(struct queue_log *);
/* Wait for the batch syncing off the loop, if any, and settle it (queue_log_done). */
void queue_log_settle(struct queue_log *);
bool queue_log_pending(const struct queue_log *);
/* Rewrite the live messages if most of the file is garbage. */
void queue_log_maybe_compact(struct queue_log *, uint64_t live_bytes);
/* Bytes in the file, for queue.info. */
uint64_t queue_log_size(const struct queue_log *);

#endif
