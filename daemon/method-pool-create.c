/* method-pool-create.c -- pool.create: a named pool with slots, defaults and replicas. */
#include <unistd.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "method.h"
#include "pool.h"
#include "privs.h"
#include "request.h"

static enum method_result
pool_create_run(struct request *req, const void *params)
{
        const struct proto_p_pool_create *pc = params;
        struct proto_error err;
        struct pool *pool;

        /* No privilege escalation: a client that is not root gets a pool that runs as it. */
        if (req->conn != NULL && geteuid() == 0 && conn_grant(req->conn)->level != ACCESS_FULL) {
                size_t ng;
                const gid_t *groups = conn_peer_groups_list(req->conn, &ng);

                pool = pool_create_for(req->daemon->pools, pc,
                                       privs_for_peer(conn_peer_uid(req->conn),
                                                      conn_peer_gid(req->conn), groups, ng, NULL),
                                       conn_peer_uid(req->conn), &err);
        } else
                pool = pool_create(req->daemon->pools, pc, &err);

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
    .scope = access_scope_pool_create,
    .run = pool_create_run,
};
