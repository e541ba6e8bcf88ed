/*
 * libcorral-queue.c -- the queue.* calls: creating, inspecting, purging and
 * deleting queues, and putting, getting, acknowledging and peeking at
 * their messages. A get or put that waits on the server side (an empty or
 * full queue) extends the connection's deadline by its own timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "libcorral-private.h"

static const char *const fsync_names[] = {NULL, "batch", "always", "never"};
#define NFSYNC (sizeof fsync_names / sizeof fsync_names[0])

const char *
corral_fsync_name(enum corral_fsync f)
{
        return (unsigned)f < NFSYNC ? fsync_names[f] : NULL;
}

int
corral_fsync_parse(const char *s, enum corral_fsync *out)
{
        size_t i;

        for (i = 1; s != NULL && i < NFSYNC; i++) {
                if (strcmp(s, fsync_names[i]) == 0) {
                        *out = (enum corral_fsync)i;
                        return 0;
                }
        }
        return -1;
}

void
corral_queue_clear(struct corral_queue_info *q)
{
        if (q == NULL)
                return;
        free(q->name);
        free(q->dead_letter);
        memset(q, 0, sizeof *q);
}

void
corral_queue_list_free(struct corral_queue_info *v, size_t n)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < n; i++)
                corral_queue_clear(&v[i]);
        free(v);
}

void
corral_message_clear(struct corral_message *m)
{
        if (m == NULL)
                return;
        free(m->data);
        memset(m, 0, sizeof *m);
}

/* A queue record into *out: 0, or -1 if malformed. */
static int
queue_decode(const msgpack_object *o, struct corral_queue_info *out)
{
        static const struct {
                const char *key;
                size_t off;
        } counters[] = {
            {"maxsize", offsetof(struct corral_queue_info, maxsize)},
            {"max_bytes", offsetof(struct corral_queue_info, max_bytes)},
            {"count", offsetof(struct corral_queue_info, count)},
            {"ready", offsetof(struct corral_queue_info, ready)},
            {"reserved", offsetof(struct corral_queue_info, reserved)},
            {"delayed", offsetof(struct corral_queue_info, delayed)},
            {"bytes", offsetof(struct corral_queue_info, bytes)},
            {"getters", offsetof(struct corral_queue_info, getters)},
            {"putters", offsetof(struct corral_queue_info, putters)},
            {"total_put", offsetof(struct corral_queue_info, total_put)},
            {"total_got", offsetof(struct corral_queue_info, total_got)},
            {"total_acked", offsetof(struct corral_queue_info, total_acked)},
            {"total_expired", offsetof(struct corral_queue_info, total_expired)},
            {"total_dead_lettered", offsetof(struct corral_queue_info, total_dead_lettered)},
            {"log_bytes", offsetof(struct corral_queue_info, log_bytes)},
        };
        const msgpack_object *v;
        size_t i;

        memset(out, 0, sizeof *out);
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP ||
            (out->name = corral_strdup_obj(corral_map_get(o, "name"))) == NULL)
                goto fail;
        for (i = 0; i < sizeof counters / sizeof counters[0]; i++) {
                if (corral_obj_u64(corral_map_get(o, counters[i].key),
                                   (uint64_t *)((char *)out + counters[i].off)) == -1)
                        goto fail;
        }
        if (corral_obj_bool(corral_map_get(o, "durable"), &out->durable) == -1 ||
            corral_obj_seconds(corral_map_get(o, "visibility_timeout"), &out->visibility_timeout) ==
                -1 ||
            corral_obj_uint(corral_map_get(o, "max_attempts"), &out->max_attempts) == -1 ||
            corral_obj_optstr(corral_map_get(o, "dead_letter"), &out->dead_letter) == -1)
                goto fail;
        if ((v = corral_map_get(o, "fsync")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
            corral_obj_strcut(v, out->fsync, sizeof out->fsync) == -1)
                goto fail;
        return 0;
fail:
        corral_queue_clear(out);
        return -1;
}

/* Call a method whose result is a queue record. */
static int
call_queue(struct corral *c, const char *method, struct corral_params *p,
           struct corral_queue_info *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_queue_info tmp;
        int rc = 0;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (corral_call_params(c, method, p, 0, &res, err) == -1)
                return -1;
        if (queue_decode(&res.obj, &tmp) == -1)
                rc = corral_bad_result(err, method);
        else if (out != NULL)
                *out = tmp;
        else
                corral_queue_clear(&tmp);
        corral_result_free(&res);
        return rc;
}

int
corral_queue_create(struct corral *c, const struct corral_queue_opts *o,
                    struct corral_queue_info *out, struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (o == NULL || o->name == NULL)
                return corral_bad_param(err, "name", "the queue's name is required");
        if (o->fsync != CORRAL_FSYNC_DEFAULT && corral_fsync_name(o->fsync) == NULL)
                return corral_bad_param(err, "fsync", "unknown fsync mode %d", (int)o->fsync);
        corral_params_init(&p, 1 + (o->maxsize > 0) + (o->max_bytes > 0) + o->durable +
                                   (o->fsync != CORRAL_FSYNC_DEFAULT) + o->has_visibility_timeout +
                                   (o->max_attempts > 0) + (o->dead_letter != NULL));
        proto_pack_kv_str(&p.pk, "name", o->name);
        if (o->maxsize > 0)
                proto_pack_kv_uint(&p.pk, "maxsize", o->maxsize);
        if (o->max_bytes > 0)
                proto_pack_kv_uint(&p.pk, "max_bytes", o->max_bytes);
        if (o->durable)
                proto_pack_kv_bool(&p.pk, "durable", true);
        if (o->fsync != CORRAL_FSYNC_DEFAULT)
                proto_pack_kv_str(&p.pk, "fsync", corral_fsync_name(o->fsync));
        if (o->has_visibility_timeout)
                proto_pack_kv_double(&p.pk, "visibility_timeout", o->visibility_timeout);
        if (o->max_attempts > 0)
                proto_pack_kv_uint(&p.pk, "max_attempts", o->max_attempts);
        if (o->dead_letter != NULL)
                proto_pack_kv_str(&p.pk, "dead_letter", o->dead_letter);
        return call_queue(c, PROTO_M_QUEUE_CREATE, &p, out, err);
}

/* Params {key: name}, or an invalid_params error if name is NULL. */
static int
name_params(struct corral_params *p, const char *key, const char *name, uint32_t more,
            struct corral_error *err)
{
        if (name == NULL)
                return corral_bad_param(err, key, "the queue's name is required");
        corral_params_init(p, 1 + more);
        proto_pack_kv_str(&p->pk, key, name);
        return 0;
}

int
corral_queue_info(struct corral *c, const char *name, struct corral_queue_info *out,
                  struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name_params(&p, "name", name, 0, err) == -1)
                return -1;
        return call_queue(c, PROTO_M_QUEUE_INFO, &p, out, err);
}

int
corral_queue_list(struct corral *c, struct corral_queue_info **out, size_t *n,
                  struct corral_error *err)
{
        struct corral_result res;
        struct corral_queue_info *v = NULL;
        const msgpack_object *a;
        size_t i = 0;

        if (out != NULL)
                *out = NULL;
        if (n != NULL)
                *n = 0;
        if (corral_call_params(c, PROTO_M_QUEUE_LIST, NULL, 0, &res, err) == -1)
                return -1;
        if ((a = corral_map_get(&res.obj, "queues")) == NULL || a->type != MSGPACK_OBJECT_ARRAY)
                goto fail;
        if ((v = calloc((size_t)a->via.array.size + 1, sizeof *v)) == NULL)
                goto fail;
        for (i = 0; i < a->via.array.size; i++) {
                if (queue_decode(&a->via.array.ptr[i], &v[i]) == -1)
                        goto fail;
        }
        corral_result_free(&res);
        if (out != NULL && n != NULL) {
                *out = v;
                *n = i;
        } else
                corral_queue_list_free(v, i);
        return 0;
fail:
        corral_queue_list_free(v, i);
        corral_result_free(&res);
        return corral_bad_result(err, PROTO_M_QUEUE_LIST);
}

int
corral_queue_purge(struct corral *c, const char *name, uint64_t *purged, struct corral_error *err)
{
        struct corral_result res;
        struct corral_params p;
        uint64_t n = 0;
        int rc = 0;

        if (purged != NULL)
                *purged = 0;
        if (name_params(&p, "name", name, 0, err) == -1)
                return -1;
        if (corral_call_params(c, PROTO_M_QUEUE_PURGE, &p, 0, &res, err) == -1)
                return -1;
        if (res.obj.type != MSGPACK_OBJECT_MAP ||
            corral_obj_u64(corral_map_get(&res.obj, "purged"), &n) == -1)
                rc = corral_bad_result(err, PROTO_M_QUEUE_PURGE);
        else if (purged != NULL)
                *purged = n;
        corral_result_free(&res);
        return rc;
}

int
corral_queue_delete(struct corral *c, const char *name, struct corral_error *err)
{
        struct corral_params p;

        if (name_params(&p, "name", name, 0, err) == -1)
                return -1;
        return corral_call_empty(c, PROTO_M_QUEUE_DELETE, &p, 0, err);
}

int
corral_queue_put(struct corral *c, const char *queue, const void *data, size_t len,
                 const struct corral_put_opts *o, uint64_t *msg_id, struct corral_error *err)
{
        static const struct corral_put_opts def;
        struct corral_result res;
        struct corral_params p;
        uint64_t id = 0;
        int rc = 0;

        if (msg_id != NULL)
                *msg_id = 0;
        if (o == NULL)
                o = &def;
        if (data == NULL && len > 0)
                return corral_bad_param(err, "data", "data is NULL");
        if (name_params(&p, "queue", queue,
                        1 + (o->priority != 0) + (o->delay > 0) + o->has_timeout, err) == -1)
                return -1;
        proto_pack_str(&p.pk, "data");
        msgpack_pack_bin(&p.pk, len);
        msgpack_pack_bin_body(&p.pk, data, len);
        if (o->priority != 0)
                proto_pack_kv_int(&p.pk, "priority", o->priority);
        if (o->delay > 0)
                proto_pack_kv_double(&p.pk, "delay", o->delay);
        if (o->has_timeout)
                proto_pack_kv_double(&p.pk, "timeout", o->timeout);
        /* A full queue makes the daemon wait up to timeout (forever without one). */
        if (corral_call_params(c, PROTO_M_QUEUE_PUT, &p, o->has_timeout ? o->timeout : -1, &res,
                               err) == -1)
                return -1;
        if (corral_obj_u64(corral_map_get(&res.obj, "msg_id"), &id) == -1 || id == 0)
                rc = corral_bad_result(err, PROTO_M_QUEUE_PUT);
        else if (msg_id != NULL)
                *msg_id = id;
        corral_result_free(&res);
        return rc;
}

/* {msg_id, data, attempt, priority} into *out. */
static int
message_decode(const msgpack_object *o, struct corral_message *out)
{
        const msgpack_object *v;

        memset(out, 0, sizeof *out);
        if (o == NULL || o->type != MSGPACK_OBJECT_MAP ||
            corral_obj_u64(corral_map_get(o, "msg_id"), &out->msg_id) == -1 || out->msg_id == 0 ||
            corral_obj_bytes(corral_map_get(o, "data"), &out->data, &out->len) == -1 ||
            corral_obj_uint(corral_map_get(o, "attempt"), &out->attempt) == -1)
                goto fail;
        if ((v = corral_map_get(o, "priority")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (!corral_obj_is_int(v) || corral_obj_int(v) < INT32_MIN ||
                    corral_obj_int(v) > INT32_MAX)
                        goto fail;
                out->priority = (int)corral_obj_int(v);
        }
        return 0;
fail:
        corral_message_clear(out);
        return -1;
}

/* Call a method whose result is a message. */
static int
call_message(struct corral *c, const char *method, struct corral_params *p, double extra,
             struct corral_message *out, struct corral_error *err)
{
        struct corral_result res;
        struct corral_message m;
        int rc = 0;

        if (corral_call_params(c, method, p, extra, &res, err) == -1)
                return -1;
        if (message_decode(&res.obj, &m) == -1)
                rc = corral_bad_result(err, method);
        else if (out != NULL)
                *out = m;
        else
                corral_message_clear(&m);
        corral_result_free(&res);
        return rc;
}

int
corral_queue_get(struct corral *c, const char *queue, double timeout, bool ack,
                 struct corral_message *out, struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name_params(&p, "queue", queue, (timeout >= 0) + ack, err) == -1)
                return -1;
        if (timeout >= 0)
                proto_pack_kv_double(&p.pk, "timeout", timeout);
        if (ack)
                proto_pack_kv_bool(&p.pk, "ack", true);
        /* The daemon answers after up to timeout: wait that long on top. */
        return call_message(c, PROTO_M_QUEUE_GET, &p, timeout >= 0 ? timeout : -1, out, err);
}

int
corral_queue_peek(struct corral *c, const char *queue, struct corral_message *out,
                  struct corral_error *err)
{
        struct corral_params p;

        if (out != NULL)
                memset(out, 0, sizeof *out);
        if (name_params(&p, "queue", queue, 0, err) == -1)
                return -1;
        return call_message(c, PROTO_M_QUEUE_PEEK, &p, 0, out, err);
}

/* Params {queue, msg_id} and more keys to come. */
static int
msg_params(struct corral_params *p, const char *queue, uint64_t msg_id, uint32_t more,
           struct corral_error *err)
{
        if (msg_id == 0)
                return corral_bad_param(err, "msg_id", "msg_id must not be 0");
        if (name_params(p, "queue", queue, 1 + more, err) == -1)
                return -1;
        proto_pack_kv_uint(&p->pk, "msg_id", msg_id);
        return 0;
}

int
corral_queue_ack(struct corral *c, const char *queue, uint64_t msg_id, struct corral_error *err)
{
        struct corral_params p;

        if (msg_params(&p, queue, msg_id, 0, err) == -1)
                return -1;
        return corral_call_empty(c, PROTO_M_QUEUE_ACK, &p, 0, err);
}

int
corral_queue_nack(struct corral *c, const char *queue, uint64_t msg_id, double delay,
                  struct corral_error *err)
{
        struct corral_params p;

        if (msg_params(&p, queue, msg_id, delay > 0, err) == -1)
                return -1;
        if (delay > 0)
                proto_pack_kv_double(&p.pk, "delay", delay);
        return corral_call_empty(c, PROTO_M_QUEUE_NACK, &p, 0, err);
}

int
corral_queue_touch(struct corral *c, const char *queue, uint64_t msg_id, double *visibility_timeout,
                   struct corral_error *err)
{
        struct corral_result res;
        struct corral_params p;
        double vt = 0;
        int rc = 0;

        if (visibility_timeout != NULL)
                *visibility_timeout = 0;
        if (msg_params(&p, queue, msg_id, 0, err) == -1)
                return -1;
        if (corral_call_params(c, PROTO_M_QUEUE_TOUCH, &p, 0, &res, err) == -1)
                return -1;
        if (res.obj.type != MSGPACK_OBJECT_MAP ||
            corral_obj_seconds(corral_map_get(&res.obj, "visibility_timeout"), &vt) == -1)
                rc = corral_bad_result(err, PROTO_M_QUEUE_TOUCH);
        else if (visibility_timeout != NULL)
                *visibility_timeout = vt;
        corral_result_free(&res);
        return rc;
}
