/* method-pool-create.c -- pool.create: a named pool with slots, defaults and replicas. */
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

static enum method_result
pool_create_run(struct request *req, const void *params)
{
        const struct proto_p_pool_create *pc = params;
        struct proto_error err;
        struct pool *pool = pool_create(req->daemon->pools, pc, &err);

        if (pool == NULL) {
                request_error_proto(req, &err);
                return METHOD_DONE;
        }
        pool_pack(pool, request_result(req));
        request_done(req);
        return METHOD_DONE;
}

const struct method method_pool_create = {
    .name = PROTO_M_POOL_CREATE,
    .params = &proto_spec_pool_create,
    .access = METHOD_CONTROL,
    .scope = access_scope_pool,
    .run = pool_create_run,
};
