/*
 * method-process-terminate.c -- process.terminate: the stop signal to the
 * group, KILL after the grace; with wait, answer once it has ended.
 */
#include <signal.h>

#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"

static void
terminate_wake(struct request *req, void *arg)
{
        process_pack(arg, request_result(req));
        request_done(req);
}

static enum method_result
terminate_run(struct request *req, const void *params)
{
        const struct proto_p_terminate *tp = params;
        struct corrald *d = req->daemon;
        struct process *p = process_find_target(d->processes, &tp->t, req);

        if (p == NULL)
                return METHOD_DONE;
        /* Final states ignore it, except failed: its retry is disarmed for good. */
        if (!process_is_final(p) || p->state == PROCESS_FAILED)
                process_terminate(p, tp->has_signal ? tp->signal : p->policy.stop_signal,
                                  tp->has_grace ? tp->grace : p->policy.grace);
        if (!tp->wait || process_is_final(p)) {
                terminate_wake(req, p);
                return METHOD_DONE;
        }
        /* No timeout of its own: the grace bounds how long the process can take. */
        if (request_park(req, &p->waiters, -1, terminate_wake, NULL) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

const struct method method_process_terminate = {
    .name = PROTO_M_PROCESS_TERMINATE,
    .params = &proto_spec_process_terminate,
    .access = METHOD_CONTROL,
    .scope = access_scope_target,
    .flags = METHOD_STOPPING_OK,
    .run = terminate_run,
};
