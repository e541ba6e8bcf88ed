/* method-queue-info.c -- queue.info: settings, counts by state, totals. */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_info_run(struct request *req, const void *params)
{
        const struct proto_p_queue *qp = params;
        struct queue *q = queue_find_req(req->daemon->queues, qp->name, "name", req);

        if (q == NULL)
                return METHOD_DONE;
        queue_pack_info(q, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_queue_info = {
    .name = PROTO_M_QUEUE_INFO,
    .params = &proto_spec_queue_info,
    .access = METHOD_READ,
    .scope = access_scope_queue,
    .flags = METHOD_STOPPING_OK,
    .run = queue_info_run,
};
