/* method-queue-put.c -- queue.put: add a message; waits for room when the queue is full. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_put_run(struct request *req, const void *params)
{
        const struct proto_p_queue_put *pp = params;
        struct queue *q = queue_find_req(req->daemon->queues, pp->queue, "queue", req);

        if (q == NULL)
                return METHOD_DONE;
        return queue_put(q, req, pp);
}

const struct method method_queue_put = {
    .name = PROTO_M_QUEUE_PUT,
    .params = &proto_spec_queue_put,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .run = queue_put_run,
};
