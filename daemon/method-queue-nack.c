/* method-queue-nack.c -- queue.nack: a reserved message goes back to the queue (after delay). */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_nack_run(struct request *req, const void *params)
{
        const struct proto_p_queue_msg *mp = params;
        struct queue *q = queue_find_req(req->daemon->queues, mp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_nack(q, req, mp->msg_id, mp->delay);
        return METHOD_DONE;
}

const struct method method_queue_nack = {
    .name = PROTO_M_QUEUE_NACK,
    .params = &proto_spec_queue_nack,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_nack_run,
};
