/* method-pool-list.c -- pool.list: every pool, as pool.info describes it. */
#include "access.h"
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "request.h"

/* Pools being deleted are gone already; a client limited to some pools sees only those. */
static bool
pool_list_shows(struct request *req, const struct pool *pool)
{
        return !pool->deleting && access_sees_pool(req->conn, pool->name);
}

static enum method_result
pool_list_run(struct request *req, const void *params)
{
        struct pool_table *pt = req->daemon->pools;
        msgpack_packer *pk = request_result(req);
        struct pool *pool;
        uint32_t n = 0;

        TAILQ_FOREACH(pool, pool_table_list(pt), entry)
        n += pool_list_shows(req, pool);
        msgpack_pack_map(pk, 1);
        proto_pack_str(pk, "pools");
        msgpack_pack_array(pk, n);
        TAILQ_FOREACH(pool, pool_table_list(pt), entry)
        {
                if (pool_list_shows(req, pool))
                        pool_pack(pool, pk);
        }
        request_done(req);
        return METHOD_DONE;
}

const struct method method_pool_list = {
    .name = PROTO_M_POOL_LIST,
    .params = &proto_spec_pool_list,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = pool_list_run,
};
