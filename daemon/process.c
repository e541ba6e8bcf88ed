/*
 * process.c -- the process table: records, lookups by id/pid/name,
 * creation, running a record's program, history of ended records, and the
 * record's wire form. The state machine is in process-state.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "notify.h"
#include "output.h"
#include "pool.h"
#include "process-table.h"
#include "privs.h"
#include "process.h"
#include "queue.h"
#include "spawn.h"
#include "strv.h"
#include "stdin-feed.h"
#include "xmalloc.h"

extern char **environ;

static int
process_cmp_id(const void *a, const void *b)
{
        const struct process *pa = a, *pb = b;

        return pa->id < pb->id ? -1 : pa->id > pb->id;
}

static int
process_cmp_pid(const void *a, const void *b)
{
        const struct process *pa = a, *pb = b;

        return pa->pid < pb->pid ? -1 : pa->pid > pb->pid;
}

static int
process_cmp_name(const void *a, const void *b)
{
        const struct process *pa = a, *pb = b;

        return strcmp(pa->name, pb->name);
}

double
process_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
process_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void process_trim_cb(evutil_socket_t, short, void *);

struct process_table *
process_table_new(struct corrald *d)
{
        struct process_table *t = xcalloc(1, sizeof *t);

        t->daemon = d;
        t->next_id = 1;
        TAILQ_INIT(&t->all);
        TAILQ_INIT(&t->ended);
        t->trim_ev = event_new(d->base, -1, 0, process_trim_cb, t);
        if (t->trim_ev == NULL)
                fatalx("cannot create an event");
        return t;
}

static void
process_noop_free(void *p)
{
}

void
process_free(struct process *p)
{
        /* Its spawner's list must not keep a pointer to it. */
        if (p->pins != NULL)
                process_pin_drop(p);
        if (p->timer != NULL)
                event_free(p->timer);
        stdin_feed_free(p->feed);
        output_free(p->output);
        privs_free(p->privs);
        strv_free(p->argv);
        strv_free(p->env);
        strv_free(p->extra_env);
        free(p->cwd);
        free(p->stdin_data);
        free(p->stdin_queue);
        free(p->starts);
        free(p->status);
        free(p->reason);
        free(p->after);
        free(p->dependents);
        free(p->name);
        free(p->pool_name);
        free(p);
}

void
process_table_free(struct process_table *t)
{
        struct process *p;

        tdestroy(t->by_id, process_noop_free);
        tdestroy(t->by_pid, process_noop_free);
        tdestroy(t->by_name, process_noop_free);
        while ((p = TAILQ_FIRST(&t->all)) != NULL) {
                TAILQ_REMOVE(&t->all, p, entry);
                process_free(p);
        }
        event_free(t->trim_ev);
        free(t);
}

unsigned
process_table_live(const struct process_table *t)
{
        return t->live;
}

unsigned
process_table_owned(const struct process_table *t, uid_t uid)
{
        const struct process *p;
        unsigned n = 0;

        TAILQ_FOREACH(p, &t->all, entry)
        {
                if (p->owner == uid && !process_is_final(p))
                        n++;
        }
        return n;
}

unsigned
process_table_history(const struct process_table *t)
{
        return t->ended_count;
}

unsigned
process_table_pinned(const struct process_table *t)
{
        return t->pinned;
}

unsigned
process_table_running(const struct process_table *t)
{
        return t->running;
}

struct process_list *
process_table_list(struct process_table *t)
{
        return &t->all;
}

struct process *
process_find_id(struct process_table *t, uint64_t id)
{
        struct process key = {.id = id};
        void *node = tfind(&key, &t->by_id, process_cmp_id);

        return node != NULL ? *(struct process **)node : NULL;
}

struct process *
process_find_pid(struct process_table *t, pid_t pid)
{
        struct process key = {.pid = pid};
        void *node = tfind(&key, &t->by_pid, process_cmp_pid);

        return node != NULL ? *(struct process **)node : NULL;
}

struct process *
process_find_name(struct process_table *t, const char *name)
{
        struct process key = {.name = (char *)name};
        void *node = tfind(&key, &t->by_name, process_cmp_name);

        return node != NULL ? *(struct process **)node : NULL;
}

struct process *
process_find_target(struct process_table *t, const struct proto_target *target, struct request *req)
{
        struct process *p;

        if (target->has_id) {
                if ((p = process_find_id(t, target->id)) == NULL)
                        request_error(req, PROTO_E_NOT_FOUND, "id", "no process with id %llu",
                                      (unsigned long long)target->id);
                return p;
        }
        if ((p = process_find_name(t, target->name)) == NULL)
                request_error(req, PROTO_E_NOT_FOUND, "name", "no process named '%s'",
                              target->name);
        return p;
}

void
process_pid_forget(struct process_table *t, struct process *p)
{
        tdelete(p, &t->by_pid, process_cmp_pid);
        p->alive = false; /* pid stays in the record: the last run's */
}

void
process_pid_learn(struct process_table *t, struct process *p)
{
        if (tsearch(p, &t->by_pid, process_cmp_pid) == NULL)
                fatalx("out of memory indexing a process");
        p->alive = true;
}

/* A default name from argv[0]'s basename, made valid: "<base>.<id>". */
static char *
process_default_name(struct process_table *t, const char *argv0, uint64_t id)
{
        const char *base = strrchr(argv0, '/');
        char stem[40], *name;
        size_t i, n = 0;
        unsigned extra = 0;

        base = base != NULL ? base + 1 : argv0;
        for (i = 0; base[i] != '\0' && n < sizeof stem - 1; i++) {
                char c = base[i];
                int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || strchr("._@:+-", c) != NULL;

                if (n == 0 && (c == '-' || c == '.'))
                        ok = 0;
                stem[n++] = ok ? c : '_';
        }
        if (n == 0)
                stem[n++] = 'p';
        stem[n] = '\0';
        xasprintf(&name, "%s.%llu", stem, (unsigned long long)id);
        /* A user may have taken this exact name; never share it with a live process. */
        for (;;) {
                struct process *o = process_find_name(t, name);

                if (o == NULL || process_is_final(o))
                        return name;
                free(name);
                xasprintf(&name, "%s.%llu.%u", stem, (unsigned long long)id, ++extra);
        }
}

/* The overrides a run gets: its own, its pool's, and NOTIFY_SOCKET. */
static char **
process_env_overrides(const struct process *p, char **notify_var)
{
        size_t n1 = strv_len((const char *const *)p->env),
               n2 = strv_len((const char *const *)p->extra_env), i = 0;
        const char *path = notify_path(p->table->daemon->notify);
        char **all = xcalloc(n1 + n2 + 2, sizeof *all);

        for (size_t k = 0; k < n2; k++)
                all[i++] = p->extra_env[k];
        for (size_t k = 0; k < n1; k++)
                all[i++] = p->env[k]; /* the process's own win over the pool's */
        *notify_var = NULL;
        if (p->policy.ready == READY_NOTIFY && path != NULL) {
                xasprintf(notify_var, "NOTIFY_SOCKET=%s", path);
                all[i++] = *notify_var;
        }
        all[i] = NULL;
        return all;
}

int
process_exec(struct process *p, struct proto_error *err)
{
        struct spawn_req req = {
            .argv = (const char *const *)p->argv, .cwd = p->cwd, .stdin_fd = -1};
        char **env = NULL, **overrides, *notify_var;
        const char *what = "exec";
        int pipefd[2] = {-1, -1}, saved;
        pid_t pid;

        /* Who it runs as: its own (a client's identity), else its pool's settings. */
        req.privs = p->privs != NULL ? p->privs : p->pool != NULL ? p->pool->privs : NULL;
        req.nofile = &p->table->daemon->config.child_nofile;
        overrides = process_env_overrides(p, &notify_var);
        if (overrides[0] != NULL || p->env_clear)
                req.envp = env = spawn_env_build((const char *const *)overrides, p->env_clear);
        else
                req.envp = environ;
        free(overrides);
        free(notify_var);
        if (output_prepare(p->output, &req, err) != 0) {
                strv_free(env);
                output_spawned(p->output, false);
                errno = EINVAL;
                return -1;
        }
        if (p->stdin_queue != NULL &&
            queue_find(p->table->daemon->queues, p->stdin_queue) == NULL) {
                proto_error_set(err, PROTO_E_NOT_FOUND, "stdin_queue", "no queue named '%s'",
                                p->stdin_queue);
                strv_free(env);
                output_spawned(p->output, false);
                errno = ENOENT;
                return -1;
        }
        if (p->has_stdin || p->stdin_queue != NULL) {
                if (pipe2(pipefd, O_CLOEXEC) == -1) {
                        saved = errno;
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "stdin",
                                        "cannot create a stdin pipe: %s", strerror(saved));
                        strv_free(env);
                        output_spawned(p->output, false);
                        errno = saved;
                        return -1;
                }
                req.stdin_fd = pipefd[0];
        }
        if (p->pool != NULL && (req.cgroup_fd = cgroups_process_open(p->table->daemon->cgroups,
                                                                     p->pool_name, p->id)) != -1)
                req.flags |= SPAWN_CGROUP;
        /* A spawn takes a while: what a batch has for its clients (events, answers) goes first. */
        conn_batch_flush(p->table->daemon);
        pid = spawn_start(&req, &what);
        saved = errno;
        if (req.flags & SPAWN_CGROUP)
                close(req.cgroup_fd);
        output_spawned(p->output, pid != -1);
        strv_free(env);
        if (pipefd[0] != -1)
                close(pipefd[0]);
        if (pid == -1) {
                if (pipefd[1] != -1)
                        close(pipefd[1]);
                if (strcmp(what, "cwd") == 0)
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "cwd", "cwd '%s': %s", p->cwd,
                                        strerror(saved));
                else
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "argv", "cannot run '%s': %s",
                                        p->argv[0], strerror(saved));
                errno = saved;
                return -1;
        }
        p->pid = pid;
        stdin_feed_free(p->feed); /* an earlier run's, if any */
        p->feed = NULL;
        if (pipefd[1] != -1 && p->stdin_queue != NULL)
                p->feed = stdin_feed_queue_new(p->table->daemon, pipefd[1], p->stdin_queue);
        else if (pipefd[1] != -1)
                p->feed =
                    stdin_feed_new(p->table->daemon->base, pipefd[1], p->stdin_data, p->stdin_len);
        return 0;
}

/* Resolve `after` into ids; not_found names the missing one. */
static int
process_resolve_after(struct process_table *t, struct process *p, const struct proto_p_spawn *sp,
                      struct proto_error *err)
{
        size_t i;

        if (sp->nafter == 0)
                return 0;
        p->after = xcalloc(sp->nafter, sizeof *p->after);
        for (i = 0; i < sp->nafter; i++) {
                const struct proto_target *tg = &sp->after[i];
                struct process *d =
                    tg->has_id ? process_find_id(t, tg->id) : process_find_name(t, tg->name);

                if (d == NULL) {
                        if (tg->has_id)
                                proto_error_set(err, PROTO_E_NOT_FOUND, "after",
                                                "after: no process with id %llu",
                                                (unsigned long long)tg->id);
                        else
                                proto_error_set(err, PROTO_E_NOT_FOUND, "after",
                                                "after: no process named '%s'", tg->name);
                        return -1;
                }
                p->after[p->nafter++] = d->id;
        }
        return 0;
}

/* A new record from a spawn request; not registered yet. */
static struct process *
process_alloc(struct process_table *t, const struct process_spec *ps,
              const struct output_config *ocfg)
{
        const struct proto_p_spawn *sp = ps->sp;
        struct process *p = xcalloc(1, sizeof *p);

        p->table = t;
        p->pool = ps->pool;
        p->pool_name = xstrdup(ps->pool->name);
        p->argv = strv_copy(sp->argv, sp->argc);
        p->env = strv_copy(sp->env, sp->nenv);
        p->env_clear = sp->env_clear;
        p->cwd = sp->cwd != NULL ? xstrdup(sp->cwd) : NULL;
        if (sp->has_stdin) {
                p->has_stdin = true;
                p->stdin_len = sp->stdin_len;
                p->stdin_data = xmalloc(sp->stdin_len);
                memcpy(p->stdin_data, sp->stdin_data, sp->stdin_len);
        }
        p->stdin_queue = sp->stdin_queue != NULL ? xstrdup(sp->stdin_queue) : NULL;
        p->extra_env = strv_copy(ps->extra_env, (size_t)-1);
        p->privs = ps->privs;
        p->owner = ps->owner;
        p->worker_index = ps->worker_index;
        p->policy = ps->pool->defaults;
        policy_apply(&p->policy, &sp->policy);
        p->priority = sp->has_priority ? (int)sp->priority : 0;
        p->seq = t->next_seq++;
        p->state = PROCESS_PENDING;
        p->exit_code = -1;
        p->delay = p->policy.restart_delay;
        p->created_at = process_now();
        p->starts = xcalloc(p->policy.start_limit_burst + 1, sizeof *p->starts);
        p->output = output_new(t->daemon, p, ocfg);
        TAILQ_INIT(&p->waiters);
        TAILQ_INIT(&p->ready_waiters);
        return p;
}

void
process_redefine(struct process *p, const char *const *argv, const char *const *env,
                 const char *cwd, const struct policy *pol, const struct output_config *ocfg)
{
        unsigned burst = p->policy.start_limit_burst;

        strv_free(p->argv);
        strv_free(p->env);
        free(p->cwd);
        p->argv = strv_copy(argv, (size_t)-1);
        p->env = strv_copy(env, (size_t)-1);
        p->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
        p->policy = *pol;
        if (pol->start_limit_burst != burst) {
                free(p->starts);
                p->starts = xcalloc(pol->start_limit_burst + 1, sizeof *p->starts);
                p->nstarts = p->starts_head = 0;
        }
        /* The output takes the new destinations when its next run starts. */
        output_reconfigure(p->output, ocfg);
}

void
process_register(struct process_table *t, struct process *p)
{
        TAILQ_INSERT_TAIL(&t->all, p, entry);
        t->count++;
        t->live++;
        if (tsearch(p, &t->by_id, process_cmp_id) == NULL)
                fatalx("out of memory indexing a process");
        /* A name maps to its newest holder. */
        {
                void *node = tsearch(p, &t->by_name, process_cmp_name);

                if (node == NULL)
                        fatalx("out of memory indexing a process name");
                *(struct process **)node = p;
        }
        pool_add_member(p->pool, p);
}

struct process *
process_new(struct process_table *t, const struct process_spec *ps, struct proto_error *err)
{
        const struct proto_p_spawn *sp = ps->sp;
        const char *name = ps->name != NULL ? ps->name : sp->name;
        struct process *p, *o, *failed_dep;
        struct output_config ocfg;
        bool now;

        if (t->live >= t->daemon->config.max_processes) {
                proto_error_set(err, PROTO_E_LIMIT_REACHED, NULL,
                                "corrald supervises at most %u live processes",
                                t->daemon->config.max_processes);
                privs_free(ps->privs);
                return NULL;
        }
        if (name != NULL && (o = process_find_name(t, name)) != NULL && !process_is_final(o)) {
                proto_error_set(err, PROTO_E_EXISTS, "name",
                                "a process named '%s' is still alive (id %llu)", name,
                                (unsigned long long)o->id);
                privs_free(ps->privs); /* ours, whatever happens */
                return NULL;
        }
        /* The pool's output settings, with this spawn's on top. */
        output_config_copy(&ocfg, &ps->pool->output);
        if (output_config_apply(&ocfg, &sp->output, err) != 0) {
                output_config_clear(&ocfg);
                privs_free(ps->privs);
                return NULL;
        }
        p = process_alloc(t, ps, &ocfg);
        output_config_clear(&ocfg);
        if (process_resolve_after(t, p, sp, err) != 0) {
                process_free(p);
                return NULL;
        }
        /*
         * The id first: dependencies record it and the process's cgroup is
         * named after it. An exec that fails leaves a gap, never a reuse.
         */
        p->id = t->next_id++;
        failed_dep = process_link_dependencies(p);
        /* First come, first served: nobody overtakes a pending member. */
        now = failed_dep == NULL && process_deps_met(p) && pool_slot_free(ps->pool) &&
              pool_first_startable(ps->pool) == NULL;
        if (now && process_exec(p, err) != 0) {
                process_free(p);
                return NULL;
        }
        p->name = name != NULL ? xstrdup(name) : process_default_name(t, sp->argv[0], p->id);
        process_register(t, p);
        /* Before it can end: a cancelled record ends right here. */
        if (ps->pins != NULL)
                process_pin_attach(p, ps->pins);
        if (now)
                process_launched(p);
        else if (failed_dep != NULL)
                process_cancel_for(p, failed_dep);
        else
                process_wait_turn(p);
        log_debug("process %s (id %llu) %s: %s", p->name, (unsigned long long)p->id,
                  process_state_name(p->state), p->argv[0]);
        return p;
}

/* Evict the oldest ended records beyond the history bound, from the loop. */
static void
process_trim_cb(evutil_socket_t fd, short what, void *arg)
{
        struct process_table *t = arg;
        struct process *p, *next;

        for (p = TAILQ_FIRST(&t->ended); p != NULL && t->ended_count > t->daemon->config.history;
             p = next) {
                next = TAILQ_NEXT(p, ended_entry);
                /* A failed record waiting to retry is not history yet. */
                if (p->timer != NULL && evtimer_pending(p->timer, NULL))
                        continue;
                TAILQ_REMOVE(&t->ended, p, ended_entry);
                p->in_ended = false;
                t->ended_count--;
                TAILQ_REMOVE(&t->all, p, entry);
                t->count--;
                tdelete(p, &t->by_id, process_cmp_id);
                if (process_find_name(t, p->name) == p)
                        tdelete(p, &t->by_name, process_cmp_name);
                if (p->pool != NULL)
                        pool_remove_member(p->pool, p);
                process_free(p);
        }
}

void
process_history_add(struct process_table *t, struct process *p)
{
        TAILQ_INSERT_TAIL(&t->ended, p, ended_entry);
        p->in_ended = true;
        t->ended_count++;
        if (t->ended_count > t->daemon->config.history)
                event_active(t->trim_ev, EV_TIMEOUT, 0);
}

void
process_ended(struct process_table *t, struct process *p)
{
        /* Still valid after the joins: a connection is only freed from the loop. */
        struct process_pins *pins = p->pins;

        t->live--;
        p->ended_at = process_now();
        stdin_feed_free(p->feed);
        p->feed = NULL;
        if (pins != NULL)
                process_pin_ended(p);
        else
                process_history_add(t, p);
        request_waitq_wake(&p->waiters, p);
        /* After the joins: the spawner's own join has just unpinned p. */
        if (pins != NULL)
                process_pins_bound(t, pins);
        process_wake_dependents(p);
        if (t->daemon->stopping && t->live == 0)
                corrald_check_stopped(t->daemon);
}

void
process_revived(struct process_table *t, struct process *p)
{
        t->live++;
        if (p->in_ended) {
                TAILQ_REMOVE(&t->ended, p, ended_entry);
                p->in_ended = false;
                t->ended_count--;
        } else if (p->pin_ended)
                process_pin_revived(p);
}

static const char *const process_state_names[PROCESS_STATE_COUNT] = {
    [PROCESS_PENDING] = "pending", [PROCESS_STARTING] = "starting",
    [PROCESS_RUNNING] = "running", [PROCESS_STOPPING] = "stopping",
    [PROCESS_BACKOFF] = "backoff", [PROCESS_EXITED] = "exited",
    [PROCESS_KILLED] = "killed",   [PROCESS_STOPPED] = "stopped",
    [PROCESS_FAILED] = "failed",   [PROCESS_CANCELLED] = "cancelled",
};

const char *
process_state_name(enum process_state s)
{
        return s < PROCESS_STATE_COUNT ? process_state_names[s] : "unknown";
}

bool
process_is_final(const struct process *p)
{
        return p->state >= PROCESS_EXITED;
}

bool
process_holds_slot(const struct process *p)
{
        return p->state == PROCESS_STARTING || p->state == PROCESS_RUNNING ||
               p->state == PROCESS_STOPPING || p->state == PROCESS_BACKOFF;
}

static void
process_pack_opt_str(msgpack_packer *pk, const char *key, const char *val)
{
        if (val != NULL)
                proto_pack_kv_str(pk, key, val);
        else
                proto_pack_kv_nil(pk, key);
}

void
process_pack(const struct process *p, msgpack_packer *pk)
{
        process_pack_extra(p, pk, 0);
}

void
process_pack_extra(const struct process *p, msgpack_packer *pk, unsigned extra)
{
        size_t argc = strv_len((const char *const *)p->argv), i;
        bool final = process_is_final(p);
        bool exited = p->has_ended_once && p->exit_code >= 0;
        bool signaled = p->has_ended_once && p->term_signal > 0;

        msgpack_pack_map(pk, 20 + extra);
        proto_pack_kv_uint(pk, "id", p->id);
        proto_pack_kv_str(pk, "name", p->name);
        proto_pack_kv_str(pk, "pool", p->pool_name);
        proto_pack_str(pk, "argv");
        msgpack_pack_array(pk, argc);
        for (i = 0; i < argc; i++)
                proto_pack_str(pk, p->argv[i]);
        proto_pack_kv_uint(pk, "pid", (uint64_t)p->pid);
        proto_pack_kv_str(pk, "state", process_state_name(p->state));
        proto_pack_kv_bool(pk, "ready", p->ready);
        proto_pack_kv_double(pk, "created_at", p->created_at);
        if (p->started_at > 0)
                proto_pack_kv_double(pk, "started_at", p->started_at);
        else
                proto_pack_kv_nil(pk, "started_at");
        if (final)
                proto_pack_kv_double(pk, "ended_at", p->ended_at);
        else
                proto_pack_kv_nil(pk, "ended_at");
        /* exit_code / signal: how it ended; last_exit: the last run's, even while restarted. */
        if (final && exited)
                proto_pack_kv_int(pk, "exit_code", p->exit_code);
        else
                proto_pack_kv_nil(pk, "exit_code");
        if (final && signaled)
                proto_pack_kv_str(pk, "signal", proto_signal_name(p->term_signal));
        else
                proto_pack_kv_nil(pk, "signal");
        proto_pack_kv_bool(pk, "core_dumped", p->core_dumped);
        proto_pack_kv_bool(pk, "oom_killed", p->oom_killed);
        proto_pack_str(pk, "last_exit");
        if (exited || signaled) {
                msgpack_pack_map(pk, 2);
                if (exited)
                        proto_pack_kv_int(pk, "exit_code", p->exit_code);
                else
                        proto_pack_kv_nil(pk, "exit_code");
                if (signaled)
                        proto_pack_kv_str(pk, "signal", proto_signal_name(p->term_signal));
                else
                        proto_pack_kv_nil(pk, "signal");
        } else
                msgpack_pack_nil(pk);
        proto_pack_kv_uint(pk, "restarts", p->restarts);
        proto_pack_kv_str(pk, "restart", policy_restart_name(p->policy.restart));
        process_pack_opt_str(pk, "status", p->status);
        process_pack_opt_str(pk, "reason", p->reason);
        if (p->worker_index >= 0)
                proto_pack_kv_int(pk, "worker_index", p->worker_index);
        else
                proto_pack_kv_nil(pk, "worker_index");
}
