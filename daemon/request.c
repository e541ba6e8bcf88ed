/* request.c -- answering requests, at once or after a wait. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "method.h"
#include "request.h"
#include "xmalloc.h"
#include "timer.h"

struct request *
request_new(struct corrald *d, struct conn *c, uint32_t msgid, const struct method *m)
{
        struct request *req = xcalloc(1, sizeof *req);

        req->daemon = d;
        req->conn = c;
        req->msgid = msgid;
        req->method = m;
        return req;
}

void
request_unpark(struct request *req)
{
        if (req->waitq != NULL) {
                TAILQ_REMOVE(req->waitq, req, wait_entry);
                req->waitq = NULL;
                if (req->conn != NULL)
                        conn_request_unparked(req->conn, req);
        }
        if (req->timer != NULL)
                evtimer_del(req->timer);
}

void
request_hold(struct request *req, struct request_waitq *q)
{
        req->waitq = q;
        TAILQ_INSERT_TAIL(q, req, wait_entry);
        if (req->conn != NULL)
                conn_request_parked(req->conn, req);
}

/* Leave any wait queue, stop the timer, free. */
static void
request_free(struct request *req)
{
        request_unpark(req);
        if (req->timer != NULL)
                event_free(req->timer);
        if (req->arena != NULL)
                proto_arena_free(req->arena);
        free(req);
}

msgpack_packer *
request_result(struct request *req)
{
        struct corrald *d = req->daemon;

        msgpack_sbuffer_clear(&d->out);
        proto_pack_result_head(&d->pk, req->msgid);
        return &d->pk;
}

/* Hand the scratch buffer's bytes to the connection, if it is still there. */
static void
request_send(struct request *req)
{
        struct corrald *d = req->daemon;

        if (req->conn != NULL)
                conn_write(req->conn, d->out.data, d->out.size);
        msgpack_sbuffer_clear(&d->out);
}

void
request_done(struct request *req)
{
        request_send(req);
        request_free(req);
}

void
request_ok(struct request *req)
{
        msgpack_pack_map(request_result(req), 0);
        request_done(req);
}

void
request_error_proto(struct request *req, const struct proto_error *err)
{
        struct corrald *d = req->daemon;

        msgpack_sbuffer_clear(&d->out);
        proto_pack_error_response(&d->pk, true, req->msgid, err);
        log_debug("request %u (%s): %s: %s", req->msgid,
                  req->method != NULL ? req->method->name : "?", proto_err_name(err->code),
                  err->message);
        request_done(req);
}

void
request_error(struct request *req, enum proto_err code, const char *field, const char *fmt, ...)
{
        struct proto_error err;
        char msg[sizeof err.message];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        proto_error_set(&err, code, field, "%s", msg);
        request_error_proto(req, &err);
}

static void
request_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        struct request *req = arg;

        /* Off the queue first: expire answers and frees the request. */
        request_unpark(req);
        req->expire(req);
}

int
request_park(struct request *req, struct request_waitq *q, double timeout, request_wake_fn wake,
             request_expire_fn expire)
{
        struct corrald *d = req->daemon;

        if (conn_parked_count(req->conn) >= d->config.max_waiting) {
                request_error(req, PROTO_E_LIMIT_REACHED, NULL,
                              "too many requests waiting on this connection (limit %u)",
                              d->config.max_waiting);
                return -1;
        }
        req->waitq = q;
        req->wake = wake;
        req->expire = expire;
        TAILQ_INSERT_TAIL(q, req, wait_entry);
        conn_request_parked(req->conn, req);
        if (timeout >= 0) {
                req->timer = evtimer_new(d->base, request_timer_cb, req);
                if (req->timer == NULL || timer_arm(req->timer, timeout) != 0)
                        fatalx("cannot arm a request timer");
        }
        return 0;
}

void
request_waitq_wake(struct request_waitq *q, void *arg)
{
        struct request *req;

        while ((req = TAILQ_FIRST(q)) != NULL) {
                request_unpark(req);
                req->wake(req, arg);
        }
}

void
request_cancel(struct request *req)
{
        req->conn = NULL;
        request_free(req);
}
