/*
 * params.c -- the table-driven decoder of request parameters.
 *
 * A request's params are [] or [map]. Each key of the map is looked up in
 * the method's spec (spec.c) and its value decoded by the function for the
 * field's type, which checks the type and bounds and stores a C value in
 * the method's struct at the field's offset. Strings and vectors are
 * copied into the request's arena: the msgpack objects do not outlive the
 * next read, and a request may wait (join) long after it.
 *
 * A nil value counts as an absent parameter, so that a client may send
 * {"name": nil} for "no name" (proto_pack_kv_str() packs NULL as nil).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define STR_MAX_DEFAULT   PROTO_PATH_MAX
#define STRV_ENTRY_MAX    (128u * 1024) /* Linux's MAX_ARG_STRLEN */
#define BYTES_MAX_DEFAULT PROTO_MAX_MESSAGE_DEFAULT
#define SIGNAME_MAX       32u
#define ECHO_MAX          48u /* bytes of client input quoted in a message */

typedef int field_fn(const struct proto_field *, const msgpack_object *, void *out,
                     struct proto_arena *, struct proto_error *);

/* Where a field's value goes in the params struct. */
static void *
slot(void *out, size_t off)
{
        return (char *)out + off;
}

/*
 * Client bytes made safe to quote in a message (and to send back as a
 * msgpack str a strict UTF-8 decoder accepts): printable ASCII, the rest
 * as '?', cut at max bytes.
 */
static void
echo(char *dst, size_t dstsize, const char *s, size_t len, size_t max)
{
        size_t n = len < max ? len : max;

        if (n >= dstsize)
                n = dstsize - 1;
        for (size_t i = 0; i < n; i++)
                dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        dst[n] = '\0';
}

static int
nomem(struct proto_error *err)
{
        proto_error_set(err, PROTO_E_INTERNAL, NULL, "out of memory decoding parameters");
        return -1;
}

/* A str without NUL of at most max bytes; -1 with err naming the field. */
static int
get_str(const struct proto_field *f, const msgpack_object *o, size_t max, const char *what,
        struct proto_error *err)
{
        if (o->type != MSGPACK_OBJECT_STR) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be %s", f->name,
                                what);
                return -1;
        }
        if (o->via.str.size > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s is longer than %zu bytes",
                                f->name, max);
                return -1;
        }
        if (memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s contains a NUL byte",
                                f->name);
                return -1;
        }
        return 0;
}

/* Copy a checked str into the arena and store the pointer. */
static int
put_str(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
        struct proto_error *err)
{
        char *s = proto_arena_strndup(a, o->via.str.ptr, o->via.str.size);

        if (s == NULL)
                return nomem(err);
        *(const char **)slot(out, f->off) = s;
        return 0;
}

static int
dec_str(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
        struct proto_error *err)
{
        size_t max = f->max_len != 0 ? f->max_len : STR_MAX_DEFAULT;

        if (get_str(f, o, max, "a string", err) < 0)
                return -1;
        return put_str(f, o, out, a, err);
}

static int
dec_name(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        const char *why;

        if (o->type != MSGPACK_OBJECT_STR) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be a string",
                                f->name);
                return -1;
        }
        if (!proto_name_valid(o->via.str.ptr, o->via.str.size, &why)) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s %s", f->name, why);
                return -1;
        }
        return put_str(f, o, out, a, err);
}

static int
dec_path(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        if (get_str(f, o, PROTO_PATH_MAX - 1, "a string", err) < 0)
                return -1;
        if (o->via.str.size == 0 || o->via.str.ptr[0] != '/') {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be an absolute path",
                                f->name);
                return -1;
        }
        return put_str(f, o, out, a, err);
}

/* bin or str, any bytes; stored with a length (and a NUL, for convenience). */
static int
dec_bytes(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
          struct proto_error *err)
{
        size_t max = f->max_len != 0 ? f->max_len : BYTES_MAX_DEFAULT;
        const char *p;
        size_t len;
        char *copy;

        if (o->type == MSGPACK_OBJECT_BIN) {
                p = o->via.bin.ptr;
                len = o->via.bin.size;
        } else if (o->type == MSGPACK_OBJECT_STR) {
                p = o->via.str.ptr;
                len = o->via.str.size;
        } else {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be binary or a string", f->name);
                return -1;
        }
        if (len > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s is longer than %zu bytes",
                                f->name, max);
                return -1;
        }
        if ((copy = proto_arena_alloc(a, len + 1)) == NULL)
                return nomem(err);
        if (len > 0)
                memcpy(copy, p, len);
        copy[len] = '\0';
        *(const uint8_t **)slot(out, f->off) = (const uint8_t *)copy;
        if (f->count_off != 0)
                *(size_t *)slot(out, f->count_off) = len;
        return 0;
}

static int
dec_bool(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        if (o->type != MSGPACK_OBJECT_BOOLEAN) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be a boolean",
                                f->name);
                return -1;
        }
        *(bool *)slot(out, f->off) = o->via.boolean;
        return 0;
}

/* min = max = 0 means the whole int64 range. */
static int
dec_int(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
        struct proto_error *err)
{
        bool bounded = f->min != 0 || f->max != 0;
        int64_t v;

        if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                v = o->via.i64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
                v = (int64_t)o->via.u64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                goto range;
        else {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be an integer",
                                f->name);
                return -1;
        }
        if (bounded && (v < f->min || v > f->max))
                goto range;
        *(int64_t *)slot(out, f->off) = v;
        return 0;
range:
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s is out of range", f->name);
        return -1;
}

/* max = 0 means no upper bound; min <= 0 none below 0. */
static int
dec_uint(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        uint64_t v;

        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be a non-negative integer", f->name);
                return -1;
        }
        v = o->via.u64;
        if ((f->min > 0 && v < (uint64_t)f->min) || (f->max > 0 && v > (uint64_t)f->max)) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s is out of range",
                                f->name);
                return -1;
        }
        *(uint64_t *)slot(out, f->off) = v;
        return 0;
}

/* A finite number of seconds, >= 0 and <= max (when max is set). */
static int
dec_seconds(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
            struct proto_error *err)
{
        double d;

        switch (o->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
                d = (double)o->via.u64;
                break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
                d = -1;
                break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
                d = o->via.f64;
                break;
        default:
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be a number of seconds", f->name);
                return -1;
        }
        if (isnan(d) || d < 0) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be a number of seconds >= 0", f->name);
                return -1;
        }
        if (isinf(d) || (f->max > 0 && d > (double)f->max)) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s is too large", f->name);
                return -1;
        }
        *(double *)slot(out, f->off) = d == 0 ? 0 : d; /* -0.0 becomes 0 */
        return 0;
}

/* An array of strings: a NULL-terminated vector, count at count_off. */
static int
dec_strv(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        size_t max = f->max > 0 ? (size_t)f->max : PROTO_ARGV_MAX;
        size_t entry_max = f->max_len != 0 ? f->max_len : STRV_ENTRY_MAX;
        const char **v;
        uint32_t n;

        if (o->type != MSGPACK_OBJECT_ARRAY)
                goto type;
        n = o->via.array.size;
        for (uint32_t i = 0; i < n; i++) {
                if (o->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
                        goto type;
        }
        if (n < 1 || n > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must have 1 to %zu entries", f->name, max);
                return -1;
        }
        if ((v = proto_arena_alloc(a, ((size_t)n + 1) * sizeof *v)) == NULL)
                return nomem(err);
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *s = &o->via.array.ptr[i];

                if (get_str(f, s, entry_max, "a string", err) < 0)
                        return -1;
                if ((v[i] = proto_arena_strndup(a, s->via.str.ptr, s->via.str.size)) == NULL)
                        return nomem(err);
        }
        v[n] = NULL;
        *(const char ***)slot(out, f->off) = v;
        if (f->count_off != 0)
                *(size_t *)slot(out, f->count_off) = n;
        return 0;
type:
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be an array of strings",
                        f->name);
        return -1;
}

/* Order "K=V" strings by K, for finding duplicate keys. */
static int
env_key_cmp(const void *pa, const void *pb)
{
        const char *x = *(const char *const *)pa, *y = *(const char *const *)pb;
        size_t xl = strcspn(x, "="), yl = strcspn(y, "=");
        int c = memcmp(x, y, xl < yl ? xl : yl);

        if (c != 0)
                return c;
        return (xl > yl) - (xl < yl);
}

/* A key appearing twice would leave the child's environment ambiguous. */
static int
env_check_dups(const struct proto_field *f, const char **v, size_t n, struct proto_arena *a,
               struct proto_error *err)
{
        const char **sorted;
        char key[ECHO_MAX + 1];

        if (n < 2)
                return 0;
        if ((sorted = proto_arena_alloc(a, n * sizeof *sorted)) == NULL)
                return nomem(err);
        memcpy(sorted, v, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, env_key_cmp);
        for (size_t i = 1; i < n; i++) {
                if (env_key_cmp(&sorted[i - 1], &sorted[i]) == 0) {
                        echo(key, sizeof key, sorted[i], strcspn(sorted[i], "="), ECHO_MAX);
                        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                        "%s has key '%s' twice", f->name, key);
                        return -1;
                }
        }
        return 0;
}

/* One env entry as "K=V" in the arena; K non-empty without '='. */
static int
env_entry(const struct proto_field *f, const msgpack_object_kv *kv, const char **dst,
          struct proto_arena *a, struct proto_error *err)
{
        const msgpack_object *k = &kv->key, *v = &kv->val;
        char *s;

        if (get_str(f, k, PROTO_PATH_MAX, "a map of strings to strings", err) < 0 ||
            get_str(f, v, STRV_ENTRY_MAX, "a map of strings to strings", err) < 0)
                return -1;
        if (k->via.str.size == 0 || memchr(k->via.str.ptr, '=', k->via.str.size) != NULL) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s keys must be non-empty and without '='", f->name);
                return -1;
        }
        if ((s = proto_arena_alloc(a, k->via.str.size + v->via.str.size + 2)) == NULL)
                return nomem(err);
        memcpy(s, k->via.str.ptr, k->via.str.size);
        s[k->via.str.size] = '=';
        memcpy(s + k->via.str.size + 1, v->via.str.ptr, v->via.str.size);
        s[k->via.str.size + 1 + v->via.str.size] = '\0';
        *dst = s;
        return 0;
}

/* A map of strings: "K=V" strings in a NULL-terminated vector. */
static int
dec_env(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
        struct proto_error *err)
{
        size_t max = f->max > 0 ? (size_t)f->max : PROTO_ENV_MAX;
        const char **v;
        uint32_t n;

        if (o->type != MSGPACK_OBJECT_MAP) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be a map of strings to strings", f->name);
                return -1;
        }
        n = o->via.map.size;
        if (n > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s has more than %zu entries", f->name, max);
                return -1;
        }
        if ((v = proto_arena_alloc(a, ((size_t)n + 1) * sizeof *v)) == NULL)
                return nomem(err);
        for (uint32_t i = 0; i < n; i++) {
                if (env_entry(f, &o->via.map.ptr[i], &v[i], a, err) < 0)
                        return -1;
        }
        v[n] = NULL;
        if (env_check_dups(f, v, n, a, err) < 0)
                return -1;
        *(const char ***)slot(out, f->off) = v;
        if (f->count_off != 0)
                *(size_t *)slot(out, f->count_off) = n;
        return 0;
}

/* A name ("TERM", "sigusr1", "RTMIN+2", "15") or a number 1..SIGRTMAX. */
static int
dec_signal(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
           struct proto_error *err)
{
        char name[SIGNAME_MAX + 1], shown[ECHO_MAX + 1];
        int sig = -1;

        if (o->type == MSGPACK_OBJECT_STR) {
                size_t len = o->via.str.size;

                if (len <= SIGNAME_MAX && memchr(o->via.str.ptr, '\0', len) == NULL) {
                        memcpy(name, o->via.str.ptr, len);
                        name[len] = '\0';
                        sig = proto_signal_from_name(name);
                }
                if (sig < 0) {
                        echo(shown, sizeof shown, o->via.str.ptr, len, ECHO_MAX);
                        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "unknown signal '%s'",
                                        shown);
                        return -1;
                }
        } else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                   o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || o->via.u64 < 1 ||
                    o->via.u64 > (uint64_t)SIGRTMAX) {
                        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                        "%s must be between 1 and %d", f->name, SIGRTMAX);
                        return -1;
                }
                sig = (int)o->via.u64;
        } else {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be a signal name or number", f->name);
                return -1;
        }
        *(int *)slot(out, f->off) = sig;
        return 0;
}

/* One of the field's enum_names, stored as its index. */
static int
dec_enum(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        char shown[ECHO_MAX + 1];

        if (o->type == MSGPACK_OBJECT_STR) {
                for (int i = 0; f->enum_names[i] != NULL; i++) {
                        if (strlen(f->enum_names[i]) == o->via.str.size &&
                            memcmp(f->enum_names[i], o->via.str.ptr, o->via.str.size) == 0) {
                                *(int *)slot(out, f->off) = i;
                                return 0;
                        }
                }
                echo(shown, sizeof shown, o->via.str.ptr, o->via.str.size, ECHO_MAX);
        } else
                snprintf(shown, sizeof shown, "%s", "(not a string)");
        {
                char list[160] = "";

                for (int i = 0; f->enum_names[i] != NULL; i++) {
                        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                        strncat(list, f->enum_names[i], sizeof list - strlen(list) - 1);
                }
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must be one of %s, not '%s'", f->name, list, shown);
        }
        return -1;
}

/* An array of integers within [min, max]. */
static int
dec_intv(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
         struct proto_error *err)
{
        size_t max = f->max_len != 0 ? f->max_len : 256;
        int64_t *v;
        uint32_t n;

        if (o->type != MSGPACK_OBJECT_ARRAY)
                goto type;
        n = o->via.array.size;
        if (n > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must have at most %zu entries", f->name, max);
                return -1;
        }
        if ((v = proto_arena_alloc(a, ((size_t)n + 1) * sizeof *v)) == NULL)
                return nomem(err);
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *e = &o->via.array.ptr[i];

                if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                        if (e->via.u64 > (uint64_t)INT64_MAX || (int64_t)e->via.u64 > f->max)
                                goto range;
                        v[i] = (int64_t)e->via.u64;
                } else if (e->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                        v[i] = e->via.i64;
                else
                        goto type;
                if (v[i] < f->min || v[i] > f->max)
                        goto range;
        }
        *(int64_t **)slot(out, f->off) = v;
        *(size_t *)slot(out, f->count_off) = n;
        return 0;
range:
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                        "%s entries must be between %lld and %lld", f->name, (long long)f->min,
                        (long long)f->max);
        return -1;
type:
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be an array of integers",
                        f->name);
        return -1;
}

/* An array of process ids (uint) or names (str). */
static int
dec_targetv(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
            struct proto_error *err)
{
        size_t max = f->max_len != 0 ? f->max_len : 1024;
        struct proto_target *v;
        const char *why;
        uint32_t n;

        if (o->type != MSGPACK_OBJECT_ARRAY)
                goto type;
        n = o->via.array.size;
        if (n > max) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                "%s must have at most %zu entries", f->name, max);
                return -1;
        }
        if ((v = proto_arena_alloc(a, ((size_t)n + 1) * sizeof *v)) == NULL)
                return nomem(err);
        memset(v, 0, ((size_t)n + 1) * sizeof *v);
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *e = &o->via.array.ptr[i];

                if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                        v[i].id = e->via.u64;
                        v[i].has_id = true;
                } else if (e->type == MSGPACK_OBJECT_STR) {
                        if (!proto_name_valid(e->via.str.ptr, e->via.str.size, &why)) {
                                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                                "%s: not a process name: %s", f->name, why);
                                return -1;
                        }
                        v[i].name = proto_arena_strndup(a, e->via.str.ptr, e->via.str.size);
                        if (v[i].name == NULL)
                                return nomem(err);
                } else
                        goto type;
        }
        *(struct proto_target **)slot(out, f->off) = v;
        *(size_t *)slot(out, f->count_off) = n;
        return 0;
type:
        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                        "%s must be an array of process ids or names", f->name);
        return -1;
}

static int decode_map(const struct proto_params_spec *, const msgpack_object *, void *,
                      struct proto_arena *, struct proto_error *);

/* A nested map, decoded with its own spec (errors name "outer.inner"). */
static int
dec_struct(const struct proto_field *f, const msgpack_object *o, void *out, struct proto_arena *a,
           struct proto_error *err)
{
        char field[2 * sizeof err->field];

        if (o->type != MSGPACK_OBJECT_MAP) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "%s must be a map", f->name);
                return -1;
        }
        if (decode_map(f->sub, o, slot(out, f->off), a, err) < 0) {
                snprintf(field, sizeof field, "%s.%s", f->name, err->field);
                snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, field);
                return -1;
        }
        return 0;
}

static field_fn *const decoders[] = {
    [PF_STR] = dec_str,     [PF_NAME] = dec_name,       [PF_PATH] = dec_path,
    [PF_BYTES] = dec_bytes, [PF_BOOL] = dec_bool,       [PF_INT] = dec_int,
    [PF_UINT] = dec_uint,   [PF_SECONDS] = dec_seconds, [PF_STRV] = dec_strv,
    [PF_ENV] = dec_env,     [PF_SIGNAL] = dec_signal,   [PF_ENUM] = dec_enum,
    [PF_INTV] = dec_intv,   [PF_TARGETV] = dec_targetv, [PF_STRUCT] = dec_struct,
};

/* The field named by a str key, or NULL. */
static const struct proto_field *
field_find(const struct proto_params_spec *spec, const msgpack_object *key)
{
        for (size_t i = 0; i < spec->nfields; i++) {
                const struct proto_field *f = &spec->fields[i];

                if (strlen(f->name) == key->via.str.size &&
                    memcmp(f->name, key->via.str.ptr, key->via.str.size) == 0)
                        return f;
        }
        return NULL;
}

/*
 * Decode one key/value pair. seen has a bit per field already named (for
 * duplicates), given one per field with a non-nil value (for required).
 */
static int
decode_pair(const struct proto_params_spec *spec, const msgpack_object_kv *kv, uint64_t *seen,
            uint64_t *given, void *out, struct proto_arena *a, struct proto_error *err)
{
        const struct proto_field *f;
        char key[ECHO_MAX + 1];
        uint64_t bit;

        if (kv->key.type != MSGPACK_OBJECT_STR) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "params",
                                "parameter names must be strings");
                return -1;
        }
        if ((f = field_find(spec, &kv->key)) == NULL) {
                echo(key, sizeof key, kv->key.via.str.ptr, kv->key.via.str.size, ECHO_MAX);
                proto_error_set(err, PROTO_E_INVALID_PARAMS, key, "unknown parameter '%s'", key);
                return -1;
        }
        bit = (uint64_t)1 << (f - spec->fields);
        if (*seen & bit) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name, "parameter '%s' given twice",
                                f->name);
                return -1;
        }
        *seen |= bit;
        if (kv->val.type == MSGPACK_OBJECT_NIL)
                return 0;
        if ((unsigned)f->type >= sizeof decoders / sizeof decoders[0] ||
            decoders[f->type] == NULL) {
                proto_error_set(err, PROTO_E_INTERNAL, f->name, "bad field type for %s", f->name);
                return -1;
        }
        if (decoders[f->type](f, &kv->val, out, a, err) < 0)
                return -1;
        *given |= bit;
        if (f->has_off != 0)
                *(bool *)slot(out, f->has_off) = true;
        return 0;
}

/* Every required field given a value? */
static int
check_required(const struct proto_params_spec *spec, uint64_t given, struct proto_error *err)
{
        for (size_t i = 0; i < spec->nfields; i++) {
                const struct proto_field *f = &spec->fields[i];

                if ((f->flags & PF_REQUIRED) && !(given & (uint64_t)1 << i)) {
                        proto_error_set(err, PROTO_E_INVALID_PARAMS, f->name,
                                        "missing required parameter '%s'", f->name);
                        return -1;
                }
        }
        return 0;
}

/* Decode a params map with spec into out (zeroed first), then run the spec's check. */
static int
decode_map(const struct proto_params_spec *spec, const msgpack_object *map, void *out,
           struct proto_arena *a, struct proto_error *err)
{
        uint64_t seen = 0, given = 0;

        memset(out, 0, spec->size);
        if (spec->nfields > 64) {
                proto_error_set(err, PROTO_E_INTERNAL, NULL, "too many fields in %s", spec->method);
                return -1;
        }
        for (uint32_t i = 0; map != NULL && i < map->via.map.size; i++) {
                if (decode_pair(spec, &map->via.map.ptr[i], &seen, &given, out, a, err) < 0)
                        return -1;
        }
        if (check_required(spec, given, err) < 0)
                return -1;
        if (spec->check != NULL && spec->check(out, err) < 0)
                return -1;
        return 0;
}

int
proto_params_decode(const struct proto_params_spec *spec, const struct proto_msg *msg, void *out,
                    struct proto_arena *a, struct proto_error *err)
{
        const msgpack_object *params = &msg->params;

        if (params->type != MSGPACK_OBJECT_ARRAY || params->via.array.size > 1 ||
            (params->via.array.size == 1 && params->via.array.ptr[0].type != MSGPACK_OBJECT_MAP)) {
                memset(out, 0, spec->size);
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "params",
                                "params must be [] or [map]");
                return -1;
        }
        return decode_map(spec, params->via.array.size == 1 ? &params->via.array.ptr[0] : NULL, out,
                          a, err);
}
