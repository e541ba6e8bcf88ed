/*
 * error.c -- the protocol's error codes: their wire names, filling a
 * struct proto_error, and decoding an error map from a response.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* Indexed by enum proto_err; the wire names are the stable API. */
static const char *const err_names[PROTO_E__COUNT] = {
    [PROTO_OK] = "ok",
    [PROTO_E_INVALID_REQUEST] = "invalid_request",
    [PROTO_E_UNKNOWN_METHOD] = "unknown_method",
    [PROTO_E_INVALID_PARAMS] = "invalid_params",
    [PROTO_E_NOT_FOUND] = "not_found",
    [PROTO_E_EXISTS] = "exists",
    [PROTO_E_TIMEOUT] = "timeout",
    [PROTO_E_SPAWN_FAILED] = "spawn_failed",
    [PROTO_E_PERMISSION_DENIED] = "permission_denied",
    [PROTO_E_TOO_LARGE] = "too_large",
    [PROTO_E_LIMIT_REACHED] = "limit_reached",
    [PROTO_E_IO_ERROR] = "io_error",
    [PROTO_E_INTERNAL] = "internal",
    [PROTO_E_NOT_RUNNING] = "not_running",
    [PROTO_E_SHUTTING_DOWN] = "shutting_down",
    [PROTO_E_CLOSED] = "closed",
    [PROTO_E_FULL] = "full",
    [PROTO_E_EMPTY] = "empty",
    [PROTO_E_BAD_CONFIG] = "bad_config",
};

const char *
proto_err_name(enum proto_err code)
{
        if ((unsigned)code >= PROTO_E__COUNT)
                return NULL;
        return err_names[code];
}

/* Only real error codes match: "ok" is never sent as an error. */
enum proto_err
proto_err_from_name(const char *name, size_t len)
{
        for (unsigned i = PROTO_OK + 1; i < PROTO_E__COUNT; i++) {
                if (strlen(err_names[i]) == len && memcmp(err_names[i], name, len) == 0)
                        return (enum proto_err)i;
        }
        return PROTO_E__COUNT;
}

/* Copy at most len bytes of src, stopping at a NUL, truncated to fit dst. */
static void
copy_bounded(char *dst, size_t dstsize, const char *src, size_t len)
{
        const char *nul = memchr(src, '\0', len);

        if (nul != NULL)
                len = (size_t)(nul - src);
        if (len >= dstsize)
                len = dstsize - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

void
proto_error_set(struct proto_error *err, enum proto_err code, const char *field, const char *fmt,
                ...)
{
        va_list ap;

        err->code = code;
        if (field == NULL)
                field = "";
        copy_bounded(err->field, sizeof err->field, field, strlen(field));
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
}

/* The value of key in a map whose keys are strings; NULL if absent. */
static const msgpack_object *
map_get(const msgpack_object *map, const char *key)
{
        size_t klen = strlen(key);

        for (uint32_t i = 0; i < map->via.map.size; i++) {
                const msgpack_object *k = &map->via.map.ptr[i].key;

                if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
                    memcmp(k->via.str.ptr, key, klen) == 0)
                        return &map->via.map.ptr[i].val;
        }
        return NULL;
}

/*
 * {code: str, message: str, field?: str|nil}. Unknown keys are ignored
 * (later versions may add some); an unknown code becomes internal, keeping
 * the message, so a newer daemon's errors still read sensibly.
 */
int
proto_error_decode(const msgpack_object *obj, struct proto_error *err)
{
        const msgpack_object *code, *message, *field;

        memset(err, 0, sizeof *err);
        if (obj->type != MSGPACK_OBJECT_MAP)
                return -1;
        code = map_get(obj, "code");
        message = map_get(obj, "message");
        field = map_get(obj, "field");
        if (code == NULL || code->type != MSGPACK_OBJECT_STR)
                return -1;
        if (message != NULL && message->type != MSGPACK_OBJECT_STR)
                return -1;
        if (field != NULL && field->type != MSGPACK_OBJECT_STR && field->type != MSGPACK_OBJECT_NIL)
                return -1;

        err->code = proto_err_from_name(code->via.str.ptr, code->via.str.size);
        if (message != NULL)
                copy_bounded(err->message, sizeof err->message, message->via.str.ptr,
                             message->via.str.size);
        if (field != NULL && field->type == MSGPACK_OBJECT_STR)
                copy_bounded(err->field, sizeof err->field, field->via.str.ptr,
                             field->via.str.size);
        if (err->code == PROTO_E__COUNT) {
                err->code = PROTO_E_INTERNAL;
                if (err->message[0] == '\0')
                        copy_bounded(err->message, sizeof err->message, code->via.str.ptr,
                                     code->via.str.size);
        }
        return 0;
}
