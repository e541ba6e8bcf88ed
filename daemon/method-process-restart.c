/*
 * method-process-restart.c -- process.restart: stop the process (stop
 * signal, KILL after grace) and start it again with the same id and name;
 * an ended one is simply started.
 */
#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static void
restart_wake(struct request *req, void *arg)
{
        process_pack(arg, request_result(req));
        request_done(req);
}

static enum method_result
restart_run(struct request *req, const void *params)
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
        process_restart(p);
        if (sp->wait == PROTO_WAIT_READY && p->state == PROCESS_STOPPING) {
                /* Stopping first: answer once the new run is ready. */
                if (request_park(req, &p->ready_waiters, -1, restart_wake, NULL) != 0)
                        return METHOD_DONE;
                return METHOD_WAIT;
        }
        return method_answer_when_ready(req, p, sp->wait);
}

const struct method method_process_restart = {
    .name = PROTO_M_PROCESS_RESTART,
    .params = &proto_spec_process_restart,
    .access = METHOD_CONTROL,
    .scope = access_scope_target,
    .run = restart_run,
};
