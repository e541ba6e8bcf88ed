/* method-queue-purge.c -- queue.purge: drop ready and delayed messages (reserved ones stay). */
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_purge_run(struct request *req, const void *params)
{
        const struct proto_p_queue *qp = params;
        struct queue *q = queue_find_req(req->daemon->queues, qp->name, "name", req);
        msgpack_packer *pk;
        uint64_t n;

        if (q == NULL)
                return METHOD_DONE;
        n = queue_purge(q);
        pk = request_result(req);
        msgpack_pack_map(pk, 1);
        proto_pack_kv_uint(pk, "purged", n);
        request_done(req);
        return METHOD_DONE;
}

const struct method method_queue_purge = {
    .name = PROTO_M_QUEUE_PURGE,
    .params = &proto_spec_queue_purge,
    .access = METHOD_CONTROL,
    .scope = access_scope_queue,
    .run = queue_purge_run,
};
