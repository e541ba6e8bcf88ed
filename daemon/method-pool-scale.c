/*
 * method-pool-scale.c -- pool.scale: change a replica pool's worker count;
 * new indices start, the highest stop gracefully, the rest are untouched.
 */
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static enum method_result
pool_scale_run(struct request *req, const void *params)
{
        const struct proto_p_pool_scale *ps = params;
        struct pool *pool = pool_find_req(req->daemon->pools, ps->name, req);
        struct proto_error err;

        if (pool == NULL)
                return METHOD_DONE;
        if (pool_scale(pool, (unsigned)ps->count, &err) != 0) {
                request_error_proto(req, &err);
                return METHOD_DONE;
        }
        pool_pack(pool, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_pool_scale = {
    .name = PROTO_M_POOL_SCALE,
    .params = &proto_spec_pool_scale,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .run = pool_scale_run,
};
