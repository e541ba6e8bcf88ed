/*
 * corralctl-json.c -- JSON for --json and `call`: msgpack objects to
 * jansson values and back, and process records as JSON.
 *
 * Mapping: nil/bool/int/float/str/array/map as their JSON namesakes.
 * Bytes (bin, or str that is not valid UTF-8) that are valid UTF-8 become
 * strings, others {"$base64": "..."}; ext becomes {"$ext": TYPE,
 * "$base64": "..."}. Map keys that are not strings are written as JSON
 * text. On input (`call`), {"$base64": "..."} alone in an object is bin.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "corralctl.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *
base64_encode(const unsigned char *p, size_t n)
{
        size_t i, o = 0, len = (n + 2) / 3 * 4;
        uint32_t v;
        json_t *j;
        char *s;

        if ((s = malloc(len + 1)) == NULL)
                return NULL;
        for (i = 0; i + 2 < n; i += 3) {
                v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
                s[o++] = b64[v >> 18 & 63];
                s[o++] = b64[v >> 12 & 63];
                s[o++] = b64[v >> 6 & 63];
                s[o++] = b64[v & 63];
        }
        if (i < n) {
                v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
                s[o++] = b64[v >> 18 & 63];
                s[o++] = b64[v >> 12 & 63];
                s[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
                s[o++] = '=';
        }
        s[o] = '\0';
        j = json_stringn(s, o);
        free(s);
        return j;
}

/* Decode base64 (padding optional); a malloc'd buffer or NULL if invalid. */
static unsigned char *
base64_decode(const char *s, size_t n, size_t *outlen)
{
        unsigned char *out;
        uint32_t acc = 0;
        size_t i, o = 0;
        const char *c;
        int bits = 0;

        while (n > 0 && s[n - 1] == '=')
                n--;
        if ((out = malloc(n * 3 / 4 + 1)) == NULL)
                return NULL;
        for (i = 0; i < n; i++) {
                if (s[i] == '\0' || (c = strchr(b64, s[i])) == NULL) {
                        free(out);
                        return NULL;
                }
                acc = acc << 6 | (uint32_t)(c - b64);
                if ((bits += 6) >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char)(acc >> bits);
                }
        }
        *outlen = o;
        return out;
}

json_t *
ctl_json_bytes(const char *p, size_t n)
{
        json_t *j;

        if ((j = json_stringn(p, n)) != NULL)
                return j;
        return json_pack("{s:o}", "$base64", base64_encode((const unsigned char *)p, n));
}

/* A map key as an object key: strings as they are, anything else as JSON text. */
static char *
json_key(const msgpack_object *k, size_t *len)
{
        json_t *j;
        char *s;

        if (k->type == MSGPACK_OBJECT_STR &&
            memchr(k->via.str.ptr, '\0', k->via.str.size) == NULL) {
                if ((s = strndup(k->via.str.ptr, k->via.str.size)) != NULL)
                        *len = k->via.str.size;
                return s;
        }
        if ((j = ctl_json_from_msgpack(k)) == NULL)
                return NULL;
        s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(j);
        if (s != NULL)
                *len = strlen(s);
        return s;
}

json_t *
ctl_json_from_msgpack(const msgpack_object *o)
{
        json_t *j, *v;
        uint32_t i;
        size_t klen;
        char *k;

        switch (o->type) {
        case MSGPACK_OBJECT_NIL:
                return json_null();
        case MSGPACK_OBJECT_BOOLEAN:
                return json_boolean(o->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
                if (o->via.u64 > (uint64_t)LLONG_MAX)
                        return json_real((double)o->via.u64);
                return json_integer((json_int_t)o->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
                return json_integer((json_int_t)o->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
                /* JSON has no NaN or infinity. */
                if (o->via.f64 != o->via.f64 || o->via.f64 > 1e308 || o->via.f64 < -1e308)
                        return json_null();
                return json_real(o->via.f64);
        case MSGPACK_OBJECT_STR:
                return ctl_json_bytes(o->via.str.ptr, o->via.str.size);
        case MSGPACK_OBJECT_BIN:
                return ctl_json_bytes(o->via.bin.ptr, o->via.bin.size);
        case MSGPACK_OBJECT_EXT:
                return json_pack(
                    "{s:i,s:o}", "$ext", (int)o->via.ext.type, "$base64",
                    base64_encode((const unsigned char *)o->via.ext.ptr, o->via.ext.size));
        case MSGPACK_OBJECT_ARRAY:
                if ((j = json_array()) == NULL)
                        return NULL;
                for (i = 0; i < o->via.array.size; i++) {
                        if ((v = ctl_json_from_msgpack(&o->via.array.ptr[i])) == NULL ||
                            json_array_append_new(j, v) == -1) {
                                json_decref(j);
                                return NULL;
                        }
                }
                return j;
        case MSGPACK_OBJECT_MAP:
                if ((j = json_object()) == NULL)
                        return NULL;
                for (i = 0; i < o->via.map.size; i++) {
                        k = json_key(&o->via.map.ptr[i].key, &klen);
                        v = ctl_json_from_msgpack(&o->via.map.ptr[i].val);
                        if (k == NULL || v == NULL || json_object_setn_new(j, k, klen, v) == -1) {
                                free(k);
                                json_decref(v);
                                json_decref(j);
                                return NULL;
                        }
                        free(k);
                }
                return j;
        }
        return NULL;
}

static int
pack_fail(char **cause, const char *what)
{
        if (cause != NULL && *cause == NULL)
                *cause = strdup(what);
        return -1;
}

int
ctl_json_to_msgpack(const json_t *j, msgpack_packer *pk, char **cause)
{
        const json_t *v;
        const char *key, *s;
        unsigned char *bin;
        size_t i, len;

        switch (json_typeof(j)) {
        case JSON_NULL:
                return msgpack_pack_nil(pk);
        case JSON_TRUE:
                return msgpack_pack_true(pk);
        case JSON_FALSE:
                return msgpack_pack_false(pk);
        case JSON_INTEGER:
                return msgpack_pack_int64(pk, json_integer_value(j));
        case JSON_REAL:
                return msgpack_pack_double(pk, json_real_value(j));
        case JSON_STRING:
                proto_pack_strn(pk, json_string_value(j), json_string_length(j));
                return 0;
        case JSON_ARRAY:
                msgpack_pack_array(pk, json_array_size(j));
                for (i = 0; i < json_array_size(j); i++) {
                        if (ctl_json_to_msgpack(json_array_get(j, i), pk, cause) == -1)
                                return -1;
                }
                return 0;
        case JSON_OBJECT:
                v = json_object_get(j, "$base64");
                if (json_object_size(j) == 1 && json_is_string(v)) {
                        s = json_string_value(v);
                        if ((bin = base64_decode(s, json_string_length(v), &len)) == NULL)
                                return pack_fail(cause, "invalid base64 in \"$base64\"");
                        msgpack_pack_bin(pk, len);
                        msgpack_pack_bin_body(pk, bin, len);
                        free(bin);
                        return 0;
                }
                msgpack_pack_map(pk, json_object_size(j));
                json_object_foreach((json_t *)j, key, v)
                {
                        proto_pack_str(pk, key);
                        if (ctl_json_to_msgpack(v, pk, cause) == -1)
                                return -1;
                }
                return 0;
        }
        return pack_fail(cause, "unsupported JSON value");
}

static json_t *
json_seconds_or_null(double t)
{
        return t > 0 ? json_real(t) : json_null();
}

/* A signal's name, or null. */
static json_t *
json_signal(int sig)
{
        const char *name = sig > 0 ? proto_signal_name(sig) : NULL;

        return name != NULL ? json_string(name) : json_null();
}

static json_t *
json_exit_code(int code)
{
        return code >= 0 ? json_integer(code) : json_null();
}

/* A string that may be NULL, as its bytes or null. */
static json_t *
json_opt_bytes(const char *s)
{
        return s != NULL ? ctl_json_bytes(s, strlen(s)) : json_null();
}

/* The fields of the supervision capability, as the daemon names them. */
static json_t *
json_record_supervision(const struct corral_process *p, json_t *j)
{
        json_t *last = json_null();

        if (j == NULL)
                return NULL;
        if (p->last_exit_code >= 0 || p->last_signal > 0)
                last = json_pack("{s:o,s:o}", "exit_code", json_exit_code(p->last_exit_code),
                                 "signal", json_signal(p->last_signal));
        if (json_object_set_new(j, "ready", json_boolean(p->ready)) == -1 ||
            json_object_set_new(j, "created_at", json_seconds_or_null(p->created_at)) == -1 ||
            json_object_set_new(j, "last_exit", last) == -1 ||
            json_object_set_new(j, "restarts", json_integer(p->restarts)) == -1 ||
            json_object_set_new(j, "restart",
                                p->restart[0] != '\0' ? json_string(p->restart) : json_null()) ==
                -1 ||
            json_object_set_new(j, "status", json_opt_bytes(p->status)) == -1 ||
            json_object_set_new(j, "reason", json_opt_bytes(p->reason)) == -1 ||
            json_object_set_new(j, "worker_index",
                                p->worker_index >= 0 ? json_integer(p->worker_index)
                                                     : json_null()) == -1) {
                json_decref(j);
                return NULL;
        }
        return j;
}

json_t *
ctl_json_record(const struct corral_process *p)
{
        json_t *argv = json_array();
        size_t i;

        for (i = 0; p->argv != NULL && p->argv[i] != NULL; i++)
                json_array_append_new(argv, ctl_json_bytes(p->argv[i], strlen(p->argv[i])));
        return json_record_supervision(
            p,
            json_pack("{s:I,s:o,s:o,s:o,s:I,s:s,s:o,s:o,s:o,s:o,s:b}", "id", (json_int_t)p->id,
                      "name", ctl_json_bytes(p->name, strlen(p->name)), "pool",
                      ctl_json_bytes(p->pool, strlen(p->pool)), "argv", argv, "pid",
                      (json_int_t)p->pid, "state", p->state, "started_at",
                      json_seconds_or_null(p->started_at), "ended_at",
                      json_seconds_or_null(p->ended_at), "exit_code", json_exit_code(p->exit_code),
                      "signal", json_signal(p->signal), "core_dumped", p->core_dumped));
}

static json_t *
json_strv(char *const *v)
{
        json_t *a = json_array();
        size_t i;

        for (i = 0; a != NULL && v != NULL && v[i] != NULL; i++)
                json_array_append_new(a, ctl_json_bytes(v[i], strlen(v[i])));
        return a;
}

json_t *
ctl_json_pool(const struct corral_pool *pool)
{
        const struct corral_pool_states *s = &pool->states;
        json_t *j, *members = json_array(), *replicas = json_null(), *consume = json_null();
        size_t i;

        for (i = 0; members != NULL && i < pool->nmembers; i++)
                json_array_append_new(members, json_integer((json_int_t)pool->members[i]));
        if (pool->has_replicas)
                replicas = json_pack("{s:i,s:o,s:o}", "count", (int)pool->replicas, "argv",
                                     json_strv(pool->replicas_argv), "cwd",
                                     json_opt_bytes(pool->replicas_cwd));
        if (pool->has_consume)
                consume = json_pack("{s:o,s:o,s:o}", "queue", json_opt_bytes(pool->consume_queue),
                                    "argv", json_strv(pool->consume_argv), "cwd",
                                    json_opt_bytes(pool->consume_cwd));
        j = json_pack("{s:o,s:I,s:I,s:I,s:b,s:b,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
                      "s:o}",
                      "name", ctl_json_bytes(pool->name, strlen(pool->name)), "size",
                      (json_int_t)pool->size, "active", (json_int_t)pool->active, "live",
                      (json_int_t)pool->live, "closed", pool->closed, "rolling", pool->rolling,
                      "replicas", replicas, "states", "pending", (json_int_t)s->pending, "starting",
                      (json_int_t)s->starting, "running", (json_int_t)s->running, "stopping",
                      (json_int_t)s->stopping, "backoff", (json_int_t)s->backoff, "exited",
                      (json_int_t)s->exited, "killed", (json_int_t)s->killed, "stopped",
                      (json_int_t)s->stopped, "failed", (json_int_t)s->failed, "cancelled",
                      (json_int_t)s->cancelled, "members", members);
        if (j != NULL &&
            (json_object_set_new(j, "consume", consume) == -1 ||
             ctl_policy_json(&pool->defaults, j) == -1 || ctl_output_json(pool, j) == -1)) {
                json_decref(j);
                return NULL;
        }
        if (j == NULL)
                json_decref(consume);
        return j;
}

/*
 * Print j and release it: indented for a person, one line for a program.
 * NULL (a failed conversion) is reported. Returns an exit status.
 */
int
ctl_json_print(json_t *j)
{
        size_t flags = JSON_ENCODE_ANY | JSON_REAL_PRECISION(16);

        if (j == NULL) {
                ctl_warn("cannot convert the result to JSON");
                return CTL_EXIT_IO;
        }
        flags |= isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT;
        json_dumpf(j, stdout, flags);
        fputc('\n', stdout);
        json_decref(j);
        return CTL_EXIT_OK;
}
