/*
 * request.h -- one request being answered. A method either answers at
 * once or parks the request on a wait queue (join, terminate --wait);
 * the event it waits for, its timeout, or its connection closing ends
 * the wait. Exactly one answer is sent, then the request is freed.
 */
#ifndef CORRAL_REQUEST_H
#define CORRAL_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <msgpack.h>

#include "proto.h"

struct corrald;
struct conn;
struct event;
struct method;

struct request;
TAILQ_HEAD(request_waitq, request);

/* Woken: the awaited event happened; arg is the queue owner's payload. */
typedef void (*request_wake_fn)(struct request *, void *arg);
/* The wait's timeout expired. */
typedef void (*request_expire_fn)(struct request *);

struct request {
        struct corrald *daemon;
        struct conn *conn; /* NULL once the client has gone */
        uint32_t msgid;
        const struct method *method;
        struct proto_arena *arena; /* owns params */
        void *params;
        /* Parking. */
        struct request_waitq *waitq;
        request_wake_fn wake;
        request_expire_fn expire;
        struct event *timer;
        void *data; /* the method's own state while parked */
        TAILQ_ENTRY(request) wait_entry;
        TAILQ_ENTRY(request) conn_entry;
};

struct request *request_new(struct corrald *, struct conn *, uint32_t msgid, const struct method *);
/*
 * Start the answer: packs the response head into the daemon's scratch
 * buffer and returns the packer for the caller to pack exactly one result
 * object; then request_done().
 */
msgpack_packer *request_result(struct request *);
/* Send what request_result() packed and free the request. */
void request_done(struct request *);
/* Answer with an empty map and free the request. */
void request_ok(struct request *);
/* Answer with an error and free the request. field may be NULL. */
void request_error(struct request *, enum proto_err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answer with a prepared error and free the request. */
void request_error_proto(struct request *, const struct proto_error *);

/*
 * Park on q until request_waitq_wake() (wake is called), the timeout
 * expires (timeout >= 0; expire is called), or the connection closes (the
 * request is dropped silently). Returns 0, or -1 with an error already
 * answered (e.g. too many parked requests).
 */
int request_park(struct request *, struct request_waitq *q, double timeout, request_wake_fn wake,
                 request_expire_fn expire);
/*
 * Park on q with no timeout and no limit: a short wait the daemon itself
 * ends (a log write); the owner of q answers it after request_unpark().
 */
void request_hold(struct request *, struct request_waitq *q);
/* Take a parked request off its queue (and its timer) before answering it. */
void request_unpark(struct request *);
/* Wake every request parked on q with arg. */
void request_waitq_wake(struct request_waitq *q, void *arg);
/* Drop a parked request whose connection went away. */
void request_cancel(struct request *);

#endif
