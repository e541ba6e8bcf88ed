/*
 * method-pool-join.c -- pool.join: answer once every member has reached a
 * final state (Python's close(); join()), or time out.
 */
#include "corrald.h"
#include "events.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static void
pool_join_wake(struct request *req, void *arg)
{
        events_pool(req->daemon, arg, "pool.joined");
        pool_pack(arg, request_result(req));
        request_done(req);
}

static void
pool_join_expire(struct request *req)
{
        const struct proto_p_pool *pp = req->params;

        request_error(req, PROTO_E_TIMEOUT, "timeout", "pool %s still has live members after %gs",
                      pp->name, pp->timeout);
}

static enum method_result
pool_join_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        if (pool_is_idle(pool)) {
                pool_join_wake(req, pool);
                return METHOD_DONE;
        }
        if (pp->has_timeout && pp->timeout == 0) {
                request_error(req, PROTO_E_TIMEOUT, "timeout", "pool %s has live members",
                              pool->name);
                return METHOD_DONE;
        }
        if (request_park(req, &pool->join_waiters, pp->has_timeout ? pp->timeout : -1,
                         pool_join_wake, pool_join_expire) != 0)
                return METHOD_DONE;
        return METHOD_WAIT;
}

const struct method method_pool_join = {
    .name = PROTO_M_POOL_JOIN,
    .params = &proto_spec_pool_join,
    .access = METHOD_READ,
    .scope = access_scope_pool,
    .flags = METHOD_STOPPING_OK,
    .run = pool_join_run,
};
