/*
 * libcorral-events.c -- events.subscribe and the event stream: taking
 * events off the connection's queue (libcorral.c fills it, also while a
 * call waits for its answer), decoding their common fields, and a loop
 * that hands each to a callback.
 */
#include <string.h>
#include <stdlib.h>

#include "proto.h"
#include "libcorral-private.h"

int
corral_events_subscribe(struct corral *c, const char *const *pools, const char *const *types,
                        struct corral_error *err)
{
        struct corral_params p;

        corral_params_init(&p, (pools != NULL) + (types != NULL));
        if (pools != NULL)
                corral_pack_strv(&p.pk, "pools", pools);
        if (types != NULL)
                corral_pack_strv(&p.pk, "types", types);
        return corral_call_empty(c, PROTO_M_EVENTS_SUBSCRIBE, &p, 0, err);
}

static void
event_init(struct corral_event *ev)
{
        memset(ev, 0, sizeof *ev);
        ev->exit_code = -1;
        ev->raw.obj.type = MSGPACK_OBJECT_NIL;
}

void
corral_event_clear(struct corral_event *ev)
{
        if (ev == NULL)
                return;
        free(ev->name);
        free(ev->pool);
        free(ev->reason);
        corral_result_free(&ev->raw);
        event_init(ev);
}

const msgpack_object *
corral_event_field(const struct corral_event *ev, const char *key)
{
        if (ev == NULL || key == NULL)
                return NULL;
        return corral_map_get(&ev->raw.obj, key);
}

/* The modelled fields of ev->raw.obj; every one but type is optional. */
static int
event_decode(struct corral_event *ev)
{
        const msgpack_object *m = &ev->raw.obj, *v;
        int sig = 0;

        if (corral_obj_strcut(corral_map_get(m, "type"), ev->type, sizeof ev->type) == -1 ||
            corral_obj_seconds(corral_map_get(m, "ts"), &ev->ts) == -1)
                return -1;
        if ((v = corral_map_get(m, "id")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                        return -1;
                ev->id = v->via.u64;
        }
        if (corral_obj_optstr(corral_map_get(m, "name"), &ev->name) == -1 ||
            corral_obj_optstr(corral_map_get(m, "pool"), &ev->pool) == -1 ||
            corral_obj_optstr(corral_map_get(m, "reason"), &ev->reason) == -1)
                return -1;
        if (((v = corral_map_get(m, "from")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
             corral_obj_strcut(v, ev->from, sizeof ev->from) == -1) ||
            ((v = corral_map_get(m, "to")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
             corral_obj_strcut(v, ev->to, sizeof ev->to) == -1))
                return -1;
        if ((v = corral_map_get(m, "pid")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > INT32_MAX)
                        return -1;
                ev->pid = (pid_t)v->via.u64;
        }
        if ((v = corral_map_get(m, "exit_code")) != NULL && v->type != MSGPACK_OBJECT_NIL) {
                if (!corral_obj_is_int(v) || corral_obj_int(v) < 0 || corral_obj_int(v) > 255)
                        return -1;
                ev->exit_code = (int)corral_obj_int(v);
        }
        if ((v = corral_map_get(m, "signal")) != NULL && v->type != MSGPACK_OBJECT_NIL &&
            (sig = corral_obj_signal(v)) == -1)
                return -1;
        ev->signal = sig;
        /* restarts is a count; pool events' "replicas" is not modelled (see raw). */
        if (corral_obj_uint(corral_map_get(m, "restarts"), &ev->restarts) == -1)
                return -1;
        return 0;
}

int
corral_events_next(struct corral *c, struct corral_event *ev, double timeout,
                   struct corral_error *err)
{
        struct corral_error local;
        int r;

        if (err == NULL)
                err = &local;
        memset(err, 0, sizeof *err);
        if (ev == NULL || c == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "no connection or event");
                return -1;
        }
        event_init(ev);
        if ((r = corral_event_wait(c, timeout, &ev->raw, err)) != 1)
                return r;
        if (event_decode(ev) == -1) {
                corral_event_clear(ev);
                corral_error_set(err, CORRAL_E_PROTOCOL, NULL, "malformed event from the daemon");
                return -1;
        }
        return 1;
}

int
corral_events_run(struct corral *c, corral_event_fn fn, void *userdata, struct corral_error *err)
{
        struct corral_error local;
        struct corral_event ev;
        int rc;

        if (err == NULL)
                err = &local;
        if (fn == NULL) {
                corral_error_set(err, CORRAL_E_IO, NULL, "no callback");
                return -1;
        }
        for (;;) {
                if (corral_events_next(c, &ev, -1, err) == -1) {
                        /* A malformed event is skipped; the stream goes on. */
                        if (strcmp(err->code, CORRAL_E_PROTOCOL) == 0 && c != NULL &&
                            !corral_at_eof(c))
                                continue;
                        if (c != NULL && corral_at_eof(c)) {
                                memset(err, 0, sizeof *err);
                                return 0;
                        }
                        return -1;
                }
                rc = fn(&ev, userdata);
                corral_event_clear(&ev);
                if (rc != 0) {
                        memset(err, 0, sizeof *err);
                        return rc;
                }
        }
}
