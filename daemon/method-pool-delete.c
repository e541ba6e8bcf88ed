/*
 * method-pool-delete.c -- pool.delete: close the pool, stop its members, and
 * remove it once they have ended; the answer comes then. Ended records
 * keep the pool's name. The default pool cannot be deleted.
 */
#include <string.h>

#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static void
pool_delete_wake(struct request *req, void *arg)
{
        request_ok(req);
}

static enum method_result
pool_delete_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        if (pool == pool_default(req->daemon->pools)) {
                request_error(req, PROTO_E_INVALID_PARAMS, "name",
                              "the default pool cannot be deleted");
                return METHOD_DONE;
        }
        if (request_park(req, &pool->delete_waiters, -1, pool_delete_wake, NULL) != 0)
                return METHOD_DONE;
        pool_delete(pool);
        return METHOD_WAIT;
}

const struct method method_pool_delete = {
    .name = PROTO_M_POOL_DELETE,
    .params = &proto_spec_pool_delete,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .flags = METHOD_STOPPING_OK,
    .run = pool_delete_run,
};
