/*
 * libcorral-pool.c -- the pool.* calls and the pool record: slots, replicas
 * or the queue it consumes, member counts, and the policy and output
 * defaults its members get.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "libcorral-private.h"

void
corral_pool_clear(struct corral_pool *pool)
{
        if (pool == NULL)
                return;
        free(pool->name);
        corral_strv_free(pool->replicas_argv);
        free(pool->replicas_cwd);
        free(pool->members);
        free((void *)pool->defaults.success_codes); /* the record's own copy */
        free(pool->consume_queue);
        corral_strv_free(pool->consume_argv);
        free(pool->consume_cwd);
        free(pool->stdout_to);
        free(pool->stderr_to);
        memset(pool, 0, sizeof *pool);
}

void
corral_pool_list_free(struct corral_pool *v, size_t n)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < n; i++)
                corral_pool_clear(&v[i]);
        free(v);
}

static int
decode_bool(const msgpack_object *v, bool *out)
{
        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return -1;
        *out = v->via.boolean;
        return 0;
}

/* replicas: {count, argv, cwd} or nil. */
static int
decode_replicas(const msgpack_object *v, struct corral_pool *out)
{
        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (v->type != MSGPACK_OBJECT_MAP)
                return -1;
        out->has_replicas = true;
        if (corral_obj_uint(corral_map_get(v, "count"), &out->replicas) == -1 ||
            (out->replicas_argv = corral_obj_strv(corral_map_get(v, "argv"))) == NULL ||
            corral_obj_optstr(corral_map_get(v, "cwd"), &out->replicas_cwd) == -1)
                return -1;
        return 0;
}

/* consume: {queue, argv, cwd} or nil. */
static int
decode_consume(const msgpack_object *v, struct corral_pool *out)
{
        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (v->type != MSGPACK_OBJECT_MAP)
                return -1;
        out->has_consume = true;
        if ((out->consume_queue = corral_strdup_obj(corral_map_get(v, "queue"))) == NULL ||
            (out->consume_argv = corral_obj_strv(corral_map_get(v, "argv"))) == NULL ||
            corral_obj_optstr(corral_map_get(v, "cwd"), &out->consume_cwd) == -1)
                return -1;
        return 0;
}

/* The output defaults: stdout, stderr, log_buffer, log_max_bytes, log_backups. */
static int
decode_output(const msgpack_object *o, struct corral_pool *out)
{
        if (corral_obj_optstr(corral_map_get(o, "stdout"), &out->stdout_to) == -1 ||
            corral_obj_optstr(corral_map_get(o, "stderr"), &out->stderr_to) == -1 ||
            corral_obj_u64(corral_map_get(o, "log_buffer"), &out->log_buffer) == -1 ||
            corral_obj_u64(corral_map_get(o, "log_max_bytes"), &out->log_max_bytes) == -1 ||
            corral_obj_uint(corral_map_get(o, "log_backups"), &out->log_backups) == -1)
                return -1;
        return 0;
}

/* states: {state name: count}; states this library does not know are skipped. */
static int
decode_states(const msgpack_object *v, struct corral_pool_states *out)
{
        static const struct {
                const char *name;
                size_t off;
        } states[] = {
            {"pending", offsetof(struct corral_pool_states, pending)},
            {"starting", offsetof(struct corral_pool_states, starting)},
            {"running", offsetof(struct corral_pool_states, running)},
            {"stopping", offsetof(struct corral_pool_states, stopping)},
            {"backoff", offsetof(struct corral_pool_states, backoff)},
            {"exited", offsetof(struct corral_pool_states, exited)},
            {"killed", offsetof(struct corral_pool_states, killed)},
            {"stopped", offsetof(struct corral_pool_states, stopped)},
            {"failed", offsetof(struct corral_pool_states, failed)},
            {"cancelled", offsetof(struct corral_pool_states, cancelled)},
        };
        size_t i;

        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (v->type != MSGPACK_OBJECT_MAP)
                return -1;
        for (i = 0; i < sizeof states / sizeof states[0]; i++) {
                if (corral_obj_uint(corral_map_get(v, states[i].name),
                                    (unsigned *)((char *)out + states[i].off)) == -1)
                        return -1;
        }
        return 0;
}

static int
decode_members(const msgpack_object *v, struct corral_pool *out)
{
        uint32_t i;

        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (v->type != MSGPACK_OBJECT_ARRAY)
                return -1;
        if ((out->members = calloc((size_t)v->via.array.size + 1, sizeof *out->members)) == NULL)
                return -1;
        for (i = 0; i < v->via.array.size; i++) {
                if (v->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                        return -1;
                out->members[i] = v->via.array.ptr[i].via.u64;
        }
        out->nmembers = v->via.array.size;
        return 0;
}

/* A pool record (pool.info's result) into *out. 0, or -1 if malformed. */
static int
pool_decode(const msgpack_object *o, struct corral_pool *out)
{
        memset(out, 0, sizeof *out);
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP ||
            (out->name = corral_strdup_obj(corral_map_get(o, "name"))) == NULL)
                goto fail;
        if (corral_obj_uint(corral_map_get(o, "size"), &out->size) == -1 ||
            corral_obj_uint(corral_map_get(o, "active"), &out->active) == -1 ||
            corral_obj_uint(corral_map_get(o, "live"), &out->live) == -1 ||
            decode_bool(corral_map_get(o, "closed"), &out->closed) == -1 ||
            decode_bool(corral_map_get(o, "rolling"), &out->rolling) == -1 ||
            decode_replicas(corral_map_get(o, "replicas"), out) == -1 ||
            decode_states(corral_map_get(o, "states"), &out->states) == -1 ||
            decode_members(corral_map_get(o, "members"), out) == -1 ||
            decode_consume(corral_map_get(o, "consume"), out) == -1 ||
            decode_output(o, out) == -1 || corral_policy_decode(o, &out->defaults) == -1)
                goto fail;
        return 0;
fail:
        corral_pool_clear(out);
        return -1;
}

/* Call a method whose result is a pool record. */
static int
call_pool(struct corral *c, const char *method, struct corral_params *p, double extra,
          struct corral_pool *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_pool tmp;
        int rc = 0;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (corral_call_params(c, method, p, extra, &res, err) == -1)
                return -1;
        if (pool_decode(&res.obj, &tmp) == -1)
                rc = corral_bad_result(err, method);
        else if (out != NULL)
                *out = tmp;
        else
                corral_pool_clear(&tmp);
        corral_result_free(&res);
        return rc;
}

/* The methods that take only the pool's name. */
static int
call_pool_name(struct corral *c, const char *method, const char *name, double extra,
               struct corral_pool *out, struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        corral_params_init(&p, 1);
        proto_pack_kv_str(&p.pk, "name", name);
        return call_pool(c, method, &p, extra, out, err);
}

static int
pool_create_check(const struct corral_pool_opts *o, uint32_t *nkeys, struct corral_error *err)
{
        uint32_t npolicy = 0;

        if (o == NULL || o->name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        if (corral_policy_nkeys(&o->policy, &npolicy, err) == -1)
                return -1;
        if (o->replicas != NULL) {
                if (corral_strv_len(o->replicas->argv) == 0)
                        return corral_bad_param(err, "argv", "replicas: argv must not be empty");
                if (corral_check_env(o->replicas->env, err) == -1)
                        return -1;
        }
        if (o->consume != NULL) {
                if (o->replicas != NULL)
                        return corral_bad_param(err, "consume",
                                                "a pool has replicas or consumes a queue, "
                                                "not both");
                if (o->consume->queue == NULL)
                        return corral_bad_param(err, "consume.queue", "consume: queue is NULL");
                if (corral_strv_len(o->consume->argv) == 0)
                        return corral_bad_param(err, "consume.argv",
                                                "consume: argv must not be empty");
                if (corral_check_env(o->consume->env, err) == -1)
                        return -1;
        }
        *nkeys = 1 + (o->size > 0) + (o->replicas != NULL) + (o->consume != NULL) + npolicy +
                 corral_output_nkeys(&o->output);
        return 0;
}

int
corral_pool_create(struct corral *c, const struct corral_pool_opts *o, struct corral_pool *out,
                   struct corral_error *err)
{
        const struct corral_replicas *r;
        struct corral_params p;
        uint32_t nkeys = 0;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (pool_create_check(o, &nkeys, err) == -1)
                return -1;
        corral_params_init(&p, nkeys);
        proto_pack_kv_str(&p.pk, "name", o->name);
        if (o->size > 0)
                proto_pack_kv_uint(&p.pk, "size", o->size);
        if ((r = o->replicas) != NULL) {
                proto_pack_str(&p.pk, "replicas");
                msgpack_pack_map(&p.pk, 2 + (r->env != NULL) + (r->cwd != NULL));
                corral_pack_strv(&p.pk, "argv", r->argv);
                if (r->env != NULL)
                        corral_pack_env(&p.pk, "env", r->env);
                if (r->cwd != NULL)
                        proto_pack_kv_str(&p.pk, "cwd", r->cwd);
                proto_pack_kv_uint(&p.pk, "count", r->count);
        }
        if (o->consume != NULL) {
                const struct corral_consume *q = o->consume;

                proto_pack_str(&p.pk, "consume");
                msgpack_pack_map(&p.pk, 2 + (q->env != NULL) + (q->cwd != NULL));
                proto_pack_kv_str(&p.pk, "queue", q->queue);
                corral_pack_strv(&p.pk, "argv", q->argv);
                if (q->env != NULL)
                        corral_pack_env(&p.pk, "env", q->env);
                if (q->cwd != NULL)
                        proto_pack_kv_str(&p.pk, "cwd", q->cwd);
        }
        corral_pack_policy(&p.pk, &o->policy);
        corral_pack_output(&p.pk, &o->output);
        return call_pool(c, PROTO_M_POOL_CREATE, &p, 0, out, err);
}

int
corral_pool_info(struct corral *c, const char *name, struct corral_pool *out,
                 struct corral_error *err)
{
        return call_pool_name(c, PROTO_M_POOL_INFO, name, 0, out, err);
}

int
corral_pool_list(struct corral *c, struct corral_pool **out, size_t *n, struct corral_error *err)
{
        struct corral_result res;
        struct corral_pool *v = NULL;
        const msgpack_object *a;
        size_t i = 0;

        if (out != NULL)
                *out = NULL;
        if (n != NULL)
                *n = 0;
        if (corral_call_params(c, PROTO_M_POOL_LIST, NULL, 0, &res, err) == -1)
                return -1;
        if ((a = corral_map_get(&res.obj, "pools")) == NULL || a->type != MSGPACK_OBJECT_ARRAY)
                goto fail;
        if ((v = calloc((size_t)a->via.array.size + 1, sizeof *v)) == NULL)
                goto fail;
        for (i = 0; i < a->via.array.size; i++) {
                if (pool_decode(&a->via.array.ptr[i], &v[i]) == -1)
                        goto fail;
        }
        corral_result_free(&res);
        if (out != NULL && n != NULL) {
                *out = v;
                *n = i;
        } else
                corral_pool_list_free(v, i);
        return 0;
fail:
        corral_pool_list_free(v, i);
        corral_result_free(&res);
        return corral_bad_result(err, PROTO_M_POOL_LIST);
}

int
corral_pool_scale(struct corral *c, const char *name, unsigned count, struct corral_pool *out,
                  struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        corral_params_init(&p, 2);
        proto_pack_kv_str(&p.pk, "name", name);
        proto_pack_kv_uint(&p.pk, "count", count);
        return call_pool(c, PROTO_M_POOL_SCALE, &p, 0, out, err);
}

int
corral_pool_restart(struct corral *c, const char *name, struct corral_pool *out,
                    struct corral_error *err)
{
        return call_pool_name(c, PROTO_M_POOL_RESTART, name, -1, out, err);
}

int
corral_pool_close(struct corral *c, const char *name, struct corral_pool *out,
                  struct corral_error *err)
{
        return call_pool_name(c, PROTO_M_POOL_CLOSE, name, 0, out, err);
}

int
corral_pool_join(struct corral *c, const char *name, double timeout, struct corral_pool *out,
                 struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        corral_params_init(&p, timeout >= 0 ? 2 : 1);
        proto_pack_kv_str(&p.pk, "name", name);
        if (timeout >= 0)
                proto_pack_kv_double(&p.pk, "timeout", timeout);
        /* The daemon answers after up to timeout: wait that long on top. */
        return call_pool(c, PROTO_M_POOL_JOIN, &p, timeout >= 0 ? timeout : -1, out, err);
}

int
corral_pool_terminate(struct corral *c, const char *name, bool wait, struct corral_pool *out,
                      struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        corral_params_init(&p, wait ? 2 : 1);
        proto_pack_kv_str(&p.pk, "name", name);
        if (wait)
                proto_pack_kv_bool(&p.pk, "wait", true);
        return call_pool(c, PROTO_M_POOL_TERMINATE, &p, wait ? -1 : 0, out, err);
}

int
corral_pool_delete(struct corral *c, const char *name, struct corral_error *err)
{
        struct corral_params p;

        if (name == NULL)
                return corral_bad_param(err, "name", "the pool's name is required");
        corral_params_init(&p, 1);
        proto_pack_kv_str(&p.pk, "name", name);
        return corral_call_empty(c, PROTO_M_POOL_DELETE, &p, -1, err);
}
