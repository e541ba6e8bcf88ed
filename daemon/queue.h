/*
 * queue.h -- named IPC queues: blocking put (back-pressure when full) and
 * get (first come, first served among waiting getters), priorities and
 * delays, reliable delivery (reserve, ack, nack, touch, visibility
 * timeout, max_attempts, dead letters) and, for durable queues, an
 * append-only log (queue-log.c) that never loses an acknowledged put.
 *
 * The queue table owns the queues; a queue owns its messages. A message is
 * ready (in a heap by priority, then id), delayed (a heap by the time it
 * becomes visible), reserved (a heap by deadline, plus an id index), or in
 * flight to the log (its put or ack waits for the fsync that covers it).
 */
#ifndef CORRAL_QUEUE_H
#define CORRAL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "heap.h"
#include "qready.h"
#include "method.h"
#include "proto.h"
#include "request.h"

struct corrald;
struct conn;
struct event;
struct queue_log;
struct queue_table;

enum queue_fsync { QUEUE_FSYNC_BATCH = 0, QUEUE_FSYNC_ALWAYS, QUEUE_FSYNC_NEVER };

struct queue_config {
        uint64_t maxsize;   /* messages; 0 = unlimited */
        uint64_t max_bytes; /* bytes of data; 0 = unlimited */
        bool durable;
        enum queue_fsync fsync;
        double visibility_timeout;
        unsigned max_attempts;                /* 0 = unlimited */
        char dead_letter[PROTO_NAME_MAX + 1]; /* "" = none */
};

enum qmsg_where {
        QMSG_READY = 0,
        QMSG_DELAYED,
        QMSG_RESERVED,
        QMSG_COMMITTING, /* its put waits for the log */
        QMSG_ACKING,     /* its ack waits for the log */
};

struct qmsg {
        uint64_t id;
        int32_t priority;
        uint32_t attempts;
        uint8_t where;
        bool indexed;        /* in by_id: reserved, acking, or being replayed */
        double when;         /* delayed: visible at; reserved: deadline (monotonic) */
        double visible_wall; /* delayed: the same in wall-clock time, for the log */
        union {
                size_t hidx;       /* its index in the heap it is in */
                struct qmsg *next; /* or the next in its ready level's FIFO */
        };
        struct conn *holder;     /* the connection holding its reservation, or NULL */
        uint64_t holder_process; /* or the supervised process holding it, or 0 */
        uint32_t len;
        unsigned char data[];
};

/* Someone waiting for room in a full queue without a request (an output stream). */
struct queue_room_wait {
        void (*fn)(void *arg);
        void *arg;
        TAILQ_ENTRY(queue_room_wait) entry;
};
TAILQ_HEAD(queue_room_list, queue_room_wait);

/*
 * Message ids are below this. A log naming a larger one is damaged (replay
 * skips it, so next_id + 1 never wraps); and a queue whose next id reaches
 * it (only a damaged log can bring it near) takes no more messages, so
 * that it never hands out an id its own log would not take back.
 */
#define QUEUE_ID_END (UINT64_MAX / 2)

struct queue {
        struct queue_table *table;
        char *name;
        struct queue_config cfg;
        struct qready ready; /* deliverable now, in delivery order */
        struct heap delayed, reserved;
        void *by_id;    /* tsearch of reserved and acking messages */
        uint64_t count; /* messages in the queue, every state */
        uint64_t bytes;
        uint64_t next_id; /* below QUEUE_ID_END while messages may be added */
        uint64_t total_put, total_got, total_acked, total_expired, total_dead;
        struct request_waitq getters, putters;
        struct queue_room_list room_waiters;
        struct queue_room_list ready_waiters;
        struct event *delay_timer, *visibility_timer;
        struct queue_log *log;
        unsigned consumers; /* pools that consume it */
        char *config_fp;    /* from the configuration file: its settings, for reload */
        bool deleting;
        TAILQ_ENTRY(queue) entry;
};

TAILQ_HEAD(queue_list, queue);

struct queue_table *queue_table_new(struct corrald *);
void queue_table_free(struct queue_table *);
struct queue_list *queue_table_list(struct queue_table *);
unsigned queue_table_count(const struct queue_table *);
/* Recreate durable queues from the state directory. 0, or -1 with *cause. */
int queue_table_restore(struct queue_table *, char **cause);
struct queue *queue_find(struct queue_table *, const char *name);
/* Find a request's queue; answers not_found itself and returns NULL. */
struct queue *queue_find_req(struct queue_table *, const char *name, const char *field,
                             struct request *);

struct queue *queue_create(struct queue_table *, const struct proto_p_queue_create *,
                           struct proto_error *);
void queue_delete(struct queue *);
/* Drop every ready and delayed message; returns how many. */
uint64_t queue_purge(struct queue *);

/* The request methods: each answers req (now or later). */
enum method_result queue_put(struct queue *, struct request *, const struct proto_p_queue_put *);
enum method_result queue_get(struct queue *, struct request *, const struct proto_p_queue_get *);
void queue_ack(struct queue *, struct request *, uint64_t msg_id);
void queue_nack(struct queue *, struct request *, uint64_t msg_id, double delay);
void queue_touch(struct queue *, struct request *, uint64_t msg_id);
void queue_peek(struct queue *, struct request *);

/*
 * Put from inside the daemon (a process's output): -1 if the queue is full
 * (then queue_wait_room()). Durable queues log it like any put.
 */
int queue_put_internal(struct queue *, const void *, size_t);
void queue_wait_room(struct queue *, struct queue_room_wait *);
void queue_cancel_room(struct queue *, struct queue_room_wait *);
/* Be called once a message is ready (a process's stdin fed from the queue). */
void queue_wait_ready(struct queue *, struct queue_room_wait *);
void queue_cancel_ready(struct queue *, struct queue_room_wait *);

/* A connection closed, or a supervised process ended: its reservations return. */
void queue_release_conn(struct queue_table *, struct conn *);
void queue_release_process(struct queue_table *, uint64_t process_id);

void queue_pack_info(const struct queue *, msgpack_packer *);

/*
 * For pools that consume a queue: reserve the next ready message for a
 * job (NULL if none). The job's process is the reservation: it has no
 * deadline and no connection. queue_settle() ends it when the job ends:
 * ack on success, else back to the queue after delay (or to the dead
 * letters after max_attempts).
 */
struct qmsg *queue_take(struct queue *);
void queue_settle(struct queue *, uint64_t msg_id, bool success, double delay);

/*
 * Called by queue-log.c: seal moves the open batch (its records written)
 * aside while its fdatasync runs off the loop; done settles a batch, the
 * sealed one or the open one, once durable (ok) or failed (errno).
 */
void queue_log_seal(struct queue *);
void queue_log_done(struct queue *, bool sealed, bool ok, int error);
/* Every live message, in no particular order (compaction). */
void queue_for_each(struct queue *, void (*fn)(const struct qmsg *, void *), void *arg);

#endif
