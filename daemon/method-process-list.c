/* method-process-list.c -- process.list: records by id, optionally filtered. */
#include <string.h>

#include "access.h"
#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static bool
list_match(struct request *req, const struct proto_p_list *lp, const struct process *p)
{
        if (lp->pool != NULL && strcmp(lp->pool, p->pool_name) != 0)
                return false;
        if (!access_sees_pool(req->conn, p->pool_name))
                return false;
        return !lp->live || !process_is_final(p);
}

static enum method_result
list_run(struct request *req, const void *params)
{
        const struct proto_p_list *lp = params;
        struct process_list *all = process_table_list(req->daemon->processes);
        msgpack_packer *pk = request_result(req);
        struct process *p;
        uint32_t n = 0;

        TAILQ_FOREACH(p, all, entry)
        {
                if (list_match(req, lp, p))
                        n++;
        }
        msgpack_pack_map(pk, 1);
        proto_pack_str(pk, "processes");
        msgpack_pack_array(pk, n);
        TAILQ_FOREACH(p, all, entry)
        {
                if (list_match(req, lp, p))
                        process_pack(p, pk);
        }
        request_done(req);
        return METHOD_DONE;
}

const struct method method_process_list = {
    .name = PROTO_M_PROCESS_LIST,
    .params = &proto_spec_process_list,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = list_run,
};
