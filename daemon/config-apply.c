/*
 * config-apply.c -- making the daemon what its configuration file says:
 * at start-up (queues first, dead letter queues before the queues naming
 * them, then pools, which may consume queues), and on reload (SIGHUP,
 * daemon.reload) by difference: new pools and queues are created,
 * removed ones deleted (pools gracefully), changed settings applied, and
 * only pools whose members changed are restarted, one member at a time.
 * Pools and queues made over the socket are left alone.
 */
#include <stdlib.h>
#include <string.h>

#include "config-apply.h"
#include "config.h"
#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "output.h"
#include "pool.h"
#include "privs.h"
#include "process.h"
#include "queue.h"
#include "state.h"
#include "systemd.h"
#include "xmalloc.h"

static const struct config_queue *
config_find_queue(const struct config *cfg, const char *name)
{
        size_t i;

        for (i = 0; i < cfg->nqueues; i++) {
                if (strcmp(cfg->queues[i].name, name) == 0)
                        return &cfg->queues[i];
        }
        return NULL;
}

static const struct config_pool *
config_find_pool(const struct config *cfg, const char *name)
{
        size_t i;

        for (i = 0; i < cfg->npools; i++) {
                if (strcmp(cfg->pools[i].name, name) == 0)
                        return &cfg->pools[i];
        }
        return NULL;
}

/* Create the configuration's queues that do not exist, dead letter queues first. */
static int
config_create_queues(struct corrald *d, const struct config *cfg, char **cause)
{
        bool progress = true;
        size_t i, left = 0;

        while (progress) {
                progress = false;
                left = 0;
                for (i = 0; i < cfg->nqueues; i++) {
                        const struct config_queue *cq = &cfg->queues[i];
                        struct proto_error err;
                        struct queue *q;

                        if (queue_find(d->queues, cq->name) != NULL)
                                continue;
                        if (cq->pc.dead_letter != NULL &&
                            queue_find(d->queues, cq->pc.dead_letter) == NULL &&
                            config_find_queue(cfg, cq->pc.dead_letter) != NULL) {
                                left++; /* its dead letter queue first */
                                continue;
                        }
                        if ((q = queue_create(d->queues, &cq->pc, &err)) == NULL) {
                                xasprintf(cause, "%s: [queue:%s] %s%s%s", cq->where, cq->name,
                                          err.field, err.field[0] ? ": " : "", err.message);
                                return -1;
                        }
                        q->config_fp = xstrdup(cq->fingerprint);
                        progress = true;
                }
        }
        if (left > 0) {
                xasprintf(cause, "%s: dead_letter queues name each other in a cycle", cfg->files);
                return -1;
        }
        return 0;
}

static int
config_create_pool(struct corrald *d, const struct config *cfg, const struct config_pool *cp,
                   char **cause)
{
        struct proto_p_pool_create pc = cp->pc;
        struct proto_error err;
        struct pool *pool;
        unsigned saved;

        /* A count changed at runtime (pool.scale) outlives a restart of corrald. */
        if (pc.has_replicas && state_saved_replicas(d->state, cp->name, &saved))
                pc.replicas.count = saved;
        if ((pool = pool_create(d->pools, &pc, &err)) == NULL) {
                xasprintf(cause, "%s: [pool:%s] %s%s%s", cp->where, cp->name, err.field,
                          err.field[0] ? ": " : "", err.message);
                return -1;
        }
        pool->config_fp = xstrdup(cp->fingerprint);
        pool->config_replicas = (unsigned)cp->pc.replicas.count;
        return 0;
}

int
config_apply_access(struct corrald *d, const struct config *cfg, char **cause)
{
        char *why = NULL;
        struct access_rules *rs = access_rules_new(cfg->access, cfg->naccess, &why);

        if (rs == NULL) {
                xasprintf(cause, "%s: [access] %s", cfg->files, why);
                free(why);
                return -1;
        }
        access_rules_free(d->access);
        d->access = rs;
        conn_regrant_all(d);
        return 0;
}

int
config_check(struct corrald *d, const struct config *cfg, char **cause)
{
        size_t i;
        char *why = NULL;
        struct access_rules *rs = access_rules_new(cfg->access, cfg->naccess, &why);

        if (rs == NULL) {
                xasprintf(cause, "%s: [access] %s", cfg->files, why);
                free(why);
                return -1;
        }
        access_rules_free(rs);

        for (i = 0; i < cfg->nqueues; i++) {
                const char *dl = cfg->queues[i].pc.dead_letter;

                if (dl != NULL && config_find_queue(cfg, dl) == NULL) {
                        xasprintf(cause, "%s: [queue:%s] dead_letter: no queue '%s' is configured",
                                  config_where(cfg->queues[i].places, cfg->queues[i].nplaces,
                                               "dead_letter", cfg->queues[i].where),
                                  cfg->queues[i].name, dl);
                        return -1;
                }
        }
        for (i = 0; i < cfg->npools; i++) {
                const struct config_pool *cp = &cfg->pools[i];
                struct output_config ocfg;
                struct spawn_privs *pv;
                struct proto_error err;
                int r;

                if (cp->pc.has_consume && config_find_queue(cfg, cp->pc.consume.queue) == NULL) {
                        xasprintf(cause, "%s: [pool:%s] consume: no queue '%s' is configured",
                                  config_where(cp->places, cp->nplaces, "consume", cp->where),
                                  cp->name, cp->pc.consume.queue);
                        return -1;
                }
                output_config_default(&ocfg);
                r = output_config_apply(&ocfg, &cp->pc.output, &err);
                output_config_clear(&ocfg);
                if (r == 0 && (r = privs_resolve(&cp->pc.privs, &pv, &err)) == 0)
                        privs_free(pv);
                if (r != 0) {
                        xasprintf(cause, "%s: [pool:%s] %s: %s",
                                  config_where(cp->places, cp->nplaces, err.field, cp->where),
                                  cp->name, err.field, err.message);
                        return -1;
                }
        }
        (void)d;
        return 0;
}

int
config_apply_startup(struct corrald *d, const struct config *cfg, char **cause)
{
        size_t i;

        if (config_create_queues(d, cfg, cause) != 0)
                return -1;
        for (i = 0; i < cfg->npools; i++) {
                if (pool_find(d->pools, cfg->pools[i].name) != NULL) {
                        xasprintf(cause, "%s: [pool:%s]: a pool of that name already exists",
                                  cfg->files, cfg->pools[i].name);
                        return -1;
                }
                if (config_create_pool(d, cfg, &cfg->pools[i], cause) != 0)
                        return -1;
        }
        log_info("configuration applied: %zu pools, %zu queues from %s", cfg->npools, cfg->nqueues,
                 cfg->files);
        return 0;
}

/* A queue's settings changed: apply what can change in place. */
static void
config_update_queue(struct queue *q, const struct config_queue *cq)
{
        const struct proto_p_queue_create *pc = &cq->pc;

        if (pc->durable != q->cfg.durable)
                log_warn("queue %s: durable cannot change on reload (delete and recreate the "
                         "queue); the other settings are applied",
                         q->name);
        q->cfg.maxsize = pc->maxsize;
        q->cfg.max_bytes = pc->max_bytes;
        q->cfg.fsync = (enum queue_fsync)pc->fsync;
        q->cfg.visibility_timeout = pc->has_visibility_timeout ? pc->visibility_timeout : 30;
        q->cfg.max_attempts = (unsigned)pc->max_attempts;
        snprintf(q->cfg.dead_letter, sizeof q->cfg.dead_letter, "%s",
                 pc->dead_letter != NULL ? pc->dead_letter : "");
        free(q->config_fp);
        q->config_fp = xstrdup(cq->fingerprint);
        log_info("queue %s: settings updated", q->name);
}

/* Check a new configuration against the running daemon before changing anything. */
static int
config_check_reload(struct corrald *d, const struct config *cfg, char **cause)
{
        size_t i;

        for (i = 0; i < cfg->npools; i++) {
                struct pool *pool = pool_find(d->pools, cfg->pools[i].name);
                struct spawn_privs *pv;
                struct proto_error err;

                if (pool != NULL && pool->config_fp == NULL) {
                        xasprintf(cause,
                                  "%s: [pool:%s]: a pool of that name was made over the "
                                  "socket; delete it first",
                                  cfg->files, cfg->pools[i].name);
                        return -1;
                }
                if (privs_resolve(&cfg->pools[i].pc.privs, &pv, &err) != 0) {
                        xasprintf(cause, "%s: [pool:%s] %s: %s", cfg->files, cfg->pools[i].name,
                                  err.field, err.message);
                        return -1;
                }
                privs_free(pv);
        }
        for (i = 0; i < cfg->nqueues; i++) {
                struct queue *q = queue_find(d->queues, cfg->queues[i].name);

                if (q != NULL && q->config_fp == NULL) {
                        xasprintf(cause,
                                  "%s: [queue:%s]: a queue of that name was made over the "
                                  "socket; delete it first",
                                  cfg->files, cfg->queues[i].name);
                        return -1;
                }
        }
        return 0;
}

/* Pools: create, delete, scale, resize, or redefine and roll. */
static int
config_reload_pools(struct corrald *d, const struct config *cfg, char **cause)
{
        struct pool *pool, *next;
        struct proto_error err;
        size_t i;

        for (pool = TAILQ_FIRST(pool_table_list(d->pools)); pool != NULL; pool = next) {
                next = TAILQ_NEXT(pool, entry);
                if (pool->config_fp != NULL && !pool->deleting &&
                    config_find_pool(cfg, pool->name) == NULL) {
                        log_info("pool %s: removed from the configuration, deleting it",
                                 pool->name);
                        pool_delete(pool);
                }
        }
        for (i = 0; i < cfg->npools; i++) {
                const struct config_pool *cp = &cfg->pools[i];

                if ((pool = pool_find(d->pools, cp->name)) == NULL || pool->deleting) {
                        if (pool != NULL) {
                                xasprintf(cause, "[pool:%s]: the old pool is still being deleted",
                                          cp->name);
                                return -1;
                        }
                        if (config_create_pool(d, cfg, cp, cause) != 0)
                                return -1;
                        continue;
                }
                pool->size = (unsigned)cp->pc.size;
                if (strcmp(pool->config_fp, cp->fingerprint) != 0) {
                        if (pool_redefine(pool, &cp->pc, &err) != 0) {
                                xasprintf(cause, "[pool:%s] %s: %s", cp->name, err.field,
                                          err.message);
                                return -1;
                        }
                        free(pool->config_fp);
                        pool->config_fp = xstrdup(cp->fingerprint);
                        log_info("pool %s: its members changed: restarting them one at a time",
                                 pool->name);
                        pool_restart(pool);
                }
                /* Only a changed count in the file scales: pool.scale at runtime stays. */
                if (pool->has_replicas && cp->pc.has_replicas &&
                    cp->pc.replicas.count != pool->config_replicas) {
                        pool->config_replicas = (unsigned)cp->pc.replicas.count;
                        if (pool_scale(pool, (unsigned)cp->pc.replicas.count, &err) != 0)
                                log_warn("pool %s: %s", pool->name, err.message);
                }
                pool_schedule(pool);
        }
        return 0;
}

int
config_reload(struct corrald *d, char **cause)
{
        struct config *cfg;
        struct queue *q, *next;
        size_t i;
        int r;

        systemd_reloading(d->systemd);
        log_info("reloading %s", d->config.config_path);
        cfg = config_load(d->config.config_path, d->config.config_required, cause);
        /* Everything that can be checked is, before anything changes. */
        if (cfg == NULL || config_check(d, cfg, cause) != 0 ||
            config_check_reload(d, cfg, cause) != 0 || config_apply_access(d, cfg, cause) != 0) {
                log_error("reload refused, nothing changed: %s", *cause);
                config_free(cfg);
                systemd_ready(d->systemd);
                return -1;
        }
        /* Queues first (pools may consume them), then pools; queues removed last. */
        for (i = 0; i < cfg->nqueues; i++) {
                if ((q = queue_find(d->queues, cfg->queues[i].name)) != NULL &&
                    strcmp(q->config_fp, cfg->queues[i].fingerprint) != 0)
                        config_update_queue(q, &cfg->queues[i]);
        }
        r = config_create_queues(d, cfg, cause);
        if (r == 0)
                r = config_reload_pools(d, cfg, cause);
        for (q = TAILQ_FIRST(queue_table_list(d->queues)); r == 0 && q != NULL; q = next) {
                next = TAILQ_NEXT(q, entry);
                if (q->config_fp != NULL && config_find_queue(cfg, q->name) == NULL) {
                        log_info("queue %s: removed from the configuration, deleting it", q->name);
                        queue_delete(q);
                }
        }
        config_daemon_settings(d, cfg, true);
        config_free(cfg);
        if (r != 0)
                log_error("reload partly applied: %s", *cause);
        else
                log_info("reload done");
        systemd_ready(d->systemd);
        return r;
}

void
config_daemon_settings(struct corrald *d, const struct config *cfg, bool reload)
{
        struct corrald_config *c = &d->config;

        /* The command line wins over the file. */
        if (cfg->has_history && !c->cli_history)
                c->history = (unsigned)cfg->history;
        if (cfg->has_grace && !c->cli_grace)
                c->default_grace = cfg->grace;
        if (cfg->log_level != NULL && !c->cli_log_level)
                log_set_level(log_level_from_name(cfg->log_level));
        if (cfg->has_max_connections)
                c->max_connections = (unsigned)cfg->max_connections;
        if (cfg->has_max_processes)
                c->max_processes = (unsigned)cfg->max_processes;
        if (cfg->has_max_processes_per_uid)
                c->max_processes_per_uid = (unsigned)cfg->max_processes_per_uid;
        if (cfg->has_max_waiting)
                c->max_waiting = (unsigned)cfg->max_waiting;
        if (cfg->has_max_output)
                c->max_output = cfg->max_output;
        /* Lowered on reload: a connection's extra pins go as its next records end. */
        if (cfg->has_max_pinned)
                c->max_pinned = (unsigned)cfg->max_pinned;
        if (cfg->has_idle_timeout)
                c->idle_timeout = cfg->idle_timeout;
        if (reload) {
                if ((cfg->socket != NULL && strcmp(cfg->socket, c->socket_path) != 0) ||
                    (cfg->state_dir != NULL && strcmp(cfg->state_dir, c->state_dir) != 0))
                        log_warn("socket and state_dir changes apply at the next start");
                return;
        }
        if (cfg->socket != NULL && !c->cli_socket) {
                free(c->socket_path);
                c->socket_path = xstrdup(cfg->socket);
        }
        if (cfg->state_dir != NULL && !c->cli_state_dir) {
                free(c->state_dir);
                c->state_dir = xstrdup(cfg->state_dir);
        }
        if (cfg->has_max_message && !c->cli_max_message)
                c->limits.max_message = cfg->max_message;
        if (cfg->has_queue_max_message && !c->cli_queue_max)
                c->queue_max_message = cfg->queue_max_message;
        if (cfg->has_socket_mode)
                c->socket_mode = (unsigned)cfg->socket_mode;
        if (cfg->socket_group != NULL) {
                free(c->socket_group);
                c->socket_group = xstrdup(cfg->socket_group);
        }
}
