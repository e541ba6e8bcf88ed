/*
 * method-pool-terminate.c -- pool.terminate: stop every member (pending ones
 * never start; replicas go to 0); with wait, answer once all have ended.
 */
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static void
pool_terminate_wake(struct request *req, void *arg)
{
        pool_pack(arg, request_result(req));
        request_done(req);
}

static enum method_result
pool_terminate_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        pool_terminate(pool);
        if (!pp->wait || pool_is_idle(pool)) {
                pool_terminate_wake(req, pool);
                return METHOD_DONE;
        }
        if (request_park(req, &pool->join_waiters, -1, pool_terminate_wake, NULL) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

const struct method method_pool_terminate = {
    .name = PROTO_M_POOL_TERMINATE,
    .params = &proto_spec_pool_terminate,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .flags = METHOD_STOPPING_OK,
    .run = pool_terminate_run,
};
