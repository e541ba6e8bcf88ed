/* method-queue-create.c -- queue.create: a named queue, in memory or durable. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_create_run(struct request *req, const void *params)
{
        struct proto_error err;
        struct queue *q = queue_create(req->daemon->queues, params, &err);

        if (q == NULL) {
                request_error_proto(req, &err);
                return METHOD_DONE;
        }
        queue_pack_info(q, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_queue_create = {
    .name = PROTO_M_QUEUE_CREATE,
    .params = &proto_spec_queue_create,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue_create,
    .run = queue_create_run,
};
