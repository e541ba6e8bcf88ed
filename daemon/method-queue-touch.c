/* method-queue-touch.c -- queue.touch: extend a reservation by the visibility timeout. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_touch_run(struct request *req, const void *params)
{
        const struct proto_p_queue_msg *mp = params;
        struct queue *q = queue_find_req(req->daemon->queues, mp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_touch(q, req, mp->msg_id);
        return METHOD_DONE;
}

const struct method method_queue_touch = {
    .name = PROTO_M_QUEUE_TOUCH,
    .params = &proto_spec_queue_touch,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_touch_run,
};
