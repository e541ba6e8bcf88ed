/*
 * process.c -- the process table: records, lookups by id/pid/name, spawn,
 * history of ended records, and the record's wire form.
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

#include "corrald.h"
#include "log.h"
#include "process-table.h"
#include "process.h"
#include "spawn.h"
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

struct process_table *
process_table_new(struct corrald *d)
{
        struct process_table *t = xcalloc(1, sizeof *t);

        t->daemon = d;
        t->next_id = 1;
        TAILQ_INIT(&t->all);
        TAILQ_INIT(&t->ended);
        return t;
}

static void
process_noop_free(void *p)
{
}

static void
process_free(struct process *p)
{
        char **a;

        if (p->grace_timer != NULL)
                event_free(p->grace_timer);
        stdin_feed_free(p->feed);
        for (a = p->argv; a != NULL && *a != NULL; a++)
                free(*a);
        free(p->argv);
        free(p->name);
        free(p->pool);
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
        free(t);
}

unsigned
process_table_live(const struct process_table *t)
{
        return t->live;
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

/* Make name the newest process's: a name maps to its latest holder. */
static void
process_name_claim(struct process_table *t, struct process *p)
{
        void *node = tsearch(p, &t->by_name, process_cmp_name);

        if (node == NULL)
                fatalx("out of memory indexing a process name");
        *(struct process **)node = p;
}

void
process_pid_forget(struct process_table *t, struct process *p)
{
        tdelete(p, &t->by_pid, process_cmp_pid);
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

static double
process_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char **
process_argv_copy(const char **argv, size_t argc)
{
        char **copy = xcalloc(argc + 1, sizeof *copy);
        size_t i;

        for (i = 0; i < argc; i++)
                copy[i] = xstrdup(argv[i]);
        return copy;
}

/* Run the program; 0 and *pid, or -1 with err filled. */
static int
process_exec(struct process_table *t, const struct proto_p_spawn *sp, pid_t *pid, int *stdin_w,
             struct proto_error *err)
{
        struct spawn_req req = {.argv = sp->argv, .cwd = sp->cwd, .stdin_fd = -1};
        char **env = NULL;
        const char *what = "exec";
        int pipefd[2] = {-1, -1}, saved;

        if (sp->env != NULL || sp->env_clear)
                req.envp = env = spawn_env_build(sp->env, sp->env_clear);
        else
                req.envp = environ;
        if (sp->has_stdin) {
                if (pipe2(pipefd, O_CLOEXEC) == -1) {
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "stdin",
                                        "cannot create a stdin pipe: %s", strerror(errno));
                        spawn_env_free(env);
                        return -1;
                }
                req.stdin_fd = pipefd[0];
        }
        *pid = spawn_start(&req, &what);
        saved = errno;
        spawn_env_free(env);
        if (pipefd[0] != -1)
                close(pipefd[0]);
        if (*pid == -1) {
                if (pipefd[1] != -1)
                        close(pipefd[1]);
                if (strcmp(what, "cwd") == 0)
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "cwd", "cwd '%s': %s", sp->cwd,
                                        strerror(saved));
                else
                        proto_error_set(err, PROTO_E_SPAWN_FAILED, "argv", "cannot run '%s': %s",
                                        sp->argv[0], strerror(saved));
                return -1;
        }
        *stdin_w = pipefd[1];
        (void)t;
        return 0;
}

struct process *
process_spawn(struct process_table *t, const struct proto_p_spawn *sp, struct proto_error *err)
{
        struct process *p, *o;
        pid_t pid;
        int stdin_w = -1;

        if (sp->name != NULL && (o = process_find_name(t, sp->name)) != NULL &&
            !process_is_final(o)) {
                proto_error_set(err, PROTO_E_EXISTS, "name",
                                "a process named '%s' is still alive (id %llu)", sp->name,
                                (unsigned long long)o->id);
                return NULL;
        }
        if (process_exec(t, sp, &pid, &stdin_w, err) != 0)
                return NULL;

        p = xcalloc(1, sizeof *p);
        p->table = t;
        p->id = t->next_id++;
        p->name =
            sp->name != NULL ? xstrdup(sp->name) : process_default_name(t, sp->argv[0], p->id);
        p->pool = xstrdup(sp->pool != NULL ? sp->pool : "default");
        p->argv = process_argv_copy(sp->argv, sp->argc);
        p->pid = pid;
        p->state = PROCESS_RUNNING;
        p->started_at = process_now();
        p->exit_code = -1;
        TAILQ_INIT(&p->waiters);
        TAILQ_INSERT_TAIL(&t->all, p, entry);
        t->count++;
        t->live++;
        if (tsearch(p, &t->by_id, process_cmp_id) == NULL ||
            tsearch(p, &t->by_pid, process_cmp_pid) == NULL)
                fatalx("out of memory indexing a process");
        process_name_claim(t, p);
        if (stdin_w != -1)
                p->feed = stdin_feed_new(t->daemon->base, stdin_w, sp->stdin_data, sp->stdin_len);
        log_debug("process %s (id %llu) started: pid %ld, %s", p->name, (unsigned long long)p->id,
                  (long)pid, p->argv[0]);
        return p;
}

/* Drop the oldest ended records beyond the history bound. */
static void
process_history_trim(struct process_table *t)
{
        struct process *p;

        while (t->ended_count > t->daemon->config.history && (p = TAILQ_FIRST(&t->ended)) != NULL) {
                TAILQ_REMOVE(&t->ended, p, ended_entry);
                TAILQ_REMOVE(&t->all, p, entry);
                t->ended_count--;
                t->count--;
                tdelete(p, &t->by_id, process_cmp_id);
                if (process_find_name(t, p->name) == p)
                        tdelete(p, &t->by_name, process_cmp_name);
                process_free(p);
        }
}

void
process_ended(struct process_table *t, struct process *p)
{
        p->ended_at = process_now();
        if (p->grace_timer != NULL) {
                event_free(p->grace_timer);
                p->grace_timer = NULL;
        }
        stdin_feed_free(p->feed);
        p->feed = NULL;
        t->live--;
        TAILQ_INSERT_TAIL(&t->ended, p, ended_entry);
        t->ended_count++;
        request_waitq_wake(&p->waiters, p);
        /* The waiters have their answers; p may now be evicted. */
        process_history_trim(t);
        if (t->daemon->stopping && t->live == 0)
                corrald_check_stopped(t->daemon);
}

static const char *const process_state_names[PROCESS_STATE_COUNT] = {
    [PROCESS_RUNNING] = "running", [PROCESS_STOPPING] = "stopping", [PROCESS_EXITED] = "exited",
    [PROCESS_KILLED] = "killed",   [PROCESS_STOPPED] = "stopped",   [PROCESS_FAILED] = "failed",
};

const char *
process_state_name(enum process_state s)
{
        return s < PROCESS_STATE_COUNT ? process_state_names[s] : "unknown";
}

bool
process_is_final(const struct process *p)
{
        return p->state == PROCESS_EXITED || p->state == PROCESS_KILLED ||
               p->state == PROCESS_STOPPED || p->state == PROCESS_FAILED;
}

void
process_pack(const struct process *p, msgpack_packer *pk)
{
        size_t argc = 0, i;
        bool final = process_is_final(p);

        msgpack_pack_map(pk, 11);
        proto_pack_kv_uint(pk, "id", p->id);
        proto_pack_kv_str(pk, "name", p->name);
        proto_pack_kv_str(pk, "pool", p->pool);
        proto_pack_str(pk, "argv");
        while (p->argv[argc] != NULL)
                argc++;
        msgpack_pack_array(pk, argc);
        for (i = 0; i < argc; i++)
                proto_pack_str(pk, p->argv[i]);
        proto_pack_kv_uint(pk, "pid", (uint64_t)p->pid);
        proto_pack_kv_str(pk, "state", process_state_name(p->state));
        proto_pack_kv_double(pk, "started_at", p->started_at);
        if (final)
                proto_pack_kv_double(pk, "ended_at", p->ended_at);
        else
                proto_pack_kv_nil(pk, "ended_at");
        if (final && p->exit_code >= 0)
                proto_pack_kv_int(pk, "exit_code", p->exit_code);
        else
                proto_pack_kv_nil(pk, "exit_code");
        if (final && p->term_signal > 0)
                proto_pack_kv_str(pk, "signal", proto_signal_name(p->term_signal));
        else
                proto_pack_kv_nil(pk, "signal");
        proto_pack_kv_bool(pk, "core_dumped", p->core_dumped);
}
