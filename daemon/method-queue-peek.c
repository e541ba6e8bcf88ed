/* method-queue-peek.c -- queue.peek: the next ready message, without taking it. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_peek_run(struct request *req, const void *params)
{
        const struct proto_p_queue_msg *mp = params;
        struct queue *q = queue_find_req(req->daemon->queues, mp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_peek(q, req);
        return METHOD_DONE;
}

const struct method method_queue_peek = {
    .name = PROTO_M_QUEUE_PEEK,
    .params = &proto_spec_queue_peek,
    .access = METHOD_READ,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_peek_run,
};
