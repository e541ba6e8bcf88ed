/* method-queue-list.c -- queue.list: every queue, as queue.info describes it. */
#include "access.h"
#include "corrald.h"
#include "method.h"
#include "queue.h"
#include "request.h"

static enum method_result
queue_list_run(struct request *req, const void *params)
{
        struct queue_table *qt = req->daemon->queues;
        msgpack_packer *pk = request_result(req);
        struct queue *q;
        uint32_t n = 0;

        /* A client limited to some queues sees only those. */
        TAILQ_FOREACH(q, queue_table_list(qt), entry)
        n += access_sees_queue(req->conn, q->name);
        msgpack_pack_map(pk, 1);
        proto_pack_str(pk, "queues");
        msgpack_pack_array(pk, n);
        TAILQ_FOREACH(q, queue_table_list(qt), entry)
        {
                if (access_sees_queue(req->conn, q->name))
                        queue_pack_info(q, pk);
        }
        request_done(req);
        return METHOD_DONE;
}

const struct method method_queue_list = {
    .name = PROTO_M_QUEUE_LIST,
    .params = &proto_spec_queue_list,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = queue_list_run,
};
