/*
 * pool.c -- pools: slots and the pending queue, replicas and scaling,
 * close/join/terminate/delete, rolling restart.
 *
 * Starting pending members and stepping a rolling restart happen from the
 * loop (sched_ev), never inside the state change that freed a slot, so a
 * transition never recurses into another process's transition.
 */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "pool.h"
#include "state.h"
#include "privs.h"
#include "process-table.h"
#include "queue.h"
#include "strv.h"
#include "xmalloc.h"

struct pool_table {
        struct corrald *daemon;
        struct pool_list pools;
        unsigned count;
        struct pool *dflt;
};

static void pool_sched_cb(evutil_socket_t, short, void *);

static struct pool *
pool_alloc(struct pool_table *pt, const char *name)
{
        struct pool *pool = xcalloc(1, sizeof *pool);

        pool->table = pt;
        pool->name = xstrdup(name);
        policy_default(&pool->defaults, pt->daemon->config.default_grace);
        output_config_default(&pool->output);
        pool->owner = geteuid();
        TAILQ_INIT(&pool->members);
        TAILQ_INIT(&pool->pending);
        TAILQ_INIT(&pool->join_waiters);
        TAILQ_INIT(&pool->delete_waiters);
        TAILQ_INIT(&pool->roll_waiters);
        pool->sched_ev = event_new(pt->daemon->base, -1, 0, pool_sched_cb, pool);
        if (pool->sched_ev == NULL)
                fatalx("cannot create an event");
        TAILQ_INSERT_TAIL(&pt->pools, pool, entry);
        pt->count++;
        return pool;
}

static void
pool_free(struct pool *pool)
{
        output_config_clear(&pool->output);
        privs_free(pool->privs);
        free(pool->config_fp);
        strv_free(pool->consume.argv);
        strv_free(pool->consume.env);
        free(pool->consume.cwd);
        free(pool->consume.queue);
        strv_free(pool->replicas.argv);
        strv_free(pool->replicas.env);
        free(pool->replicas.cwd);
        free(pool->workers);
        free(pool->roll);
        event_free(pool->sched_ev);
        free(pool->name);
        free(pool);
}

struct pool_table *
pool_table_new(struct corrald *d)
{
        struct pool_table *pt = xcalloc(1, sizeof *pt);

        pt->daemon = d;
        TAILQ_INIT(&pt->pools);
        pt->dflt = pool_alloc(pt, "default");
        return pt;
}

void
pool_table_free(struct pool_table *pt)
{
        struct pool *pool;

        while ((pool = TAILQ_FIRST(&pt->pools)) != NULL) {
                TAILQ_REMOVE(&pt->pools, pool, entry);
                pool_free(pool);
        }
        free(pt);
}

struct pool_list *
pool_table_list(struct pool_table *pt)
{
        return &pt->pools;
}

unsigned
pool_table_count(const struct pool_table *pt)
{
        return pt->count;
}

struct pool *
pool_find(struct pool_table *pt, const char *name)
{
        struct pool *pool;

        /* Pools are few (configured by people), a list is enough. */
        TAILQ_FOREACH(pool, &pt->pools, entry)
        {
                if (strcmp(pool->name, name) == 0)
                        return pool;
        }
        return NULL;
}

struct pool *
pool_find_req(struct pool_table *pt, const char *name, struct request *req)
{
        struct pool *pool = pool_find(pt, name);

        if (pool == NULL || pool->deleting) {
                request_error(req, PROTO_E_NOT_FOUND, "name", "no pool named '%s'", name);
                return NULL;
        }
        return pool;
}

struct pool *
pool_default(struct pool_table *pt)
{
        return pt->dflt;
}

void
pool_add_member(struct pool *pool, struct process *p)
{
        TAILQ_INSERT_TAIL(&pool->members, p, pool_entry);
        if (!process_is_final(p))
                pool->live++;
}

void
pool_remove_member(struct pool *pool, struct process *p)
{
        unsigned i;

        TAILQ_REMOVE(&pool->members, p, pool_entry);
        for (i = 0; i < pool->nworkers; i++) {
                if (pool->workers[i] == p)
                        pool->workers[i] = NULL;
        }
}

bool
pool_slot_free(const struct pool *pool)
{
        return pool->size == 0 || pool->active < pool->size;
}

/* Insert by priority (lower first), then by arrival. */
void
pool_enqueue(struct pool *pool, struct process *p)
{
        struct process *q;

        TAILQ_FOREACH(q, &pool->pending, pending_entry)
        {
                if (p->priority < q->priority || (p->priority == q->priority && p->seq < q->seq)) {
                        TAILQ_INSERT_BEFORE(q, p, pending_entry);
                        pool_schedule(pool);
                        return;
                }
        }
        TAILQ_INSERT_TAIL(&pool->pending, p, pending_entry);
        pool_schedule(pool);
}

void
pool_dequeue(struct pool *pool, struct process *p)
{
        struct process *q;

        /* Only queued members are on the list; a pending member may not be yet. */
        TAILQ_FOREACH(q, &pool->pending, pending_entry)
        {
                if (q == p) {
                        TAILQ_REMOVE(&pool->pending, p, pending_entry);
                        return;
                }
        }
}

struct process *
pool_first_startable(const struct pool *pool)
{
        struct process *q;

        TAILQ_FOREACH(q, &pool->pending, pending_entry)
        {
                if (process_deps_met(q))
                        return q;
        }
        return NULL;
}

void
pool_schedule(struct pool *pool)
{
        event_active(pool->sched_ev, EV_TIMEOUT, 0);
}

bool
pool_is_idle(const struct pool *pool)
{
        return pool->live == 0;
}

static void pool_finish_delete(struct pool *);
static void pool_roll_step(struct pool *);

static int pool_start_job(struct pool *);

static void
pool_sched_cb(evutil_socket_t fd, short what, void *arg)
{
        struct pool *pool = arg;
        struct process *p;

        while (pool_slot_free(pool)) {
                if ((p = pool_first_startable(pool)) != NULL)
                        process_start(p); /* takes it off the queue */
                else if (!pool->has_consume || pool_start_job(pool) == 0)
                        break; /* nothing to take (a job that could not start was put back) */
        }
        if (pool->nroll > 0)
                pool_roll_step(pool);
        if (pool_is_idle(pool)) {
                request_waitq_wake(&pool->join_waiters, pool);
                if (pool->deleting)
                        pool_finish_delete(pool);
        }
}

/* The pool's backoff for a message's attempt: restart_delay doubled per attempt, capped. */
static double
pool_job_delay(const struct pool *pool, uint32_t attempt)
{
        double delay = pool->defaults.restart_delay;
        uint32_t i;

        for (i = 1; i < attempt && delay < pool->defaults.restart_delay_max; i++)
                delay *= 2;
        return delay < pool->defaults.restart_delay_max ? delay : pool->defaults.restart_delay_max;
}

/* A job's process ended: its message is acked, or goes back with the pool's backoff. */
static void
pool_settle_job(struct pool *pool, struct process *p)
{
        struct queue *q = queue_find(pool->table->daemon->queues, pool->consume.queue);
        bool ok = p->state == PROCESS_EXITED && policy_is_success(&p->policy, p->exit_code);
        double delay = pool_job_delay(pool, p->job_attempt);

        if (q != NULL)
                queue_settle(q, p->job_msg_id, ok, delay);
        log_debug("pool %s: job %s for message %llu %s", pool->name, p->name,
                  (unsigned long long)p->job_msg_id, ok ? "succeeded" : "failed");
        p->job_msg_id = 0;
}

void
pool_member_changed(struct pool *pool, struct process *p, enum process_state from)
{
        enum process_state to = p->state;
        struct process fake = {.state = from};
        bool had = process_holds_slot(&fake), has = process_holds_slot(p);

        if (process_is_final(&fake) && !process_is_final(p))
                pool->live++;
        else if (!process_is_final(&fake) && process_is_final(p)) {
                pool->live--;
                if (p->job_msg_id != 0)
                        pool_settle_job(pool, p);
        }

        if (had && !has)
                pool->active--;
        else if (!had && has)
                pool->active++;
        /* Anything that may free a slot, end a join or step a roll: look from the loop. */
        if ((had && !has) || process_is_final(p) || to == PROCESS_RUNNING)
                pool_schedule(pool);
}

/* The environment a replica gets from its pool. */
static char **
pool_worker_env(const struct pool *pool, unsigned index)
{
        char **env = xcalloc(3, sizeof *env);

        xasprintf(&env[0], "CORRAL_POOL=%s", pool->name);
        xasprintf(&env[1], "CORRAL_WORKER_INDEX=%u", index);
        return env;
}

/* Start replica number index. */
static struct process *
pool_start_worker(struct pool *pool, unsigned index, struct proto_error *err)
{
        struct proto_p_spawn sp;
        struct process_spec ps;
        struct process *p;
        char name[PROTO_NAME_MAX + 16], **env = pool_worker_env(pool, index);

        memset(&sp, 0, sizeof sp);
        sp.argv = (const char **)pool->replicas.argv;
        sp.argc = strv_len((const char *const *)pool->replicas.argv);
        sp.env = (const char **)pool->replicas.env;
        sp.nenv = strv_len((const char *const *)pool->replicas.env);
        sp.cwd = pool->replicas.cwd;
        snprintf(name, sizeof name, "%s.%u", pool->name, index);
        memset(&ps, 0, sizeof ps); /* no pins: replicas belong to the pool */
        ps.sp = &sp;
        ps.pool = pool;
        ps.name = name;
        ps.extra_env = (const char *const *)env;
        ps.worker_index = (int)index;
        ps.owner = pool->owner;
        p = process_new(pool->table->daemon->processes, &ps, err);
        strv_free(env);
        if (p != NULL && index < pool->nworkers)
                pool->workers[index] = p;
        return p;
}

/* Take a message and run the pool's command on it: 1 started, 0 none to take, -1 failed (put back).
 */
static int
pool_start_job(struct pool *pool)
{
        struct corrald *d = pool->table->daemon;
        struct queue *q;
        struct qmsg *m;
        struct proto_p_spawn sp;
        struct process_spec ps;
        struct proto_error err;
        struct process *p;
        char *env[5];
        uint64_t id;
        uint32_t attempt;

        if (pool->closed || d->stopping ||
            (q = queue_find(d->queues, pool->consume.queue)) == NULL || (m = queue_take(q)) == NULL)
                return false;
        id = m->id;
        attempt = m->attempts;
        memset(&sp, 0, sizeof sp);
        sp.argv = (const char **)pool->consume.argv;
        sp.argc = strv_len((const char *const *)pool->consume.argv);
        sp.env = (const char **)pool->consume.env;
        sp.nenv = strv_len((const char *const *)pool->consume.env);
        sp.cwd = pool->consume.cwd;
        sp.stdin_data = m->data;
        sp.stdin_len = m->len;
        sp.has_stdin = true;
        /* One run per delivery: a failed job is retried through the queue, not restarted. */
        sp.policy.restart = PROTO_RESTART_NO;
        sp.policy.has_restart = true;
        xasprintf(&env[0], "CORRAL_POOL=%s", pool->name);
        xasprintf(&env[1], "CORRAL_QUEUE=%s", q->name);
        xasprintf(&env[2], "CORRAL_MSG_ID=%llu", (unsigned long long)id);
        xasprintf(&env[3], "CORRAL_ATTEMPT=%u", attempt);
        env[4] = NULL;
        memset(&ps, 0, sizeof ps);
        ps.owner = pool->owner;
        ps.sp = &sp;
        ps.pool = pool;
        ps.extra_env = (const char *const *)env;
        ps.worker_index = -1;
        p = process_new(d->processes, &ps, &err);
        for (int i = 0; i < 4; i++)
                free(env[i]);
        if (p == NULL) {
                log_warn("pool %s: cannot start a job for message %llu of %s: %s", pool->name,
                         (unsigned long long)id, q->name, err.message);
                queue_settle(q, id, false, pool_job_delay(pool, attempt));
                return -1;
        }
        p->job_msg_id = id;
        p->job_attempt = attempt;
        /* It may already have ended (and been settled) if it could not even start. */
        if (process_is_final(p) && p->job_msg_id != 0)
                pool_settle_job(pool, p);
        return 1;
}

void
pool_table_queue_ready(struct pool_table *pt, const char *name)
{
        struct pool *pool;

        TAILQ_FOREACH(pool, &pt->pools, entry)
        {
                if (pool->has_consume && strcmp(pool->consume.queue, name) == 0)
                        pool_schedule(pool);
        }
}

unsigned
pool_table_consumers(struct pool_table *pt, const char *name)
{
        struct pool *pool;
        unsigned n = 0;

        TAILQ_FOREACH(pool, &pt->pools, entry)
        {
                if (pool->has_consume && !pool->deleting && strcmp(pool->consume.queue, name) == 0)
                        n++;
        }
        return n;
}

struct pool *
pool_create(struct pool_table *pt, const struct proto_p_pool_create *pc, struct proto_error *err)
{
        return pool_create_for(pt, pc, NULL, geteuid(), err);
}

static struct pool *pool_create_owned(struct pool_table *, const struct proto_p_pool_create *,
                                      struct spawn_privs **, uid_t, struct proto_error *);

struct pool *
pool_create_for(struct pool_table *pt, const struct proto_p_pool_create *pc,
                struct spawn_privs *owner_privs, uid_t owner, struct proto_error *err)
{
        struct pool *pool = pool_create_owned(pt, pc, &owner_privs, owner, err);

        privs_free(owner_privs); /* NULL once the pool took it */
        return pool;
}

/* *owner_privs is set to NULL once the pool owns it. */
static struct pool *
pool_create_owned(struct pool_table *pt, const struct proto_p_pool_create *pc,
                  struct spawn_privs **owner_privs, uid_t owner, struct proto_error *err)
{
        struct spawn_privs *privs;
        struct pool *pool;

        if (pool_find(pt, pc->name) != NULL) {
                proto_error_set(err, PROTO_E_EXISTS, "name", "a pool named '%s' exists", pc->name);
                return NULL;
        }
        {
                struct output_config check;

                output_config_default(&check);
                if (output_config_apply(&check, &pc->output, err) != 0 ||
                    output_config_check(&check, pt->daemon, err) != 0) {
                        output_config_clear(&check);
                        return NULL;
                }
                output_config_clear(&check);
        }
        if ((pc->memory_max > 0 || pc->cpu_max != NULL || pc->pids_max > 0) &&
            !cgroups_enabled(pt->daemon->cgroups)) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS,
                                pc->memory_max > 0    ? "memory_max"
                                : pc->cpu_max != NULL ? "cpu_max"
                                                      : "pids_max",
                                "cgroup limits need a delegated cgroup: %s",
                                cgroups_reason(pt->daemon->cgroups));
                return NULL;
        }
        if (*owner_privs != NULL) {
                privs = *owner_privs; /* a client's pool runs as the client */
                *owner_privs = NULL;
        } else if (privs_resolve(&pc->privs, &privs, err) != 0)
                return NULL;
        if (pc->has_consume && queue_find(pt->daemon->queues, pc->consume.queue) == NULL) {
                privs_free(privs);
                proto_error_set(err, PROTO_E_NOT_FOUND, "consume.queue",
                                "no queue named '%s' (create the queue first)", pc->consume.queue);
                return NULL;
        }
        pool = pool_alloc(pt, pc->name);
        pool->privs = privs;
        pool->owner = owner;
        if (pc->memory_max > 0 || pc->cpu_max != NULL || pc->pids_max > 0)
                cgroups_pool(pt->daemon->cgroups, pool->name, pc->memory_max, pc->cpu_max,
                             pc->pids_max);
        pool->size = (unsigned)pc->size;
        if (pc->has_consume) {
                struct queue *q = queue_find(pt->daemon->queues, pc->consume.queue);

                pool->has_consume = true;
                pool->consume.queue = xstrdup(pc->consume.queue);
                pool->consume.argv =
                    strv_copy((const char *const *)pc->consume.argv, pc->consume.argc);
                pool->consume.env =
                    strv_copy((const char *const *)pc->consume.env, pc->consume.nenv);
                pool->consume.cwd = pc->consume.cwd ? xstrdup(pc->consume.cwd) : NULL;
                /* Unlimited jobs would start one process per message: one slot unless told. */
                if (!pc->has_size)
                        pool->size = 1;
                q->consumers = pool_table_consumers(pt, q->name);
                pool_schedule(pool);
        }
        if (pc->has_replicas && !pc->policy.has_restart)
                pool->defaults.restart = RESTART_ALWAYS; /* workers are meant to stay up */
        policy_apply(&pool->defaults, &pc->policy);
        (void)output_config_apply(&pool->output, &pc->output, err); /* checked above */
        if (pc->has_replicas) {
                pool->has_replicas = true;
                pool->replicas.count = (unsigned)pc->replicas.count; /* for pool.created */
        }
        /* Announced before its workers start, so their events follow it. */
        events_pool(pt->daemon, pool, "pool.created");
        if (pc->has_replicas) {
                pool->replicas.argv =
                    strv_copy((const char *const *)pc->replicas.argv, pc->replicas.argc);
                pool->replicas.env =
                    strv_copy((const char *const *)pc->replicas.env, pc->replicas.nenv);
                pool->replicas.cwd = pc->replicas.cwd ? xstrdup(pc->replicas.cwd) : NULL;
                pool->creating = true;
                if (pool_scale(pool, (unsigned)pc->replicas.count, err) != 0 &&
                    TAILQ_EMPTY(&pool->members)) {
                        /* Nothing started (the first worker failed): no pool either. */
                        events_pool(pt->daemon, pool, "pool.deleted");
                        TAILQ_REMOVE(&pt->pools, pool, entry);
                        pt->count--;
                        pool_free(pool);
                        return NULL;
                }
                pool->creating = false;
        }
        log_info("pool %s created (size %u%s)", pool->name, pool->size,
                 pool->has_replicas ? ", with replicas" : "");
        state_changed(pt->daemon->state);
        return pool;
}

/* New member settings from the configuration; live members take them at their next start. */
int
pool_redefine(struct pool *pool, const struct proto_p_pool_create *pc, struct proto_error *err)
{
        struct output_config ocfg;
        struct spawn_privs *privs;
        struct policy defaults;
        struct process *p;

        output_config_default(&ocfg);
        if (output_config_apply(&ocfg, &pc->output, err) != 0) {
                output_config_clear(&ocfg);
                return -1;
        }
        if (privs_resolve(&pc->privs, &privs, err) != 0) {
                output_config_clear(&ocfg);
                return -1;
        }
        policy_default(&defaults, pool->table->daemon->config.default_grace);
        if (pc->has_replicas && !pc->policy.has_restart)
                defaults.restart = RESTART_ALWAYS;
        policy_apply(&defaults, &pc->policy);
        pool->defaults = defaults;
        output_config_clear(&pool->output);
        pool->output = ocfg;
        privs_free(pool->privs);
        pool->privs = privs;
        if (pc->has_replicas) {
                strv_free(pool->replicas.argv);
                strv_free(pool->replicas.env);
                free(pool->replicas.cwd);
                pool->replicas.argv =
                    strv_copy((const char *const *)pc->replicas.argv, pc->replicas.argc);
                pool->replicas.env =
                    strv_copy((const char *const *)pc->replicas.env, pc->replicas.nenv);
                pool->replicas.cwd = pc->replicas.cwd ? xstrdup(pc->replicas.cwd) : NULL;
        }
        if (pc->has_consume) {
                strv_free(pool->consume.argv);
                strv_free(pool->consume.env);
                free(pool->consume.cwd);
                pool->consume.argv =
                    strv_copy((const char *const *)pc->consume.argv, pc->consume.argc);
                pool->consume.env =
                    strv_copy((const char *const *)pc->consume.env, pc->consume.nenv);
                pool->consume.cwd = pc->consume.cwd ? xstrdup(pc->consume.cwd) : NULL;
        }
        /* Replicas run the pool's command: they take the new one at their restart. */
        TAILQ_FOREACH(p, &pool->members, pool_entry)
        {
                if (p->worker_index >= 0 && !process_is_final(p) && pool->has_replicas)
                        process_redefine(p, (const char *const *)pool->replicas.argv,
                                         (const char *const *)pool->replicas.env,
                                         pool->replicas.cwd, &pool->defaults, &pool->output);
        }
        return 0;
}

struct pool *
pool_create_default(struct pool_table *pt, const char *name)
{
        struct pool *pool = pool_alloc(pt, name);

        log_info("pool %s created with the defaults", pool->name);
        events_pool(pt->daemon, pool, "pool.created");
        return pool;
}

int
pool_scale(struct pool *pool, unsigned count, struct proto_error *err)
{
        unsigned old = pool->replicas.count, i;

        if (!pool->has_replicas) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "name",
                                "pool '%s' has no replicas to scale", pool->name);
                return -1;
        }
        if (count > pool->nworkers) {
                pool->workers = xreallocarray(pool->workers, count, sizeof *pool->workers);
                memset(pool->workers + pool->nworkers, 0,
                       (count - pool->nworkers) * sizeof *pool->workers);
                pool->nworkers = count;
        }
        pool->replicas.count = count;
        /* Up: start the missing indices; the others are untouched. */
        for (i = 0; i < count; i++) {
                struct process *w = pool->workers[i];

                if (w != NULL && !process_is_final(w))
                        continue;
                if (pool_start_worker(pool, i, err) == NULL) {
                        pool->replicas.count = i;
                        return -1;
                }
        }
        /* Down: stop the highest indices gracefully. */
        for (i = count; i < old && i < pool->nworkers; i++) {
                struct process *w = pool->workers[i];

                if (w != NULL && !process_is_final(w))
                        process_terminate(w, w->policy.stop_signal, w->policy.grace);
                pool->workers[i] = NULL;
        }
        /* At creation there is nothing to have scaled from: pool.created says it all. */
        if (old != count && !pool->creating) {
                log_info("pool %s scaled from %u to %u", pool->name, old, count);
                events_pool(pool->table->daemon, pool, "pool.scaled");
                state_changed(pool->table->daemon->state);
        }
        return 0;
}

void
pool_terminate(struct pool *pool)
{
        struct process *p, *next;

        if (pool->has_replicas)
                pool->replicas.count = 0;
        state_changed(pool->table->daemon->state);
        /* Pending members first, so that no freed slot starts one of them. */
        for (p = TAILQ_FIRST(&pool->pending); p != NULL; p = next) {
                next = TAILQ_NEXT(p, pending_entry);
                process_terminate(p, p->policy.stop_signal, p->policy.grace);
        }
        TAILQ_FOREACH(p, &pool->members, pool_entry)
        {
                if (!process_is_final(p) || p->state == PROCESS_FAILED)
                        process_terminate(p, p->policy.stop_signal, p->policy.grace);
        }
        pool_schedule(pool);
}

/* Restart the next member of a rolling restart once the previous is up. */
static void
pool_roll_step(struct pool *pool)
{
        struct process_table *t = pool->table->daemon->processes;

        while (pool->roll_pos < pool->nroll) {
                struct process *p = process_find_id(t, pool->roll[pool->roll_pos]);

                if (p == NULL || p->pool != pool) {
                        pool->roll_pos++;
                        continue;
                }
                if (p->state == PROCESS_RUNNING && p->restarts > 0 && p->roll_started &&
                    !p->restart_after_stop) {
                        p->roll_started = false;
                        pool->roll_pos++; /* up again: on to the next */
                        continue;
                }
                if (process_is_final(p)) {
                        p->roll_started = false;
                        pool->roll_pos++;
                        continue;
                }
                if (!p->roll_started) {
                        p->roll_started = true;
                        process_restart(p);
                }
                return; /* wait for it */
        }
        free(pool->roll);
        pool->roll = NULL;
        pool->nroll = pool->roll_pos = 0;
        log_info("pool %s: rolling restart done", pool->name);
        events_pool(pool->table->daemon, pool, "pool.restarted");
        request_waitq_wake(&pool->roll_waiters, pool);
}

void
pool_restart(struct pool *pool)
{
        struct process *p;
        unsigned n = 0;

        if (pool->nroll > 0)
                return; /* already rolling: the caller waits for that one */
        TAILQ_FOREACH(p, &pool->members, pool_entry)
        {
                if (!process_is_final(p) && p->state != PROCESS_PENDING)
                        n++;
        }
        pool->roll = xcalloc(n + 1, sizeof *pool->roll);
        TAILQ_FOREACH(p, &pool->members, pool_entry)
        {
                if (!process_is_final(p) && p->state != PROCESS_PENDING) {
                        p->roll_started = false;
                        pool->roll[pool->nroll++] = p->id;
                }
        }
        pool->roll_pos = 0;
        log_info("pool %s: rolling restart of %u members", pool->name, pool->nroll);
        if (pool->nroll == 0) {
                free(pool->roll);
                pool->roll = NULL;
        }
        pool_schedule(pool);
        if (pool->nroll == 0)
                request_waitq_wake(&pool->roll_waiters, pool);
}

static void
pool_finish_delete(struct pool *pool)
{
        struct pool_table *pt = pool->table;
        struct process *p;

        TAILQ_FOREACH(p, &pool->members, pool_entry)
        p->pool = NULL; /* ended records keep the pool's name only */
        TAILQ_REMOVE(&pt->pools, pool, entry);
        pt->count--;
        if (pool->has_consume) {
                struct queue *q = queue_find(pt->daemon->queues, pool->consume.queue);

                if (q != NULL)
                        q->consumers = pool_table_consumers(pt, q->name);
        }
        cgroups_pool_remove(pt->daemon->cgroups, pool->name);
        log_info("pool %s deleted", pool->name);
        state_changed(pt->daemon->state);
        events_pool(pt->daemon, pool, "pool.deleted");
        request_waitq_wake(&pool->roll_waiters, pool);
        request_waitq_wake(&pool->delete_waiters, pool);
        pool_free(pool);
}

void
pool_delete(struct pool *pool)
{
        pool->closed = true;
        pool->deleting = true;
        pool_terminate(pool);
}

static unsigned
pool_count_state(const struct pool *pool, enum process_state s)
{
        const struct process *p;
        unsigned n = 0;

        TAILQ_FOREACH(p, &pool->members, pool_entry)
        {
                if (p->state == s)
                        n++;
        }
        return n;
}

void
pool_pack(const struct pool *pool, msgpack_packer *pk)
{
        enum process_state s;
        unsigned live = pool->live;
        const struct process *p;

        msgpack_pack_map(pk, 10 + POLICY_PACK_PAIRS + OUTPUT_CONFIG_PAIRS + PRIVS_PACK_PAIRS);
        proto_pack_kv_str(pk, "name", pool->name);
        proto_pack_kv_uint(pk, "size", pool->size);
        proto_pack_kv_uint(pk, "active", pool->active);
        proto_pack_kv_uint(pk, "live", live);
        proto_pack_kv_bool(pk, "closed", pool->closed);
        proto_pack_kv_bool(pk, "rolling", pool->nroll > 0);
        proto_pack_str(pk, "replicas");
        if (pool->has_replicas) {
                size_t argc = strv_len((const char *const *)pool->replicas.argv), i;

                msgpack_pack_map(pk, 3);
                proto_pack_kv_uint(pk, "count", pool->replicas.count);
                proto_pack_str(pk, "argv");
                msgpack_pack_array(pk, argc);
                for (i = 0; i < argc; i++)
                        proto_pack_str(pk, pool->replicas.argv[i]);
                if (pool->replicas.cwd != NULL)
                        proto_pack_kv_str(pk, "cwd", pool->replicas.cwd);
                else
                        proto_pack_kv_nil(pk, "cwd");
        } else
                msgpack_pack_nil(pk);
        proto_pack_str(pk, "consume");
        if (pool->has_consume) {
                size_t argc = strv_len((const char *const *)pool->consume.argv), i;

                msgpack_pack_map(pk, 3);
                proto_pack_kv_str(pk, "queue", pool->consume.queue);
                proto_pack_str(pk, "argv");
                msgpack_pack_array(pk, argc);
                for (i = 0; i < argc; i++)
                        proto_pack_str(pk, pool->consume.argv[i]);
                if (pool->consume.cwd != NULL)
                        proto_pack_kv_str(pk, "cwd", pool->consume.cwd);
                else
                        proto_pack_kv_nil(pk, "cwd");
        } else
                msgpack_pack_nil(pk);
        proto_pack_str(pk, "states");
        msgpack_pack_map(pk, PROCESS_STATE_COUNT);
        for (s = 0; s < PROCESS_STATE_COUNT; s++)
                proto_pack_kv_uint(pk, process_state_name(s), pool_count_state(pool, s));
        proto_pack_str(pk, "members");
        {
                uint32_t n = 0;

                TAILQ_FOREACH(p, &pool->members, pool_entry)
                n++;
                msgpack_pack_array(pk, n);
                TAILQ_FOREACH(p, &pool->members, pool_entry)
                msgpack_pack_uint64(pk, p->id);
        }
        policy_pack_pairs(&pool->defaults, pk);
        output_config_pack_pairs(&pool->output, pk);
        privs_pack_pairs(pool->privs, pk);
}
