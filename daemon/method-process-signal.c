/* method-process-signal.c -- process.signal: any signal to a live process or its group. */
#include <errno.h>
#include <string.h>

#include "corrald.h"
#include "method.h"
#include "process.h"
#include "request.h"
#include "spawn.h"

static enum method_result
signal_run(struct request *req, const void *params)
{
        const struct proto_p_signal *sp = params;
        struct process *p = process_find_target(req->daemon->processes, &sp->t, req);

        if (p == NULL)
                return METHOD_DONE;
        if (process_is_final(p)) {
                request_error(req, PROTO_E_NOT_RUNNING, NULL, "process %s has already %s", p->name,
                              process_state_name(p->state));
                return METHOD_DONE;
        }
        /*
         * Only a run not reaped yet: its pid (and group id) cannot have been
         * reused. A pending process has no pid (0 would be corrald's own
         * group), one in backoff only its last run's, anyone's by now.
         */
        if (!p->alive) {
                request_error(req, PROTO_E_NOT_RUNNING, NULL, "process %s is %s: nothing runs",
                              p->name, process_state_name(p->state));
                return METHOD_DONE;
        }
        if (spawn_kill(sp->group ? -p->pid : p->pid, sp->signal) == -1) {
                request_error(req, PROTO_E_INTERNAL, NULL, "kill %s: %s",
                              proto_signal_name(sp->signal), strerror(errno));
                return METHOD_DONE;
        }
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_process_signal = {
    .name = PROTO_M_PROCESS_SIGNAL,
    .params = &proto_spec_process_signal,
    .access = METHOD_CONTROL,
    .scope = access_scope_target,
    .flags = METHOD_STOPPING_OK,
    .run = signal_run,
};
