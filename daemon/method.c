/*
 * method.c -- the method table and dispatch: find the method, refuse what
 * the daemon's state forbids, decode and validate the parameters into
 * their typed struct, then run the handler. Validation happens once,
 * here, before any handler sees a request.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "method.h"
#include "request.h"

/* Sorted by name for bsearch (checked at start-up by method_table_check). */
static const struct method *const method_table[] = {
    &method_daemon_hello,       &method_daemon_ping,     &method_daemon_reload,
    &method_daemon_reopen_logs, &method_daemon_shutdown, &method_daemon_stats,
    &method_events_subscribe,   &method_pool_close,      &method_pool_create,
    &method_pool_delete,        &method_pool_info,       &method_pool_join,
    &method_pool_list,          &method_pool_restart,    &method_pool_scale,
    &method_pool_terminate,     &method_process_info,    &method_process_join,
    &method_process_list,       &method_process_logs,    &method_process_restart,
    &method_process_signal,     &method_process_spawn,   &method_process_start,
    &method_process_terminate,  &method_queue_ack,       &method_queue_create,
    &method_queue_delete,       &method_queue_get,       &method_queue_info,
    &method_queue_list,         &method_queue_nack,      &method_queue_peek,
    &method_queue_purge,        &method_queue_put,       &method_queue_touch,
};
#define METHOD_COUNT (sizeof method_table / sizeof method_table[0])

static int
method_cmp(const void *key, const void *elem)
{
        const struct method *const *m = elem;

        return strcmp(key, (*m)->name);
}

static const struct method *
method_find(const char *name)
{
        const struct method *const *m =
            bsearch(name, method_table, METHOD_COUNT, sizeof method_table[0], method_cmp);

        return m != NULL ? *m : NULL;
}

void
method_table_check(void)
{
        size_t i;

        for (i = 1; i < METHOD_COUNT; i++) {
                if (strcmp(method_table[i - 1]->name, method_table[i]->name) >= 0)
                        fatalx("method table out of order at %s", method_table[i]->name);
        }
}

void
method_names(const char *const **names, unsigned *n)
{
        static const char *list[METHOD_COUNT];
        size_t i;

        for (i = 0; i < METHOD_COUNT; i++)
                list[i] = method_table[i]->name;
        *names = list;
        *n = METHOD_COUNT;
}

void
method_dispatch(struct corrald *d, struct conn *c, struct proto_msg *msg)
{
        const struct method *m;
        struct request *req;
        struct proto_error err;

        if (msg->type == PROTO_NOTIFICATION) {
                log_debug("conn %llu: ignoring notification '%s'", (unsigned long long)conn_id(c),
                          msg->method);
                return;
        }
        if (msg->type == PROTO_RESPONSE) {
                struct proto_error perr;

                /* The daemon sends no requests: a response means a confused peer. */
                proto_error_set(&perr, PROTO_E_INVALID_REQUEST, NULL,
                                "clients send requests, not responses");
                conn_fail(c, msg, &perr);
                return;
        }
        m = method_find(msg->method);
        req = request_new(d, c, msg->msgid, m);
        if (m == NULL) {
                request_error(req, PROTO_E_UNKNOWN_METHOD, NULL, "unknown method '%s'",
                              msg->method);
                return;
        }
        if (d->stopping && !(m->flags & METHOD_STOPPING_OK)) {
                request_error(req, PROTO_E_SHUTTING_DOWN, NULL,
                              "corrald is shutting down; %s is refused", m->name);
                return;
        }
        req->arena = proto_arena_new();
        req->params = proto_arena_alloc(req->arena, m->params->size);
        if (proto_params_decode(m->params, msg, req->params, req->arena, &err) != 0 ||
            access_check(d, c, m, req->params, &err) != 0) {
                request_error_proto(req, &err);
                return;
        }
        m->run(req, req->params);
}
