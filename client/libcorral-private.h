/*
 * libcorral-private.h -- what libcorral.c (the connection, the generic
 * call and the notification queues) shares with the typed calls of
 * libcorral-*.c. Not installed.
 */
#ifndef CORRAL_PRIVATE_H
#define CORRAL_PRIVATE_H

#include "corral.h"

/* Local error codes (the server's codes are in proto.h). */
#define CORRAL_E_CONNECT  "connect"
#define CORRAL_E_IO       "io"
#define CORRAL_E_TIMEOUT  "timeout"
#define CORRAL_E_PROTOCOL "protocol"

/* Fill *err (which may be NULL); the message is printf-formatted. */
void corral_error_set(struct corral_error *, const char *code, const char *field, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/*
 * corral_call() with extra seconds added to the connection's timeout,
 * for methods that wait on the server side (join, terminate --wait).
 * extra < 0 means the call may wait forever.
 */
int corral_call_extra(struct corral *, const char *method, const void *params, size_t params_len,
                      double extra, struct corral_result *result, struct corral_error *err);

/* A NUL-terminated copy of a msgpack str; NULL if obj is not a str. */
char *corral_strdup_obj(const msgpack_object *);
/* The value of key in map (a str key); NULL if absent or map is not a map. */
const msgpack_object *corral_map_get(const msgpack_object *map, const char *key);

/*
 * The next queued event, reading from the daemon up to timeout seconds
 * (< 0: forever) if none is queued: 1 with *out filled (an event map; a
 * local overflow event stands for dropped ones), 0 if none came in time,
 * -1 with *err (not NULL) on error or end of file.
 */
int corral_event_wait(struct corral *, double timeout, struct corral_result *out,
                      struct corral_error *err);
/* What a queued notification is. */
enum corral_note_kind {
        CORRAL_NOTE_EVENT,   /* [2, "event", [map]] */
        CORRAL_NOTE_LOG,     /* [2, "log", [map]]: a followed line */
        CORRAL_NOTE_LOG_END, /* [2, "log.end", [map]]: a followed process ended */
        CORRAL_NOTE_DROPPED, /* log lines dropped here: the queue was full */
};
struct corral_note {
        enum corral_note_kind kind;
        struct corral_result obj; /* the map; nil for DROPPED */
        uint64_t dropped;         /* DROPPED: how many lines */
        uint64_t dropped_bytes;   /* DROPPED: their data's bytes */
        double ts;                /* DROPPED: when the first was dropped */
};
/*
 * The next queued log notification, as corral_event_wait() does for
 * events: 1 with *out filled (free out->obj), 0 if none came in time, -1
 * with *err (not NULL).
 */
int corral_note_wait(struct corral *, double timeout, struct corral_note *out,
                     struct corral_error *err);
/* Whether the daemon has closed the connection. */
bool corral_at_eof(const struct corral *);

/* Packing parameters and decoding results: libcorral-codec.c. */

/* A params map being packed into a fresh buffer. */
struct corral_params {
        msgpack_sbuffer sb;
        msgpack_packer pk;
};
void corral_params_init(struct corral_params *, uint32_t nkeys);
void corral_params_free(struct corral_params *);
/* Call with p's map (NULL: no params; p is freed); the result into *res. */
int corral_call_params(struct corral *, const char *method, struct corral_params *p, double extra,
                       struct corral_result *res, struct corral_error *err);
/* For methods answering an empty map. */
int corral_call_empty(struct corral *, const char *method, struct corral_params *p, double extra,
                      struct corral_error *err);
/* Fill *err with a "protocol" error about method's result; returns -1. */
int corral_bad_result(struct corral_error *, const char *method);
/* An "invalid_params" error detected before sending; returns -1. */
int corral_bad_param(struct corral_error *, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void corral_pack_target(msgpack_packer *, struct corral_target);
size_t corral_strv_len(const char *const *);
/* Pack "argv" as an array of str; "env" ("K=V" strings) as a map. */
void corral_pack_strv(msgpack_packer *, const char *key, const char *const *v);
int corral_check_env(const char *const *env, struct corral_error *err);
void corral_pack_env(msgpack_packer *, const char *key, const char *const *env);
/* The keys a policy adds to a params map; -1 with *err if a value is invalid. */
int corral_policy_nkeys(const struct corral_policy *, uint32_t *nkeys, struct corral_error *err);
void corral_pack_policy(msgpack_packer *, const struct corral_policy *);
/* The policy keys of a map (a pool's defaults): 0, or -1 if one has the wrong type. */
int corral_policy_decode(const msgpack_object *map, struct corral_policy *out);

/* The keys an output setting adds to a params map, and packing them. */
uint32_t corral_output_nkeys(const struct corral_output *);
void corral_pack_output(msgpack_packer *, const struct corral_output *);

bool corral_obj_is_int(const msgpack_object *);
int64_t corral_obj_int(const msgpack_object *);
/* A number (int or float) or nil (0) into *out; -1 if another type. */
int corral_obj_seconds(const msgpack_object *, double *out);
/* An unsigned int that fits in unsigned, or nil/absent (0); -1 otherwise. */
int corral_obj_uint(const msgpack_object *, unsigned *out);
/* A NULL-terminated vector of copies of an array of str; NULL on error. */
char **corral_obj_strv(const msgpack_object *);
void corral_strv_free(char **);
/* Copy a str into a fixed buffer; -1 if not a str, too long or with a NUL. */
int corral_obj_strbuf(const msgpack_object *, char *buf, size_t len);
/* Copy a str into a fixed buffer, cutting what does not fit; -1 if not a str. */
int corral_obj_strcut(const msgpack_object *, char *buf, size_t len);
/* A signal given as a name or a number: > 0, or -1. */
int corral_obj_signal(const msgpack_object *);
/* A copy of an optional str: 0 with *out NULL if absent or nil; -1 if another type. */
int corral_obj_optstr(const msgpack_object *, char **out);
/* An unsigned 64-bit int, or nil/absent (0); -1 otherwise. */
int corral_obj_u64(const msgpack_object *, uint64_t *out);
/* A bool, or nil/absent (left alone); -1 otherwise. */
int corral_obj_bool(const msgpack_object *, bool *out);
/*
 * A copy of bytes (bin or str), NUL-terminated beyond *len; NULL with *len
 * 0 when empty, absent or nil. -1 if another type or out of memory.
 */
int corral_obj_bytes(const msgpack_object *, char **out, size_t *len);

#endif
