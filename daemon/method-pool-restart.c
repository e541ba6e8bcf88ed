/*
 * method-pool-restart.c -- pool.restart: a rolling restart, one member at a
 * time, each waited for until it is running and ready again; the answer
 * comes when the last one is.
 */
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static void
pool_restart_wake(struct request *req, void *arg)
{
        pool_pack(arg, request_result(req));
        request_done(req);
}

static enum method_result
pool_restart_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        if (request_park(req, &pool->roll_waiters, -1, pool_restart_wake, NULL) != 0)
                return METHOD_DONE;
        pool_restart(pool); /* may answer at once when there is nothing to restart */
        return METHOD_WAIT;
}

const struct method method_pool_restart = {
    .name = PROTO_M_POOL_RESTART,
    .params = &proto_spec_pool_restart,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .run = pool_restart_run,
};
