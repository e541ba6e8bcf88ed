/*
 * pack.c -- encoding helpers over msgpack-c's packer: map entries with
 * string keys and the heads of requests, responses and notifications.
 * The packer's write callback reports errors through its own buffer, so
 * these return nothing: the caller checks its buffer once at the end.
 */
#include <string.h>

#include "proto.h"

void
proto_pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
        msgpack_pack_str(pk, len);
        msgpack_pack_str_body(pk, s, len);
}

void
proto_pack_str(msgpack_packer *pk, const char *s)
{
        proto_pack_strn(pk, s, strlen(s));
}

void
proto_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
        proto_pack_str(pk, key);
        if (val == NULL)
                msgpack_pack_nil(pk);
        else
                proto_pack_str(pk, val);
}

void
proto_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
        proto_pack_str(pk, key);
        msgpack_pack_int64(pk, val);
}

void
proto_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val)
{
        proto_pack_str(pk, key);
        msgpack_pack_uint64(pk, val);
}

void
proto_pack_kv_double(msgpack_packer *pk, const char *key, double val)
{
        proto_pack_str(pk, key);
        msgpack_pack_double(pk, val);
}

void
proto_pack_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
        proto_pack_str(pk, key);
        if (val)
                msgpack_pack_true(pk);
        else
                msgpack_pack_false(pk);
}

void
proto_pack_kv_nil(msgpack_packer *pk, const char *key)
{
        proto_pack_str(pk, key);
        msgpack_pack_nil(pk);
}

void
proto_pack_request_head(msgpack_packer *pk, uint32_t msgid, const char *method)
{
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, PROTO_REQUEST);
        msgpack_pack_uint32(pk, msgid);
        proto_pack_str(pk, method);
}

void
proto_pack_result_head(msgpack_packer *pk, uint32_t msgid)
{
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, PROTO_RESPONSE);
        msgpack_pack_uint32(pk, msgid);
        msgpack_pack_nil(pk);
}

/* [1, msgid|nil, {code, message, field?}, nil]; field only when set. */
void
proto_pack_error_response(msgpack_packer *pk, bool has_msgid, uint32_t msgid,
                          const struct proto_error *err)
{
        const char *code = proto_err_name(err->code);
        bool has_field = err->field[0] != '\0';

        if (code == NULL || err->code == PROTO_OK)
                code = proto_err_name(PROTO_E_INTERNAL);
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, PROTO_RESPONSE);
        if (has_msgid)
                msgpack_pack_uint32(pk, msgid);
        else
                msgpack_pack_nil(pk);
        msgpack_pack_map(pk, has_field ? 3 : 2);
        proto_pack_kv_str(pk, "code", code);
        proto_pack_kv_str(pk, "message", err->message);
        if (has_field)
                proto_pack_kv_str(pk, "field", err->field);
        msgpack_pack_nil(pk);
}

void
proto_pack_notification_head(msgpack_packer *pk, const char *method)
{
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint32(pk, PROTO_NOTIFICATION);
        proto_pack_str(pk, method);
}
