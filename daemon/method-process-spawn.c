/* method-process-spawn.c -- process.spawn: start a child, answer its record. */
#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static enum method_result
spawn_run(struct request *req, const void *params)
{
        const struct proto_p_spawn *sp = params;
        struct proto_error err;
        struct process *p = process_spawn(req->daemon->processes, sp, &err);

        if (p == NULL) {
                request_error_proto(req, &err);
                return METHOD_DONE;
        }
        process_pack(p, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_process_spawn = {
    .name = PROTO_M_PROCESS_SPAWN,
    .params = &proto_spec_process_spawn,
    .run = spawn_run,
};
