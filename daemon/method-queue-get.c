/* method-queue-get.c -- queue.get: take (or, with ack, reserve) the next message; waits. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_get_run(struct request *req, const void *params)
{
        const struct proto_p_queue_get *gp = params;
        struct queue *q = queue_find_req(req->daemon->queues, gp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        return queue_get(q, req, gp);
}

const struct method method_queue_get = {
    .name = PROTO_M_QUEUE_GET,
    .params = &proto_spec_queue_get,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_get_run,
};
