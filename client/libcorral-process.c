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

/* An empty record: the fields that mean "none" with -1 set so. */
static void
process_init(struct corral_process *p)
{
        memset(p, 0, sizeof *p);
        p->exit_code = -1;
        p->worker_index = -1;
        p->last_exit_code = -1;
}

/* An exit code 0..255 (or nil/absent: -1 left alone) into *out; -1 if malformed. */
static int
decode_exit_code(const msgpack_object *v, int *out)
{
        int64_t n;

        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (!corral_obj_is_int(v) || (n = corral_obj_int(v)) < 0 || n > 255)
                return -1;
        *out = (int)n;
        return 0;
}

/* A signal (name or number; nil/absent: 0 left alone) into *out; -1 if malformed. */
static int
decode_signal(const msgpack_object *v, int *out)
{
        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        return (*out = corral_obj_signal(v)) > 0 ? 0 : -1;
}

/* The fields of the supervision capability; all optional. */
static int
decode_supervision(const msgpack_object *o, struct corral_process *out)
{
        const msgpack_object *v;

        if ((v = corral_map_get(o, "ready")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_BOOLEAN)
                        return -1;
                out->ready = v->via.boolean;
        }
        if (corral_obj_uint(corral_map_get(o, "restarts"), &out->restarts) == -1)
                return -1;
        if ((v = corral_map_get(o, "restart")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
            corral_obj_strcut(v, out->restart, sizeof out->restart) == -1)
                return -1;
        if (corral_obj_optstr(corral_map_get(o, "status"), &out->status) == -1 ||
            corral_obj_optstr(corral_map_get(o, "reason"), &out->reason) == -1)
                return -1;
        if ((v = corral_map_get(o, "worker_index")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > INT32_MAX)
                        return -1;
                out->worker_index = (int)v->via.u64;
        }
        if (corral_obj_seconds(corral_map_get(o, "created_at"), &out->created_at) == -1)
                return -1;
        if ((v = corral_map_get(o, "last_exit")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_MAP ||
                    decode_exit_code(corral_map_get(v, "exit_code"), &out->last_exit_code) ||
                    decode_signal(corral_map_get(v, "signal"), &out->last_signal))
                        return -1;
        }
        return 0;
}

int
corral_process_decode(const msgpack_object *o, struct corral_process *out)
{
        const msgpack_object *v;

        if (out == NULL)
                return -1;
        process_init(out);
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
                return -1;

        if ((v = corral_map_get(o, "id")) == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                goto fail;
        out->id = v->via.u64;
        if ((out->name = corral_strdup_obj(corral_map_get(o, "name"))) == NULL ||
            (out->pool = corral_strdup_obj(corral_map_get(o, "pool"))) == NULL ||
            (out->argv = corral_obj_strv(corral_map_get(o, "argv"))) == NULL)
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
        if (corral_obj_seconds(corral_map_get(o, "started_at"), &out->started_at) == -1 ||
            corral_obj_seconds(corral_map_get(o, "ended_at"), &out->ended_at) == -1)
                goto fail;

        if (decode_exit_code(corral_map_get(o, "exit_code"), &out->exit_code) == -1 ||
            decode_signal(corral_map_get(o, "signal"), &out->signal) == -1)
                goto fail;
        if ((v = corral_map_get(o, "core_dumped")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_BOOLEAN)
                        goto fail;
                out->core_dumped = v->via.boolean;
        }
        if (decode_supervision(o, out) == -1)
                goto fail;
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
        corral_strv_free(p->argv);
        free(p->status);
        free(p->reason);
        process_init(p);
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
        if (out != NULL)
                process_init(out);
}

/* Call a method whose result is a process record. */
static int
call_record(struct corral *c, const char *method, struct corral_params *p, double extra,
            struct corral_process *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_process tmp;
        int rc = 0;

        process_zero(out);
        if (corral_call_params(c, method, p, extra, &res, err) == -1)
                return -1;
        if (corral_process_decode(&res.obj, &tmp) == -1)
                rc = corral_bad_result(err, method);
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
        corral_strv_free(h->methods);
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
        if (corral_call_params(c, PROTO_M_DAEMON_HELLO, NULL, 0, &res, err) == -1)
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
        if ((h.methods = corral_obj_strv(corral_map_get(&res.obj, "methods"))) == NULL)
                goto out;
        rc = 0;
out:
        corral_result_free(&res);
        if (rc == -1) {
                corral_hello_clear(&h);
                return corral_bad_result(err, PROTO_M_DAEMON_HELLO);
        }
        if (out != NULL)
                *out = h;
        else
                corral_hello_clear(&h);
        return 0;
}

int
corral_ping(struct corral *c, struct corral_error *err)
{
        return corral_call_empty(c, PROTO_M_DAEMON_PING, NULL, 0, err);
}

int
corral_shutdown(struct corral *c, struct corral_error *err)
{
        return corral_call_empty(c, PROTO_M_DAEMON_SHUTDOWN, NULL, 0, err);
}

/* Check what corral_spawn() cannot leave to the daemon; count the keys. */
static int
spawn_check(const struct corral_spawn_opts *o, uint32_t *nkeys, struct corral_error *err)
{
        uint32_t npolicy = 0;
        size_t i;

        if (o == NULL || corral_strv_len(o->argv) == 0)
                return corral_bad_param(err, "argv", "argv must not be empty");
        if (corral_check_env(o->env, err) == -1 ||
            corral_policy_nkeys(&o->policy, &npolicy, err) == -1)
                return -1;
        if (o->nafter > 0 && o->after == NULL)
                return corral_bad_param(err, "after", "after is NULL");
        if (o->has_stdin && o->stdin_queue != NULL)
                return corral_bad_param(err, "stdin_queue", "give stdin or stdin_queue, not both");
        for (i = 0; i < o->nafter; i++) {
                if (o->after[i].name == NULL && o->after[i].id == 0)
                        return corral_bad_param(err, "after", "after[%zu] has no id or name", i);
        }
        *nkeys = 1 + (o->name != NULL) + (o->pool != NULL) + (o->env != NULL) + o->env_clear +
                 (o->cwd != NULL) + o->has_stdin + npolicy + o->wait_ready + (o->nafter > 0) +
                 o->has_priority + corral_output_nkeys(&o->output) + (o->stdin_queue != NULL) +
                 o->follow;
        return 0;
}

int
corral_spawn(struct corral *c, const struct corral_spawn_opts *o, struct corral_process *out,
             struct corral_error *err)
{
        struct corral_params p;
        uint32_t nkeys = 0;
        size_t i;

        process_zero(out);
        if (spawn_check(o, &nkeys, err) == -1)
                return -1;
        corral_params_init(&p, nkeys);
        corral_pack_strv(&p.pk, "argv", o->argv);
        if (o->name != NULL)
                proto_pack_kv_str(&p.pk, "name", o->name);
        if (o->pool != NULL)
                proto_pack_kv_str(&p.pk, "pool", o->pool);
        if (o->env != NULL)
                corral_pack_env(&p.pk, "env", o->env);
        if (o->env_clear)
                proto_pack_kv_bool(&p.pk, "env_clear", true);
        if (o->cwd != NULL)
                proto_pack_kv_str(&p.pk, "cwd", o->cwd);
        if (o->has_stdin) {
                proto_pack_str(&p.pk, "stdin");
                msgpack_pack_bin(&p.pk, o->stdin_len);
                msgpack_pack_bin_body(&p.pk, o->stdin_data, o->stdin_len);
        }
        corral_pack_policy(&p.pk, &o->policy);
        if (o->wait_ready)
                proto_pack_kv_str(&p.pk, "wait", "ready");
        if (o->nafter > 0) {
                proto_pack_str(&p.pk, "after");
                msgpack_pack_array(&p.pk, o->nafter);
                for (i = 0; i < o->nafter; i++) {
                        if (o->after[i].name != NULL)
                                proto_pack_str(&p.pk, o->after[i].name);
                        else
                                msgpack_pack_uint64(&p.pk, o->after[i].id);
                }
        }
        if (o->has_priority)
                proto_pack_kv_int(&p.pk, "priority", o->priority);
        corral_pack_output(&p.pk, &o->output);
        if (o->stdin_queue != NULL)
                proto_pack_kv_str(&p.pk, "stdin_queue", o->stdin_queue);
        if (o->follow)
                proto_pack_kv_bool(&p.pk, "follow", true);
        /* Ready may come after a slot, the processes it follows and its start: no bound. */
        return call_record(c, PROTO_M_PROCESS_SPAWN, &p, o->wait_ready ? -1 : 0, out, err);
}

/* process.start and process.restart. */
static int
start_call(struct corral *c, const char *method, struct corral_target t, bool wait_ready,
           struct corral_process *out, struct corral_error *err)
{
        struct corral_params p;

        corral_params_init(&p, wait_ready ? 2 : 1);
        corral_pack_target(&p.pk, t);
        if (wait_ready)
                proto_pack_kv_str(&p.pk, "wait", "ready");
        return call_record(c, method, &p, wait_ready ? -1 : 0, out, err);
}

int
corral_start(struct corral *c, struct corral_target t, bool wait_ready, struct corral_process *out,
             struct corral_error *err)
{
        return start_call(c, PROTO_M_PROCESS_START, t, wait_ready, out, err);
}

/* Stopping first takes up to the grace period: without wait, that is not waited for. */
int
corral_restart(struct corral *c, struct corral_target t, bool wait_ready,
               struct corral_process *out, struct corral_error *err)
{
        return start_call(c, PROTO_M_PROCESS_RESTART, t, wait_ready, out, err);
}

/* process.join's params, with output or not. */
static void
join_params(struct corral_params *p, struct corral_target t, double timeout, bool output)
{
        corral_params_init(p, 1 + (timeout >= 0) + output);
        corral_pack_target(&p->pk, t);
        if (timeout >= 0)
                proto_pack_kv_double(&p->pk, "timeout", timeout);
        if (output)
                proto_pack_kv_bool(&p->pk, "output", true);
}

int
corral_join(struct corral *c, struct corral_target t, double timeout, struct corral_process *out,
            struct corral_error *err)
{
        struct corral_params p;

        join_params(&p, t, timeout, false);
        /* The daemon answers after up to timeout: wait that long on top. */
        return call_record(c, PROTO_M_PROCESS_JOIN, &p, timeout >= 0 ? timeout : -1, out, err);
}

void
corral_captured_clear(struct corral_captured *o)
{
        if (o == NULL)
                return;
        free(o->stdout_buf);
        free(o->stderr_buf);
        memset(o, 0, sizeof *o);
}

/* join's output map: {stdout: bin, stderr: bin, lost: uint}. */
static int
captured_decode(const msgpack_object *m, struct corral_captured *out)
{
        memset(out, 0, sizeof *out);
        if (m == NULL || m->type != MSGPACK_OBJECT_MAP ||
            corral_obj_bytes(corral_map_get(m, "stdout"), &out->stdout_buf, &out->stdout_len) ==
                -1 ||
            corral_obj_bytes(corral_map_get(m, "stderr"), &out->stderr_buf, &out->stderr_len) ==
                -1 ||
            corral_obj_u64(corral_map_get(m, "lost"), &out->lost) == -1) {
                corral_captured_clear(out);
                return -1;
        }
        return 0;
}

int
corral_join_output(struct corral *c, struct corral_target t, double timeout,
                   struct corral_process *out, struct corral_captured *output,
                   struct corral_error *err)
{
        struct corral_params p;
        struct corral_result res;
        struct corral_process rec;
        struct corral_captured cap;
        int rc = 0;

        process_zero(out);
        if (output != NULL)
                memset(output, 0, sizeof *output);
        join_params(&p, t, timeout, true);
        if (corral_call_params(c, PROTO_M_PROCESS_JOIN, &p, timeout >= 0 ? timeout : -1, &res,
                               err) == -1)
                return -1;
        if (corral_process_decode(&res.obj, &rec) == -1)
                rc = corral_bad_result(err, PROTO_M_PROCESS_JOIN);
        else if (captured_decode(corral_map_get(&res.obj, "output"), &cap) == -1) {
                corral_process_clear(&rec);
                rc = corral_bad_result(err, PROTO_M_PROCESS_JOIN);
        } else {
                if (out != NULL)
                        *out = rec;
                else
                        corral_process_clear(&rec);
                if (output != NULL)
                        *output = cap;
                else
                        corral_captured_clear(&cap);
        }
        corral_result_free(&res);
        return rc;
}

int
corral_terminate(struct corral *c, struct corral_target t, const struct corral_terminate_opts *o,
                 struct corral_process *out, struct corral_error *err)
{
        struct corral_terminate_opts def = {.signal = 0, .grace = -1, .wait = false};
        struct corral_params p;

        if (o == NULL)
                o = &def;
        corral_params_init(&p, 1 + (o->signal != 0) + (o->grace >= 0) + o->wait);
        corral_pack_target(&p.pk, t);
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
        struct corral_params p;

        corral_params_init(&p, group ? 3 : 2);
        corral_pack_target(&p.pk, t);
        proto_pack_kv_int(&p.pk, "signal", signal);
        if (group)
                proto_pack_kv_bool(&p.pk, "group", true);
        return corral_call_empty(c, PROTO_M_PROCESS_SIGNAL, &p, 0, err);
}

int
corral_info(struct corral *c, struct corral_target t, struct corral_process *out,
            struct corral_error *err)
{
        struct corral_params p;

        corral_params_init(&p, 1);
        corral_pack_target(&p.pk, t);
        return call_record(c, PROTO_M_PROCESS_INFO, &p, 0, out, err);
}

int
corral_list(struct corral *c, const char *pool, bool live_only, struct corral_process **out,
            size_t *n, struct corral_error *err)
{
        struct corral_result res;
        struct corral_process *v = NULL;
        const msgpack_object *a;
        struct corral_params p;
        size_t i = 0;

        if (out != NULL)
                *out = NULL;
        if (n != NULL)
                *n = 0;
        corral_params_init(&p, (pool != NULL) + live_only);
        if (pool != NULL)
                proto_pack_kv_str(&p.pk, "pool", pool);
        if (live_only)
                proto_pack_kv_bool(&p.pk, "live", true);
        if (corral_call_params(c, PROTO_M_PROCESS_LIST, &p, 0, &res, err) == -1)
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
        return corral_bad_result(err, PROTO_M_PROCESS_LIST);
}
