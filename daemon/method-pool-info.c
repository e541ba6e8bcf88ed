/* method-pool-info.c -- pool.info: a pool's settings and member counts. */
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static enum method_result
pool_info_run(struct request *req, const void *params)
{
        const struct proto_p_pool *pp = params;
        struct pool *pool = pool_find_req(req->daemon->pools, pp->name, req);

        if (pool == NULL)
                return METHOD_DONE;
        pool_pack(pool, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_pool_info = {
    .name = PROTO_M_POOL_INFO,
    .params = &proto_spec_pool_info,
    .access = METHOD_READ,
    .scope = access_scope_pool,
    .flags = METHOD_STOPPING_OK,
    .run = pool_info_run,
};
