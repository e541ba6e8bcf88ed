/*
 * method-events-subscribe.c -- events.subscribe: from now on the connection
 * receives event notifications (filtered by pools and types). It may still
 * make requests.
 */
#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static enum method_result
subscribe_run(struct request *req, const void *params)
{
        const struct proto_p_subscribe *sp = params;
        size_t i;

        for (i = 0; i < sp->ntypes; i++) {
                if (!events_type_valid(sp->types[i])) {
                        request_error(req, PROTO_E_INVALID_PARAMS, "types",
                                      "unknown event type '%s'", sp->types[i]);
                        return METHOD_DONE;
                }
        }
        if (req->conn == NULL) {
                request_ok(req);
                return METHOD_DONE;
        }
        events_subscribe(req->daemon->events, req->conn, sp->npools ? sp->pools : NULL,
                         sp->ntypes ? sp->types : NULL);
        /* The answer goes out before the first event. */
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_events_subscribe = {
    .name = PROTO_M_EVENTS_SUBSCRIBE,
    .params = &proto_spec_events_subscribe,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = subscribe_run,
};
