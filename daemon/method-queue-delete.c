/*
 * method-queue-delete.c -- queue.delete: remove a queue, its messages and
 * its log; waiting getters and putters get not_found.
 */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_delete_run(struct request *req, const void *params)
{
        const struct proto_p_queue *qp = params;
        struct queue *q = queue_find_req(req->daemon->queues, qp->name, "name", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_delete(q);
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_queue_delete = {
    .name = PROTO_M_QUEUE_DELETE,
    .params = &proto_spec_queue_delete,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .run = queue_delete_run,
};
