/* method-queue-ack.c -- queue.ack: a reserved message is done: remove it (durably, before the
 * answer). */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_ack_run(struct request *req, const void *params)
{
        const struct proto_p_queue_msg *mp = params;
        struct queue *q = queue_find_req(req->daemon->queues, mp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_ack(q, req, mp->msg_id);
        return METHOD_DONE;
}

const struct method method_queue_ack = {
    .name = PROTO_M_QUEUE_ACK,
    .params = &proto_spec_queue_ack,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_ack_run,
};
