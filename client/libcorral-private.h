/*
 * libcorral-private.h -- what libcorral.c (the connection and the generic
 * call) shares with libcorral-process.c (the typed calls). Not installed.
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

#endif
