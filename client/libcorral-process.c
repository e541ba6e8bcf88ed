/*
 * libcorral-process.c -- the typed calls: one function per method, each
 * packing its parameters map and decoding its result into C structs.
 * Decoding is strict about types (a wrong type is a "protocol" error)
 * but ignores keys it does not know, so a newer daemon can add fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "libcorral-private.h"

/* Default grace of process.terminate, for the client-side deadline. */
#define CORRAL_GRACE_DEFAULT 10.0

/* A packer writing into a fresh buffer. */
struct params {
        msgpack_sbuffer sb;
        msgpack_packer pk;
};

static void
params_init(struct params *p, uint32_t nkeys)
{
        msgpack_sbuffer_init(&p->sb);
        msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
        msgpack_pack_map(&p->pk, nkeys);
}

static void
params_free(struct params *p)
{
        msgpack_sbuffer_destroy(&p->sb);
}

/* Call with p's map (NULL: no params); the result into *res. */
static int
call(struct corral *c, const char *method, struct params *p, double extra,
     struct corral_result *res, struct corral_error *err)
{
        int rc;

        if (p != NULL && p->sb.data == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                params_free(p);
                return -1;
        }
        rc = corral_call_extra(c, method, p != NULL ? p->sb.data : NULL, p != NULL ? p->sb.size : 0,
                               extra, res, err);
        if (p != NULL)
                params_free(p);
        return rc;
}

static int
bad_result(struct corral_error *err, const char *method)
{
        corral_error_set(err, CORRAL_E_PROTOCOL, NULL, "unexpected result from %s", method);
        return -1;
}

static void
pack_target(msgpack_packer *pk, struct corral_target t)
{
        if (t.name != NULL)
                proto_pack_kv_str(pk, "name", t.name);
        else
                proto_pack_kv_uint(pk, "id", t.id);
}

static bool
obj_is_int(const msgpack_object *o)
{
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
               o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static int64_t
obj_int(const msgpack_object *o)
{
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                return o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)o->via.u64;
        return o->via.i64;
}

/* A number (int or float) or nil (0) into *out. */
static int
obj_seconds(const msgpack_object *o, double *out)
{
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                *out = 0;
        else if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
                *out = o->via.f64;
        else if (obj_is_int(o))
                *out = (double)obj_int(o);
        else
                return -1;
        return 0;
}

/* A NULL-terminated vector of copies of an array of str; NULL on error. */
static char **
obj_strv(const msgpack_object *o)
{
        char **v;
        uint32_t i;

        if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY)
                return NULL;
        if ((v = calloc((size_t)o->via.array.size + 1, sizeof *v)) == NULL)
                return NULL;
        for (i = 0; i < o->via.array.size; i++) {
                if ((v[i] = corral_strdup_obj(&o->via.array.ptr[i])) == NULL) {
                        while (i > 0)
                                free(v[--i]);
                        free(v);
                        return NULL;
                }
        }
        return v;
}

static void
strv_free(char **v)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; v[i] != NULL; i++)
                free(v[i]);
        free(v);
}

/* Copy a str into a fixed buffer; -1 if not a str or too long. */
static int
obj_strbuf(const msgpack_object *o, char *buf, size_t len)
{
        if (o == NULL || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
            memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
                return -1;
        memcpy(buf, o->via.str.ptr, o->via.str.size);
        buf[o->via.str.size] = '\0';
        return 0;
}

int
corral_process_decode(const msgpack_object *o, struct corral_process *out)
{
        const msgpack_object *v;
        char sig[32];
        int64_t n;

        if (out == NULL)
                return -1;
        memset(out, 0, sizeof *out);
        out->exit_code = -1;
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
                return -1;

        if ((v = corral_map_get(o, "id")) == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                goto fail;
        out->id = v->via.u64;
        if ((out->name = corral_strdup_obj(corral_map_get(o, "name"))) == NULL ||
            (out->pool = corral_strdup_obj(corral_map_get(o, "pool"))) == NULL ||
            (out->argv = obj_strv(corral_map_get(o, "argv"))) == NULL)
                goto fail;
        /* A longer state from a newer daemon is cut rather than refused. */
        if ((v = corral_map_get(o, "state")) == NULL || v->type != MSGPACK_OBJECT_STR)
                goto fail;
        memcpy(out->state, v->via.str.ptr,
               v->via.str.size < sizeof out->state ? v->via.str.size : sizeof out->state - 1);

        if ((v = corral_map_get(o, "pid")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > INT32_MAX)
                        goto fail;
                out->pid = (pid_t)v->via.u64;
        }
        if (obj_seconds(corral_map_get(o, "started_at"), &out->started_at) == -1 ||
            obj_seconds(corral_map_get(o, "ended_at"), &out->ended_at) == -1)
                goto fail;

        if ((v = corral_map_get(o, "exit_code")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (!obj_is_int(v) || (n = obj_int(v)) < 0 || n > 255)
                        goto fail;
                out->exit_code = (int)n;
        }
        if ((v = corral_map_get(o, "signal")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (obj_is_int(v))
                        out->signal = (int)obj_int(v);
                else if (obj_strbuf(v, sig, sizeof sig) == 0)
                        out->signal = proto_signal_from_name(sig);
                else
                        goto fail;
                if (out->signal <= 0)
                        goto fail;
        }
        if ((v = corral_map_get(o, "core_dumped")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_BOOLEAN)
                        goto fail;
                out->core_dumped = v->via.boolean;
        }
        return 0;
fail:
        corral_process_clear(out);
        return -1;
}

void
corral_process_clear(struct corral_process *p)
{
        if (p == NULL)
                return;
        free(p->name);
        free(p->pool);
        strv_free(p->argv);
        memset(p, 0, sizeof *p);
        p->exit_code = -1;
}

int
corral_process_status(const struct corral_process *p)
{
        if (p == NULL)
                return -1;
        if (p->signal > 0)
                return 128 + p->signal;
        if (p->exit_code >= 0)
                return p->exit_code;
        return -1;
}

void
corral_process_list_free(struct corral_process *v, size_t n)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < n; i++)
                corral_process_clear(&v[i]);
        free(v);
}

int
corral_signal_number(const char *s)
{
        if (s == NULL || *s == '\0')
                return -1;
        return proto_signal_from_name(s);
}

/* An empty record, so that *out is defined when a call fails. */
static void
process_zero(struct corral_process *out)
{
        if (out != NULL) {
                memset(out, 0, sizeof *out);
                out->exit_code = -1;
        }
}

/* Call a method whose result is a process record. */
static int
call_record(struct corral *c, const char *method, struct params *p, double extra,
            struct corral_process *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_process tmp;
        int rc = 0;

        process_zero(out);
        if (call(c, method, p, extra, &res, err) == -1)
                return -1;
        if (corral_process_decode(&res.obj, &tmp) == -1)
                rc = bad_result(err, method);
        else if (out != NULL)
                *out = tmp;
        else
                corral_process_clear(&tmp);
        corral_result_free(&res);
        return rc;
}

void
corral_hello_clear(struct corral_hello *h)
{
        if (h == NULL)
                return;
        strv_free(h->methods);
        memset(h, 0, sizeof *h);
}

int
corral_hello(struct corral *c, struct corral_hello *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_hello h;
        const msgpack_object *v;
        int rc = -1;

        memset(&h, 0, sizeof h);
        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (call(c, PROTO_M_DAEMON_HELLO, NULL, 0, &res, err) == -1)
                return -1;
        if ((v = corral_map_get(&res.obj, "protocol")) == NULL ||
            v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > UINT32_MAX)
                goto out;
        h.protocol = (unsigned)v->via.u64;
        /* A version longer than the buffer is cut, not refused. */
        if ((v = corral_map_get(&res.obj, "version")) == NULL || v->type != MSGPACK_OBJECT_STR)
                goto out;
        memcpy(h.version, v->via.str.ptr,
               v->via.str.size < sizeof h.version ? v->via.str.size : sizeof h.version - 1);
        if ((v = corral_map_get(&res.obj, "pid")) == NULL ||
            v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > INT32_MAX)
                goto out;
        h.pid = (pid_t)v->via.u64;
        if ((h.methods = obj_strv(corral_map_get(&res.obj, "methods"))) == NULL)
                goto out;
        rc = 0;
out:
        corral_result_free(&res);
        if (rc == -1) {
                corral_hello_clear(&h);
                return bad_result(err, PROTO_M_DAEMON_HELLO);
        }
        if (out != NULL)
                *out = h;
        else
                corral_hello_clear(&h);
        return 0;
}

/* Methods answering an empty map. */
static int
call_empty(struct corral *c, const char *method, struct params *p, struct corral_error *err)
{
        struct corral_result res;
        int rc = 0;

        if (call(c, method, p, 0, &res, err) == -1)
                return -1;
        if (res.obj.type != MSGPACK_OBJECT_MAP)
                rc = bad_result(err, method);
        corral_result_free(&res);
        return rc;
}

int
corral_ping(struct corral *c, struct corral_error *err)
{
        return call_empty(c, PROTO_M_DAEMON_PING, NULL, err);
}

int
corral_shutdown(struct corral *c, struct corral_error *err)
{
        return call_empty(c, PROTO_M_DAEMON_SHUTDOWN, NULL, err);
}

static size_t
strv_len(const char *const *v)
{
        size_t n = 0;

        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

int
corral_spawn(struct corral *c, const struct corral_spawn_opts *o, struct corral_process *out,
             struct corral_error *err)
{
        struct params p;
        const char *eq;
        size_t argc, nenv, i;
        uint32_t nkeys = 1;

        process_zero(out);
        if (o == NULL || (argc = strv_len(o->argv)) == 0) {
                corral_error_set(err, "invalid_params", "argv", "argv must not be empty");
                return -1;
        }
        nenv = strv_len(o->env);
        for (i = 0; i < nenv; i++) {
                if ((eq = strchr(o->env[i], '=')) == NULL || eq == o->env[i]) {
                        corral_error_set(err, "invalid_params", "env",
                                         "env entry \"%.64s\" is not KEY=VALUE", o->env[i]);
                        return -1;
                }
        }
        nkeys += (o->name != NULL) + (o->pool != NULL) + (o->env != NULL) + o->env_clear +
                 (o->cwd != NULL) + o->has_stdin;

        params_init(&p, nkeys);
        proto_pack_str(&p.pk, "argv");
        msgpack_pack_array(&p.pk, argc);
        for (i = 0; i < argc; i++)
                proto_pack_str(&p.pk, o->argv[i]);
        if (o->name != NULL)
                proto_pack_kv_str(&p.pk, "name", o->name);
        if (o->pool != NULL)
                proto_pack_kv_str(&p.pk, "pool", o->pool);
        if (o->env != NULL) {
                proto_pack_str(&p.pk, "env");
                msgpack_pack_map(&p.pk, nenv);
                for (i = 0; i < nenv; i++) {
                        eq = strchr(o->env[i], '=');
                        proto_pack_strn(&p.pk, o->env[i], (size_t)(eq - o->env[i]));
                        proto_pack_str(&p.pk, eq + 1);
                }
        }
        if (o->env_clear)
                proto_pack_kv_bool(&p.pk, "env_clear", true);
        if (o->cwd != NULL)
                proto_pack_kv_str(&p.pk, "cwd", o->cwd);
        if (o->has_stdin) {
                proto_pack_str(&p.pk, "stdin");
                msgpack_pack_bin(&p.pk, o->stdin_len);
                msgpack_pack_bin_body(&p.pk, o->stdin_data, o->stdin_len);
        }
        return call_record(c, PROTO_M_PROCESS_SPAWN, &p, 0, out, err);
}

int
corral_join(struct corral *c, struct corral_target t, double timeout, struct corral_process *out,
            struct corral_error *err)
{
        struct params p;

        params_init(&p, timeout >= 0 ? 2 : 1);
        pack_target(&p.pk, t);
        if (timeout >= 0)
                proto_pack_kv_double(&p.pk, "timeout", timeout);
        /* The daemon answers after up to timeout: wait that long on top. */
        return call_record(c, PROTO_M_PROCESS_JOIN, &p, timeout >= 0 ? timeout : -1, out, err);
}

int
corral_terminate(struct corral *c, struct corral_target t, const struct corral_terminate_opts *o,
                 struct corral_process *out, struct corral_error *err)
{
        struct corral_terminate_opts def = {.signal = 0, .grace = -1, .wait = false};
        struct params p;

        if (o == NULL)
                o = &def;
        params_init(&p, 1 + (o->signal != 0) + (o->grace >= 0) + o->wait);
        pack_target(&p.pk, t);
        if (o->signal != 0)
                proto_pack_kv_int(&p.pk, "signal", o->signal);
        if (o->grace >= 0)
                proto_pack_kv_double(&p.pk, "grace", o->grace);
        if (o->wait)
                proto_pack_kv_bool(&p.pk, "wait", true);
        /* With wait, the answer comes after the grace period at worst (then KILL). */
        return call_record(c, PROTO_M_PROCESS_TERMINATE, &p,
                           o->wait ? (o->grace >= 0 ? o->grace : CORRAL_GRACE_DEFAULT) : 0, out,
                           err);
}

int
corral_signal(struct corral *c, struct corral_target t, int signal, bool group,
              struct corral_error *err)
{
        struct params p;

        params_init(&p, group ? 3 : 2);
        pack_target(&p.pk, t);
        proto_pack_kv_int(&p.pk, "signal", signal);
        if (group)
                proto_pack_kv_bool(&p.pk, "group", true);
        return call_empty(c, PROTO_M_PROCESS_SIGNAL, &p, err);
}

int
corral_info(struct corral *c, struct corral_target t, struct corral_process *out,
            struct corral_error *err)
{
        struct params p;

        params_init(&p, 1);
        pack_target(&p.pk, t);
        return call_record(c, PROTO_M_PROCESS_INFO, &p, 0, out, err);
}

int
corral_list(struct corral *c, const char *pool, bool live_only, struct corral_process **out,
            size_t *n, struct corral_error *err)
{
        struct corral_result res;
        struct corral_process *v = NULL;
        const msgpack_object *a;
        struct params p;
        size_t i = 0;

        if (out != NULL)
                *out = NULL;
        if (n != NULL)
                *n = 0;
        params_init(&p, (pool != NULL) + live_only);
        if (pool != NULL)
                proto_pack_kv_str(&p.pk, "pool", pool);
        if (live_only)
                proto_pack_kv_bool(&p.pk, "live", true);
        if (call(c, PROTO_M_PROCESS_LIST, &p, 0, &res, err) == -1)
                return -1;

        if ((a = corral_map_get(&res.obj, "processes")) == NULL || a->type != MSGPACK_OBJECT_ARRAY)
                goto fail;
        if ((v = calloc((size_t)a->via.array.size + 1, sizeof *v)) == NULL)
                goto fail;
        for (i = 0; i < a->via.array.size; i++) {
                if (corral_process_decode(&a->via.array.ptr[i], &v[i]) == -1)
                        goto fail;
        }
        corral_result_free(&res);
        if (out != NULL && n != NULL) {
                *out = v;
                *n = i;
        } else
                corral_process_list_free(v, i);
        return 0;
fail:
        corral_process_list_free(v, i);
        corral_result_free(&res);
        return bad_result(err, PROTO_M_PROCESS_LIST);
}
