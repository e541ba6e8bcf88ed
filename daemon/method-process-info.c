/* method-process-info.c -- process.info: one process's record. */
#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static enum method_result
info_run(struct request *req, const void *params)
{
        const struct proto_p_info *ip = params;
        struct process *p = process_find_target(req->daemon->processes, &ip->t, req);

        if (p == NULL)
                return METHOD_DONE;
        process_pack(p, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_process_info = {
    .name = PROTO_M_PROCESS_INFO,
    .params = &proto_spec_process_info,
    .access = METHOD_READ,
    .scope = access_scope_target,
    .flags = METHOD_STOPPING_OK,
    .run = info_run,
};
