/*
 * libcorral-codec.c -- what the typed calls share: packing a params map
 * (targets, argv, env, a restart policy) and decoding the values of a
 * result (ints, times, strings, vectors, a policy). Decoding is strict
 * about types but ignores keys it does not know, so that a newer daemon
 * can add fields.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "libcorral-private.h"

char *
corral_strdup_obj(const msgpack_object *o)
{
        char *s;

        if (o == NULL || o->type != MSGPACK_OBJECT_STR)
                return NULL;
        if ((s = malloc(o->via.str.size + 1)) == NULL)
                return NULL;
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
        return s;
}

const msgpack_object *
corral_map_get(const msgpack_object *map, const char *key)
{
        const msgpack_object_kv *kv;
        size_t len = strlen(key);
        uint32_t i;

        if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
                return NULL;
        for (i = 0; i < map->via.map.size; i++) {
                kv = &map->via.map.ptr[i];
                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == len &&
                    memcmp(kv->key.via.str.ptr, key, len) == 0)
                        return &kv->val;
        }
        return NULL;
}

void
corral_params_init(struct corral_params *p, uint32_t nkeys)
{
        msgpack_sbuffer_init(&p->sb);
        msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
        msgpack_pack_map(&p->pk, nkeys);
}

void
corral_params_free(struct corral_params *p)
{
        msgpack_sbuffer_destroy(&p->sb);
}

int
corral_call_params(struct corral *c, const char *method, struct corral_params *p, double extra,
                   struct corral_result *res, struct corral_error *err)
{
        int rc;

        if (p != NULL && p->sb.data == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "%s", strerror(ENOMEM));
                corral_params_free(p);
                return -1;
        }
        rc = corral_call_extra(c, method, p != NULL ? p->sb.data : NULL, p != NULL ? p->sb.size : 0,
                               extra, res, err);
        if (p != NULL)
                corral_params_free(p);
        return rc;
}

int
corral_call_empty(struct corral *c, const char *method, struct corral_params *p, double extra,
                  struct corral_error *err)
{
        struct corral_result res;
        int rc = 0;

        if (corral_call_params(c, method, p, extra, &res, err) == -1)
                return -1;
        if (res.obj.type != MSGPACK_OBJECT_MAP)
                rc = corral_bad_result(err, method);
        corral_result_free(&res);
        return rc;
}

int
corral_bad_result(struct corral_error *err, const char *method)
{
        corral_error_set(err, CORRAL_E_PROTOCOL, NULL, "unexpected result from %s", method);
        return -1;
}

int
corral_bad_param(struct corral_error *err, const char *field, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        corral_error_set(err, "invalid_params", field, "%s", msg);
        return -1;
}

void
corral_pack_target(msgpack_packer *pk, struct corral_target t)
{
        if (t.name != NULL)
                proto_pack_kv_str(pk, "name", t.name);
        else
                proto_pack_kv_uint(pk, "id", t.id);
}

size_t
corral_strv_len(const char *const *v)
{
        size_t n = 0;

        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

void
corral_pack_strv(msgpack_packer *pk, const char *key, const char *const *v)
{
        size_t n = corral_strv_len(v), i;

        proto_pack_str(pk, key);
        msgpack_pack_array(pk, n);
        for (i = 0; i < n; i++)
                proto_pack_str(pk, v[i]);
}

int
corral_check_env(const char *const *env, struct corral_error *err)
{
        const char *eq;
        size_t i;

        for (i = 0; env != NULL && env[i] != NULL; i++) {
                if ((eq = strchr(env[i], '=')) == NULL || eq == env[i])
                        return corral_bad_param(err, "env", "env entry \"%.64s\" is not KEY=VALUE",
                                                env[i]);
        }
        return 0;
}

/* env as a map (checked by corral_check_env() first). */
void
corral_pack_env(msgpack_packer *pk, const char *key, const char *const *env)
{
        size_t n = corral_strv_len(env), i;
        const char *eq;

        proto_pack_str(pk, key);
        msgpack_pack_map(pk, n);
        for (i = 0; i < n; i++) {
                eq = strchr(env[i], '=');
                proto_pack_strn(pk, env[i], (size_t)(eq - env[i]));
                proto_pack_str(pk, eq + 1);
        }
}

static const char *const restart_names[] = {NULL, "no", "on-failure", "always"};
static const char *const ready_names[] = {NULL, "spawned", "uptime", "notify"};
#define NNAMES(a) (sizeof(a) / sizeof((a)[0]))

const char *
corral_restart_name(enum corral_restart r)
{
        return (unsigned)r < NNAMES(restart_names) ? restart_names[r] : NULL;
}

int
corral_restart_parse(const char *s, enum corral_restart *out)
{
        size_t i;

        for (i = 1; s != NULL && i < NNAMES(restart_names); i++) {
                if (strcmp(s, restart_names[i]) == 0) {
                        *out = (enum corral_restart)i;
                        return 0;
                }
        }
        return -1;
}

const char *
corral_ready_name(enum corral_ready r)
{
        return (unsigned)r < NNAMES(ready_names) ? ready_names[r] : NULL;
}

int
corral_ready_parse(const char *s, enum corral_ready *out)
{
        size_t i;

        for (i = 1; s != NULL && i < NNAMES(ready_names); i++) {
                if (strcmp(s, ready_names[i]) == 0) {
                        *out = (enum corral_ready)i;
                        return 0;
                }
        }
        return -1;
}

int
corral_policy_nkeys(const struct corral_policy *p, uint32_t *nkeys, struct corral_error *err)
{
        if (p->restart != CORRAL_RESTART_DEFAULT && corral_restart_name(p->restart) == NULL)
                return corral_bad_param(err, "restart", "unknown restart policy %d",
                                        (int)p->restart);
        if (p->ready != CORRAL_READY_DEFAULT && corral_ready_name(p->ready) == NULL)
                return corral_bad_param(err, "ready", "unknown readiness %d", (int)p->ready);
        if (p->has_success_codes && p->nsuccess_codes > 0 && p->success_codes == NULL)
                return corral_bad_param(err, "success_codes", "success_codes is NULL");
        if (p->stop_signal < 0)
                return corral_bad_param(err, "stop_signal", "invalid signal %d", p->stop_signal);
        *nkeys = (p->restart != CORRAL_RESTART_DEFAULT) + p->has_success_codes +
                 p->has_restart_delay + p->has_restart_delay_max + p->has_min_uptime +
                 p->has_start_limit_burst + p->has_start_limit_interval +
                 p->has_failed_retry_after + (p->ready != CORRAL_READY_DEFAULT) +
                 p->has_ready_timeout + (p->stop_signal != 0) + p->has_grace;
        return 0;
}

void
corral_pack_policy(msgpack_packer *pk, const struct corral_policy *p)
{
        size_t i;

        if (p->restart != CORRAL_RESTART_DEFAULT)
                proto_pack_kv_str(pk, "restart", corral_restart_name(p->restart));
        if (p->has_success_codes) {
                proto_pack_str(pk, "success_codes");
                msgpack_pack_array(pk, p->nsuccess_codes);
                for (i = 0; i < p->nsuccess_codes; i++)
                        msgpack_pack_int(pk, p->success_codes[i]);
        }
        if (p->has_restart_delay)
                proto_pack_kv_double(pk, "restart_delay", p->restart_delay);
        if (p->has_restart_delay_max)
                proto_pack_kv_double(pk, "restart_delay_max", p->restart_delay_max);
        if (p->has_min_uptime)
                proto_pack_kv_double(pk, "min_uptime", p->min_uptime);
        if (p->has_start_limit_burst)
                proto_pack_kv_uint(pk, "start_limit_burst", p->start_limit_burst);
        if (p->has_start_limit_interval)
                proto_pack_kv_double(pk, "start_limit_interval", p->start_limit_interval);
        if (p->has_failed_retry_after)
                proto_pack_kv_double(pk, "failed_retry_after", p->failed_retry_after);
        if (p->ready != CORRAL_READY_DEFAULT)
                proto_pack_kv_str(pk, "ready", corral_ready_name(p->ready));
        if (p->has_ready_timeout)
                proto_pack_kv_double(pk, "ready_timeout", p->ready_timeout);
        if (p->stop_signal != 0)
                proto_pack_kv_int(pk, "stop_signal", p->stop_signal);
        if (p->has_grace)
                proto_pack_kv_double(pk, "grace", p->grace);
}

/* A seconds field of a policy map: sets *has when present. */
static int
policy_seconds(const msgpack_object *map, const char *key, double *out, bool *has)
{
        const msgpack_object *v = corral_map_get(map, key);

        if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
                return 0;
        *has = true;
        return corral_obj_seconds(v, out);
}

int
corral_policy_decode(const msgpack_object *map, struct corral_policy *out)
{
        const msgpack_object *v;
        char name[32];
        int *codes;
        uint32_t i;

        memset(out, 0, sizeof *out);
        /* A name this library does not know stays DEFAULT rather than failing. */
        if ((v = corral_map_get(map, "restart")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (corral_obj_strcut(v, name, sizeof name) == -1)
                        return -1;
                (void)corral_restart_parse(name, &out->restart);
        }
        if ((v = corral_map_get(map, "ready")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (corral_obj_strcut(v, name, sizeof name) == -1)
                        return -1;
                (void)corral_ready_parse(name, &out->ready);
        }
        if ((v = corral_map_get(map, "success_codes")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_ARRAY)
                        return -1;
                if ((codes = calloc((size_t)v->via.array.size + 1, sizeof *codes)) == NULL)
                        return -1;
                for (i = 0; i < v->via.array.size; i++) {
                        if (!corral_obj_is_int(&v->via.array.ptr[i])) {
                                free(codes);
                                return -1;
                        }
                        codes[i] = (int)corral_obj_int(&v->via.array.ptr[i]);
                }
                out->success_codes = codes;
                out->nsuccess_codes = v->via.array.size;
                out->has_success_codes = true;
        }
        if ((v = corral_map_get(map, "start_limit_burst")) != NULL &&
            v->type != MSGPACK_OBJECT_NIL) {
                if (corral_obj_uint(v, &out->start_limit_burst) == -1)
                        goto fail;
                out->has_start_limit_burst = true;
        }
        if ((v = corral_map_get(map, "stop_signal")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
            (out->stop_signal = corral_obj_signal(v)) == -1)
                goto fail;
        if (policy_seconds(map, "restart_delay", &out->restart_delay, &out->has_restart_delay) ||
            policy_seconds(map, "restart_delay_max", &out->restart_delay_max,
                           &out->has_restart_delay_max) ||
            policy_seconds(map, "min_uptime", &out->min_uptime, &out->has_min_uptime) ||
            policy_seconds(map, "start_limit_interval", &out->start_limit_interval,
                           &out->has_start_limit_interval) ||
            policy_seconds(map, "failed_retry_after", &out->failed_retry_after,
                           &out->has_failed_retry_after) ||
            policy_seconds(map, "ready_timeout", &out->ready_timeout, &out->has_ready_timeout) ||
            policy_seconds(map, "grace", &out->grace, &out->has_grace))
                goto fail;
        return 0;
fail:
        free((void *)out->success_codes);
        memset(out, 0, sizeof *out);
        return -1;
}

uint32_t
corral_output_nkeys(const struct corral_output *o)
{
        return (o->stdout_to != NULL) + (o->stderr_to != NULL) + o->has_log_buffer +
               o->has_log_max_bytes + o->has_log_backups;
}

void
corral_pack_output(msgpack_packer *pk, const struct corral_output *o)
{
        if (o->stdout_to != NULL)
                proto_pack_kv_str(pk, "stdout", o->stdout_to);
        if (o->stderr_to != NULL)
                proto_pack_kv_str(pk, "stderr", o->stderr_to);
        if (o->has_log_buffer)
                proto_pack_kv_uint(pk, "log_buffer", o->log_buffer);
        if (o->has_log_max_bytes)
                proto_pack_kv_uint(pk, "log_max_bytes", o->log_max_bytes);
        if (o->has_log_backups)
                proto_pack_kv_uint(pk, "log_backups", o->log_backups);
}

bool
corral_obj_is_int(const msgpack_object *o)
{
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
               o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

int64_t
corral_obj_int(const msgpack_object *o)
{
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                return o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)o->via.u64;
        return o->via.i64;
}

int
corral_obj_seconds(const msgpack_object *o, double *out)
{
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                *out = 0;
        else if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
                *out = o->via.f64;
        else if (corral_obj_is_int(o))
                *out = (double)corral_obj_int(o);
        else
                return -1;
        return 0;
}

int
corral_obj_uint(const msgpack_object *o, unsigned *out)
{
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                *out = 0;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= UINT32_MAX)
                *out = (unsigned)o->via.u64;
        else
                return -1;
        return 0;
}

char **
corral_obj_strv(const msgpack_object *o)
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

void
corral_strv_free(char **v)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; v[i] != NULL; i++)
                free(v[i]);
        free(v);
}

int
corral_obj_strbuf(const msgpack_object *o, char *buf, size_t len)
{
        if (o == NULL || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
            memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
                return -1;
        memcpy(buf, o->via.str.ptr, o->via.str.size);
        buf[o->via.str.size] = '\0';
        return 0;
}

int
corral_obj_strcut(const msgpack_object *o, char *buf, size_t len)
{
        size_t n;

        if (o == NULL || o->type != MSGPACK_OBJECT_STR)
                return -1;
        n = o->via.str.size < len ? o->via.str.size : len - 1;
        memcpy(buf, o->via.str.ptr, n);
        buf[n] = '\0';
        return 0;
}

int
corral_obj_signal(const msgpack_object *o)
{
        char name[32];
        int sig;

        if (o == NULL)
                return -1;
        if (corral_obj_is_int(o))
                sig =
                    corral_obj_int(o) > 0 && corral_obj_int(o) < 1024 ? (int)corral_obj_int(o) : -1;
        else if (corral_obj_strbuf(o, name, sizeof name) == 0)
                sig = proto_signal_from_name(name);
        else
                return -1;
        return sig > 0 ? sig : -1;
}

int
corral_obj_optstr(const msgpack_object *o, char **out)
{
        *out = NULL;
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (o->type != MSGPACK_OBJECT_STR || (*out = corral_strdup_obj(o)) == NULL)
                return -1;
        return 0;
}

int
corral_obj_u64(const msgpack_object *o, uint64_t *out)
{
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                *out = 0;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                *out = o->via.u64;
        else
                return -1;
        return 0;
}

int
corral_obj_bool(const msgpack_object *o, bool *out)
{
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
                return -1;
        *out = o->via.boolean;
        return 0;
}

int
corral_obj_bytes(const msgpack_object *o, char **out, size_t *len)
{
        const char *p;
        size_t n;

        *out = NULL;
        *len = 0;
        if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (o->type == MSGPACK_OBJECT_BIN) {
                p = o->via.bin.ptr;
                n = o->via.bin.size;
        } else if (o->type == MSGPACK_OBJECT_STR) {
                p = o->via.str.ptr;
                n = o->via.str.size;
        } else
                return -1;
        if (n == 0)
                return 0;
        if ((*out = malloc(n + 1)) == NULL)
                return -1;
        memcpy(*out, p, n);
        (*out)[n] = '\0';
        *len = n;
        return 0;
}
