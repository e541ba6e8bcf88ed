/* method-pool-close.c -- pool.close: refuse new spawns (Python's Pool.close()). */
#include "corrald.h"
#include "events.h"
#include "method.h"
#include "pool.h"
#include "request.h"
#include "state.h"

static enum method_result
pool_close_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        if (!pool->closed) {
                pool->closed = true;
                events_pool(req->daemon, pool, "pool.closed");
                state_changed(req->daemon->state);
        }
        pool_pack(pool, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_pool_close = {
    .name = PROTO_M_POOL_CLOSE,
    .params = &proto_spec_pool_close,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .run = pool_close_run,
};
