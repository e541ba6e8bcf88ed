/*
 * method-process-start.c -- process.start: start an ended or failed record
 * again (re-arming its start limit), keeping its id and name. A live
 * process is left alone.
 */
#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static enum method_result
start_run(struct request *req, const void *params)
{
        const struct proto_p_start *sp = params;
        struct process *p = process_find_target(req->daemon->processes, &sp->t, req);

        if (p == NULL)
                return METHOD_DONE;
        /* Bringing an ended process back counts against the limits like a spawn. */
        if (process_is_final(p) && method_check_process_limits(req, p->owner) != 0)
                return METHOD_DONE;
        if (p->pool == NULL) {
                request_error(req, PROTO_E_NOT_FOUND, "pool", "the pool of %s was deleted",
                              p->name);
                return METHOD_DONE;
        }
        if (process_is_final(p))
                process_restart(p);
        return method_answer_when_ready(req, p, sp->wait);
}

const struct method method_process_start = {
    .name = PROTO_M_PROCESS_START,
    .params = &proto_spec_process_start,
    .access = METHOD_CONTROL,
    .scope = access_scope_target,
    .run = start_run,
};
