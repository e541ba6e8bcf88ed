/*
 * method-process-join.c -- process.join: answer once the process has
 * ended. The spawner's join collects the final state: the record is no
 * longer pinned for it.
 */
#include "conn.h"
#include "corrald.h"
#include "method.h"
#include "output.h"
#include "process.h"
#include "request.h"

static void
join_wake(struct request *req, void *arg)
{
        const struct proto_p_join *jp = req->params;
        struct process *p = arg;
        msgpack_packer *pk = request_result(req);

        if (jp->output) {
                /* The record with what the process printed (its bounded tail). */
                process_pack_extra(p, pk, 1);
                proto_pack_str(pk, "output");
                output_pack_tail(p->output, pk);
        } else
                process_pack(p, pk);
        /* Before request_done, which frees the request. */
        if (req->conn != NULL)
                process_unpin(p, conn_pins(req->conn));
        request_done(req);
}

static void
join_expire(struct request *req)
{
        const struct proto_p_join *jp = req->params;

        request_error(req, PROTO_E_TIMEOUT, "timeout", "the process did not end within %gs",
                      jp->timeout);
}

static enum method_result
join_run(struct request *req, const void *params)
{
        const struct proto_p_join *jp = params;
        struct process *p = process_find_target(req->daemon->processes, &jp->t, req);

        if (p == NULL)
                return METHOD_DONE;
        if (process_is_final(p)) {
                join_wake(req, p);
                return METHOD_DONE;
        }
        if (jp->has_timeout && jp->timeout == 0) {
                request_error(req, PROTO_E_TIMEOUT, "timeout", "process %s is still %s", p->name,
                              process_state_name(p->state));
                return METHOD_DONE;
        }
        if (request_park(req, &p->waiters, jp->has_timeout ? jp->timeout : -1, join_wake,
                         join_expire) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

const struct method method_process_join = {
    .name = PROTO_M_PROCESS_JOIN,
    .params = &proto_spec_process_join,
    .access = METHOD_READ,
    .scope = access_scope_target,
    .flags = METHOD_STOPPING_OK,
    .run = join_run,
};
