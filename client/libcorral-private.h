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

#endif
