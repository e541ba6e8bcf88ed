/*
 * method-process-spawn.c -- process.spawn: create a process in a pool; it
 * starts now, or waits for a slot or its dependencies. With wait "ready"
 * the answer comes once it is running and ready (or has failed to be).
 */
#include <unistd.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "method.h"
#include "output.h"
#include "pool.h"
#include "privs.h"
#include "process.h"
#include "request.h"

static void
spawn_wake(struct request *req, void *arg)
{
        process_pack(arg, request_result(req));
        request_done(req);
}

/*
 * The process limits, for a spawn or for bringing an ended process back
 * (start, restart): in all, and per client uid for clients that are not
 * root. Answers limit_reached itself and returns -1.
 */
int
method_check_process_limits(struct request *req, uid_t owner)
{
        struct corrald *d = req->daemon;

        if (process_table_live(d->processes) >= d->config.max_processes) {
                request_error(req, PROTO_E_LIMIT_REACHED, NULL,
                              "corrald supervises at most %u live processes",
                              d->config.max_processes);
                return -1;
        }
        if (req->conn != NULL && conn_grant(req->conn)->level != ACCESS_FULL &&
            process_table_owned(d->processes, owner) >= d->config.max_processes_per_uid) {
                request_error(req, PROTO_E_LIMIT_REACHED, NULL,
                              "uid %ld already has %u live processes (the limit)", (long)owner,
                              d->config.max_processes_per_uid);
                return -1;
        }
        return 0;
}

/* Shared with process.start/restart: answer now, or once ready. */
enum method_result
method_answer_when_ready(struct request *req, struct process *p, int wait)
{
        bool waiting = p->state == PROCESS_PENDING || p->state == PROCESS_STARTING;

        if (wait == PROTO_WAIT_READY && waiting) {
                if (request_park(req, &p->ready_waiters, -1, spawn_wake, NULL) != 0)
                        return METHOD_DONE;
                return METHOD_WAIT;
        }
        spawn_wake(req, p);
        return METHOD_DONE;
}

static enum method_result
spawn_run(struct request *req, const void *params)
{
        const struct proto_p_spawn *sp = params;
        struct corrald *d = req->daemon;
        struct proto_error err;
        struct process_spec ps = {.sp = sp, .worker_index = -1};
        struct process *p;

        if (sp->pool != NULL) {
                /* A pool named for the first time is made with the defaults. */
                if ((ps.pool = pool_find(d->pools, sp->pool)) == NULL)
                        ps.pool = pool_create_default(d->pools, sp->pool);
                if (ps.pool->deleting) {
                        request_error(req, PROTO_E_CLOSED, "pool", "pool '%s' is being deleted",
                                      sp->pool);
                        return METHOD_DONE;
                }
        } else
                ps.pool = pool_default(d->pools);
        if (ps.pool->closed) {
                request_error(req, PROTO_E_CLOSED, "pool", "pool '%s' is closed to new processes",
                              ps.pool->name);
                return METHOD_DONE;
        }
        ps.owner = req->conn != NULL ? conn_peer_uid(req->conn) : geteuid();
        /* Its final state is kept for this connection's join (process-pin.c). */
        ps.pins = req->conn != NULL ? conn_pins(req->conn) : NULL;
        if (method_check_process_limits(req, ps.owner) != 0)
                return METHOD_DONE;
        /*
         * No privilege escalation: when corrald is root, a client that is
         * not runs its children as itself — unless its rule lets it use
         * this pool's own user (pool_user).
         */
        if (req->conn != NULL && geteuid() == 0 && conn_grant(req->conn)->level != ACCESS_FULL &&
            !(ps.pool->privs != NULL && ps.pool->privs->user_set &&
              conn_grant(req->conn)->other_user)) {
                size_t ng;
                const gid_t *groups = conn_peer_groups_list(req->conn, &ng);

                ps.privs = privs_for_peer(conn_peer_uid(req->conn), conn_peer_gid(req->conn),
                                          groups, ng, ps.pool->privs);
        }
        if ((p = process_new(d->processes, &ps, &err)) == NULL) {
                request_error_proto(req, &err);
                return METHOD_DONE;
        }
        /* Before any of its output is read (that happens from the loop, later). */
        if (sp->follow && req->conn != NULL && !process_is_final(p))
                output_follow(d, req->conn, p->id, NULL, LOG_STDOUT | LOG_STDERR);
        return method_answer_when_ready(req, p, sp->wait);
}

const struct method method_process_spawn = {
    .name = PROTO_M_PROCESS_SPAWN,
    .params = &proto_spec_process_spawn,
    .access = METHOD_CONTROL,
    .scope = access_scope_spawn,
    .run = spawn_run,
};
