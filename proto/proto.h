/*
 * proto.h -- corral's wire protocol, shared by corrald and libcorral.
 *
 * MessagePack-RPC over a stream: request [0, msgid, method, params],
 * response [1, msgid, error, result], notification [2, method, params].
 * This header is the one home of the protocol version, the method names,
 * the error codes, the input limits and the codec entry points.
 * PROTOCOL.md beside it documents every method.
 */
#ifndef CORRAL_PROTO_H
#define CORRAL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define PROTO_VERSION 1

/* Input limits; the defaults bound what one peer can make us allocate. */
#define PROTO_MAX_MESSAGE_DEFAULT (16u * 1024 * 1024)
#define PROTO_MAX_DEPTH_DEFAULT   32u
/* Objects (scalars and containers) in one message: bounds msgpack-c's zone. */
#define PROTO_MAX_OBJECTS_DEFAULT (1u << 20)
#define PROTO_METHOD_MAX          64u /* longest method name accepted */
#define PROTO_NAME_MAX            64u /* process, pool and queue names */
#define PROTO_ARGV_MAX            4096u
#define PROTO_ENV_MAX             4096u
#define PROTO_PATH_MAX            4096u

/* Method names: the public API, matched exactly. */
#define PROTO_M_DAEMON_HELLO       "daemon.hello"
#define PROTO_M_DAEMON_PING        "daemon.ping"
#define PROTO_M_DAEMON_SHUTDOWN    "daemon.shutdown"
#define PROTO_M_PROCESS_SPAWN      "process.spawn"
#define PROTO_M_PROCESS_JOIN       "process.join"
#define PROTO_M_PROCESS_TERMINATE  "process.terminate"
#define PROTO_M_PROCESS_SIGNAL     "process.signal"
#define PROTO_M_PROCESS_INFO       "process.info"
#define PROTO_M_PROCESS_LIST       "process.list"
#define PROTO_M_PROCESS_START      "process.start"
#define PROTO_M_PROCESS_RESTART    "process.restart"
#define PROTO_M_POOL_CREATE        "pool.create"
#define PROTO_M_POOL_INFO          "pool.info"
#define PROTO_M_POOL_LIST          "pool.list"
#define PROTO_M_POOL_SCALE         "pool.scale"
#define PROTO_M_POOL_RESTART       "pool.restart"
#define PROTO_M_POOL_CLOSE         "pool.close"
#define PROTO_M_POOL_JOIN          "pool.join"
#define PROTO_M_POOL_TERMINATE     "pool.terminate"
#define PROTO_M_POOL_DELETE        "pool.delete"
#define PROTO_M_EVENTS_SUBSCRIBE   "events.subscribe"
#define PROTO_M_QUEUE_CREATE       "queue.create"
#define PROTO_M_QUEUE_INFO         "queue.info"
#define PROTO_M_QUEUE_LIST         "queue.list"
#define PROTO_M_QUEUE_PURGE        "queue.purge"
#define PROTO_M_QUEUE_DELETE       "queue.delete"
#define PROTO_M_QUEUE_PUT          "queue.put"
#define PROTO_M_QUEUE_GET          "queue.get"
#define PROTO_M_QUEUE_ACK          "queue.ack"
#define PROTO_M_QUEUE_NACK         "queue.nack"
#define PROTO_M_QUEUE_TOUCH        "queue.touch"
#define PROTO_M_QUEUE_PEEK         "queue.peek"
#define PROTO_M_PROCESS_LOGS       "process.logs"
#define PROTO_M_DAEMON_REOPEN_LOGS "daemon.reopen_logs"
#define PROTO_M_DAEMON_RELOAD      "daemon.reload"
#define PROTO_M_DAEMON_STATS       "daemon.stats"

enum proto_msg_type {
        PROTO_REQUEST = 0,
        PROTO_RESPONSE = 1,
        PROTO_NOTIFICATION = 2,
};

/* Stable error codes; their wire names are in proto_err_name(). */
enum proto_err {
        PROTO_OK = 0,
        PROTO_E_INVALID_REQUEST,
        PROTO_E_UNKNOWN_METHOD,
        PROTO_E_INVALID_PARAMS,
        PROTO_E_NOT_FOUND,
        PROTO_E_EXISTS,
        PROTO_E_TIMEOUT,
        PROTO_E_SPAWN_FAILED,
        PROTO_E_PERMISSION_DENIED,
        PROTO_E_TOO_LARGE,
        PROTO_E_LIMIT_REACHED,
        PROTO_E_IO_ERROR,
        PROTO_E_INTERNAL,
        PROTO_E_NOT_RUNNING,   /* signal to a process that has ended */
        PROTO_E_SHUTTING_DOWN, /* the daemon is stopping */
        PROTO_E_CLOSED,        /* the pool is closed to new processes */
        PROTO_E_FULL,          /* queue.put: no room before the timeout */
        PROTO_E_EMPTY,         /* queue.get/peek: no message before the timeout */
        PROTO_E_BAD_CONFIG,    /* daemon.reload: the configuration file is invalid */
        PROTO_E__COUNT
};

/* "invalid_request", ...; NULL for an out-of-range value. */
const char *proto_err_name(enum proto_err);
/* The code for a wire name; PROTO_E__COUNT when unknown. */
enum proto_err proto_err_from_name(const char *, size_t);

/* An error as sent on the wire. field is "" when no field is at fault. */
struct proto_error {
        enum proto_err code;
        char field[PROTO_NAME_MAX + 1];
        char message[256];
};

/* Fill an error; the message is printf-formatted and truncated to fit. */
void proto_error_set(struct proto_error *, enum proto_err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct proto_limits {
        size_t max_message; /* bytes in one message */
        unsigned max_depth; /* nesting of arrays and maps */
        size_t max_objects; /* objects in one message */
};
void proto_limits_default(struct proto_limits *);

/*
 * A decoded message. Views (the msgpack objects) point into the reader's
 * buffer and the unpacked zone: valid until the next proto_reader_next(),
 * proto_reader_space() or proto_reader_free(). Decode params into an
 * arena before reading on.
 */
struct proto_msg {
        enum proto_msg_type type;
        uint32_t msgid;                    /* requests and responses */
        bool has_msgid;                    /* false if even the msgid was unreadable */
        char method[PROTO_METHOD_MAX + 1]; /* requests and notifications */
        msgpack_object params;             /* requests, notifications: an array */
        msgpack_object error;              /* responses: nil or a map */
        msgpack_object result;             /* responses */
        msgpack_unpacked unpacked;         /* owns the objects above */
};

/*
 * proto_reader: turns a byte stream into messages, enforcing the limits
 * before msgpack-c allocates anything (its unpacker has no limits).
 * Owned by one connection.
 */
struct proto_reader;

struct proto_reader *proto_reader_new(const struct proto_limits *);
void proto_reader_free(struct proto_reader *);
/*
 * Space for at least want more bytes: returns a pointer, sets *avail.
 * NULL (errno ENOMEM) if out of memory. May move the buffer, so call it
 * only once done with the previous message.
 */
void *proto_reader_space(struct proto_reader *, size_t want, size_t *avail);
/* Account for n bytes written into the space. */
void proto_reader_commit(struct proto_reader *, size_t n);
/* Bytes received but not yet consumed as messages. */
size_t proto_reader_pending(const struct proto_reader *);
/*
 * With no byte buffered, give back a buffer larger than keep bytes: a
 * connection that once sent a large message need not hold its room.
 */
void proto_reader_trim(struct proto_reader *, size_t keep);
/*
 * The next message: 1 and *msg filled; 0 when more bytes are needed;
 * -1 when the stream is malformed or over a limit (err says why:
 * invalid_request or too_large). After -1 the stream cannot be resumed.
 * A message that is valid msgpack but not a valid envelope is also -1,
 * except that err->field is "msgid" etc. and, if the msgid could be
 * read, *msg has type and msgid set so the error can be addressed.
 * *msg is an output, overwritten without being released: call
 * proto_msg_clear() on it after each 1 (0 and -1 leave nothing to free).
 * A response's msgid may be nil (has_msgid false): the answer to a
 * request whose msgid was unreadable.
 */
int proto_reader_next(struct proto_reader *, struct proto_msg *msg, struct proto_error *err);
/* Release what proto_reader_next() put in msg. Safe on a zeroed msg. */
void proto_msg_clear(struct proto_msg *);

/*
 * A bump allocator that owns a request's decoded parameters: one free
 * releases every string and vector of the request.
 */
struct proto_arena;
struct proto_arena *proto_arena_new(void);
void proto_arena_free(struct proto_arena *);
void *proto_arena_alloc(struct proto_arena *, size_t);
char *proto_arena_strndup(struct proto_arena *, const char *, size_t);

/* Signals by name ("TERM", "SIGTERM", any case) or number. -1 if unknown. */
int proto_signal_from_name(const char *);
/* "TERM" for SIGTERM, "RTMIN+3" for realtime signals; NULL if invalid. */
const char *proto_signal_name(int sig);

/*
 * Names of processes, pools and queues: 1..PROTO_NAME_MAX bytes of
 * [A-Za-z0-9._@:+-], not starting with '-' or '.', and not all digits
 * (so that an argument is unambiguously an id or a name).
 * Returns true if valid; otherwise *why says what is wrong.
 */
bool proto_name_valid(const char *, size_t len, const char **why);

/* Encoding helpers over msgpack-c's packer (str keys, NUL-terminated). */
void proto_pack_str(msgpack_packer *, const char *);
void proto_pack_strn(msgpack_packer *, const char *, size_t);
void proto_pack_kv_str(msgpack_packer *, const char *key, const char *val); /* nil if NULL */
void proto_pack_kv_int(msgpack_packer *, const char *key, int64_t);
void proto_pack_kv_uint(msgpack_packer *, const char *key, uint64_t);
void proto_pack_kv_double(msgpack_packer *, const char *key, double);
void proto_pack_kv_bool(msgpack_packer *, const char *key, bool);
void proto_pack_kv_nil(msgpack_packer *, const char *key);
/* [0, msgid, method, — the caller packs the params array next. */
void proto_pack_request_head(msgpack_packer *, uint32_t msgid, const char *method);
/* [1, msgid, nil, — the caller packs the result next. */
void proto_pack_result_head(msgpack_packer *, uint32_t msgid);
/* A whole error response; has_msgid false sends a nil msgid. */
void proto_pack_error_response(msgpack_packer *, bool has_msgid, uint32_t msgid,
                               const struct proto_error *);
/* [2, method, — the caller packs the params array next. */
void proto_pack_notification_head(msgpack_packer *, const char *method);

/* Decode a response's error map (client side). Returns 0, or -1 if malformed. */
int proto_error_decode(const msgpack_object *, struct proto_error *);

#include "params.h"

#endif
