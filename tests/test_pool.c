/*
 * test_pool.c -- integration tests of pools: slots and the pending queue
 * (FIFO, priority), replicas (environment, scaling, rolling restart),
 * close, join, terminate (no zombies, no orphaned grandchildren), delete,
 * and a pool carrying on after a worker is killed.
 *
 * Jobs that must overlap wait for a go-ahead file instead of sleeping, so
 * "at most N at once" never depends on timing. Each case starts its own
 * corrald; `test_pool CASE` runs one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sv_support.h"

#define EPS 0.05 /* libevent arms timers from its cached clock: see test_supervise.c */

static struct harness *h;
static struct corral *c;
static struct corral_error err;

static void
setup(void)
{
        sv_start(&h, &c, NULL);
}

static void
teardown(void)
{
        sv_stop(h, c);
        h = NULL;
        c = NULL;
}

/* process.info by name. */
static void
info_name(const char *name, struct sv_proc *out)
{
        struct corral_result res;

        T_ASSERTF(sv_callf(c, "process.info", &res, &err, "{s:s}", "name", name) == 0,
                  "process.info %s: %s %s", name, err.code, err.message);
        sv_proc_decode(&res.obj, out);
        corral_result_free(&res);
}

/* pool.join with a bound; the pool record. */
static void
pool_join(const char *name, struct sv_pool *out)
{
        T_ASSERTF(sv_pool_call(c, "pool.join", out, &err, "{s:s, s:f}", "name", name, "timeout",
                               SV_WAIT) == 0,
                  "pool.join %s: %s %s", name, err.code, err.message);
}

/* A state in which a member has a live run (and holds a slot). */
static bool
is_run_state(const char *s)
{
        return strcmp(s, "starting") == 0 || strcmp(s, "running") == 0 ||
               strcmp(s, "stopping") == 0;
}

/* Replay a pool's process.state events: the most members with a live run at once. */
static int
max_concurrent(const struct sv_sub *s, const char *pool)
{
        int now = 0, max = 0;

        for (size_t i = 0; i < s->n; i++) {
                const struct sv_event *e = &s->ev[i];

                if (strcmp(e->type, "process.state") != 0 || strcmp(e->pool, pool) != 0)
                        continue;
                now += is_run_state(e->to) - is_run_state(e->from);
                if (now > max)
                        max = now;
        }
        return max;
}

/* Ids in the order they went to running (first time each). */
static size_t
start_order(const struct sv_sub *s, uint64_t *ids, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n && n < max; i++) {
                const struct sv_event *e = &s->ev[i];
                bool seen = false;

                if (strcmp(e->type, "process.state") != 0 || strcmp(e->to, "running") != 0)
                        continue;
                for (size_t k = 0; k < n; k++)
                        seen |= ids[k] == e->id;
                if (!seen)
                        ids[n++] = e->id;
        }
        return n;
}

/* ---- slots --------------------------------------------------------------- */

static void
t_slots_limit(void)
{
        static const char *names[] = {"job0", "job1", "job2", "job3", "job4"};
        struct sv_proc p[5], j;
        struct sv_pool pl;
        struct sv_sub *s;
        uint64_t order[5];
        const char *go;
        double prev = 0;

        setup();
        go = harness_path(h, "go");
        s = sv_subscribe(h, "{s:[s]}", "pools", "jobs");
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:i}", "name", "jobs", "size", 2),
             &err);
        T_EQ_INT(pl.size, 2);
        T_EQ_INT(pl.active, 0);
        for (int i = 0; i < 5; i++)
                sv_spawn(c, &p[i], "{s:o, s:s, s:s}", "argv", sv_argv("wait-file", go, NULL),
                         "pool", "jobs", "name", names[i]);
        T_EQ_STR(p[0].state, "running");
        T_EQ_STR(p[1].state, "running");
        for (int i = 2; i < 5; i++) {
                T_EQ_STR(p[i].state, "pending");
                T_EQ_INT(p[i].pid, 0);
        }
        sv_pool_info(c, "jobs", &pl);
        T_EQ_INT(pl.active, 2);
        T_EQ_INT(pl.running, 2);
        T_EQ_INT(pl.pending, 3);
        T_EQ_INT(pl.live, 5);
        T_EQ_INT(pl.nmembers, 5);

        sv_touch(go);
        pool_join("jobs", &pl);
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.active, 0);
        T_EQ_INT(pl.exited, 5);

        T_ASSERT(sv_sub_wait_count(s, 0, "exited", 5, SV_WAIT));
        T_ASSERTF(max_concurrent(s, "jobs") == 2, "%d ran at once:%s", max_concurrent(s, "jobs"),
                  sv_sub_trace(s, 0));
        /* First come, first served. */
        T_EQ_INT(start_order(s, order, 5), 5);
        for (int i = 0; i < 5; i++)
                T_ASSERTF(order[i] == p[i].id, "start order:%s", sv_sub_trace(s, 0));
        for (int i = 0; i < 5; i++) {
                sv_info(c, p[i].id, &j);
                T_EQ_STR(j.state, "exited");
                T_ASSERT(j.has_exit_code && j.exit_code == 0);
                T_ASSERTF(j.started_at >= prev, "job%d started before job%d", i, i - 1);
                prev = j.started_at;
        }
        sv_sub_free(s);
        teardown();
}

static void
t_priority_overtakes(void)
{
        struct sv_proc blocker, low1, low2, mid, high;
        struct sv_pool pl;
        struct sv_sub *s;
        uint64_t order[5];
        const char *go;

        setup();
        go = harness_path(h, "go");
        s = sv_subscribe(h, "{s:[s]}", "pools", "prio");
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s, s:i}", "name", "prio", "size", 1),
             &err);
        sv_spawn(c, &blocker, "{s:o, s:s}", "argv", sv_argv("wait-file", go, NULL), "pool", "prio");
        sv_spawn(c, &low1, "{s:o, s:s}", "argv", sv_argv("wait-file", go, NULL), "pool", "prio");
        sv_spawn(c, &low2, "{s:o, s:s, s:i}", "argv", sv_argv("wait-file", go, NULL), "pool",
                 "prio", "priority", 0);
        sv_spawn(c, &high, "{s:o, s:s, s:i}", "argv", sv_argv("wait-file", go, NULL), "pool",
                 "prio", "priority", -5);
        sv_spawn(c, &mid, "{s:o, s:s, s:i}", "argv", sv_argv("wait-file", go, NULL), "pool", "prio",
                 "priority", -1);
        T_EQ_STR(blocker.state, "running");
        T_EQ_STR(high.state, "pending");
        sv_touch(go);
        pool_join("prio", &pl);
        T_EQ_INT(pl.exited, 5);
        T_ASSERT(sv_sub_wait_count(s, 0, "exited", 5, SV_WAIT));
        T_EQ_INT(max_concurrent(s, "prio"), 1);
        T_EQ_INT(start_order(s, order, 5), 5);
        T_ASSERTF(order[0] == blocker.id && order[1] == high.id && order[2] == mid.id &&
                      order[3] == low1.id && order[4] == low2.id,
                  "start order:%s", sv_sub_trace(s, 0));
        sv_sub_free(s);
        teardown();
}

/* ---- replicas ------------------------------------------------------------ */

static void
t_replicas_env(void)
{
        struct sv_pool pl;
        struct sv_proc w;
        char name[32], path[512], want[64], *env;

        setup();
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:{s:o, s:{s:s}, s:i}}", "name",
                          "web", "replicas", "argv", sv_argv("worker-env", h->dir, NULL), "env",
                          "EXTRA", "yes", "count", 3),
             &err);
        T_ASSERT(pl.has_replicas);
        T_EQ_INT(pl.replicas_count, 3);
        T_EQ_STR(pl.restart, "always"); /* the default for replicas */
        T_EQ_INT(pl.nmembers, 3);
        T_EQ_INT(pl.live, 3);
        for (int i = 0; i < 3; i++) {
                snprintf(name, sizeof name, "web.%d", i);
                info_name(name, &w);
                T_EQ_STR(w.state, "running");
                T_EQ_STR(w.pool, "web");
                T_EQ_INT(w.worker_index, i);
                T_EQ_STR(w.restart, "always");
                snprintf(path, sizeof path, "%s/env.%d", h->dir, i);
                T_ASSERTF(wait_file(path, SV_WAIT), "worker %d wrote no environment", i);
                env = file_read(path, NULL);
                T_ASSERT(env != NULL);
                snprintf(want, sizeof want, "pid=%ld\n", (long)w.pid);
                T_ASSERTF(strncmp(env, want, strlen(want)) == 0, "env of %s:\n%s", name, env);
                T_ASSERTF(strstr(env, "\nCORRAL_POOL=web\n") != NULL, "env of %s:\n%s", name, env);
                snprintf(want, sizeof want, "\nCORRAL_WORKER_INDEX=%d\n", i);
                T_ASSERTF(strstr(env, want) != NULL, "env of %s:\n%s", name, env);
                T_ASSERTF(strstr(env, "\nEXTRA=yes\n") != NULL, "env of %s:\n%s", name, env);
                free(env);
        }
        teardown();
}

static void
worker_pids(const char *pool, int n, pid_t *pids, uint64_t *ids)
{
        char name[32];
        struct sv_proc w;

        for (int i = 0; i < n; i++) {
                snprintf(name, sizeof name, "%s.%d", pool, i);
                info_name(name, &w);
                T_ASSERTF(strcmp(w.state, "running") == 0, "%s is %s", name, w.state);
                pids[i] = w.pid;
                if (ids != NULL)
                        ids[i] = w.id;
        }
}

static void
t_replicas_scale(void)
{
        pid_t before[5], after[5];
        uint64_t ids[5];
        struct sv_pool pl;
        struct sv_proc w;
        struct sv_sub *s;

        setup();
        s = sv_subscribe(h, "{s:[s]}", "pools", "sc");
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:{s:o, s:i}, s:f}", "name", "sc",
                          "replicas", "argv", sv_argv("sleep", "60", NULL), "count", 3,
                          "restart_delay", 0.01),
             &err);
        worker_pids("sc", 3, before, NULL);

        /* Up to 5: two new workers, the three others untouched. */
        T_OK(sv_pool_call(c, "pool.scale", &pl, &err, "{s:s, s:i}", "name", "sc", "count", 5),
             &err);
        T_EQ_INT(pl.replicas_count, 5);
        worker_pids("sc", 5, after, ids);
        for (int i = 0; i < 3; i++)
                T_ASSERTF(after[i] == before[i], "sc.%d: pid %ld became %ld", i, (long)before[i],
                          (long)after[i]);
        info_name("sc.4", &w);
        T_EQ_INT(w.worker_index, 4);

        /* Down to 2: the highest three stop for good, the others untouched. */
        T_OK(sv_pool_call(c, "pool.scale", &pl, &err, "{s:s, s:i}", "name", "sc", "count", 2),
             &err);
        T_EQ_INT(pl.replicas_count, 2);
        for (int i = 2; i < 5; i++) {
                sv_join(c, ids[i], &w);
                T_EQ_STR(w.state, "stopped");
                T_ASSERT(wait_pid_gone(after[i], h->pid, 10));
        }
        worker_pids("sc", 2, before, NULL);
        T_ASSERT(before[0] == after[0] && before[1] == after[1]);
        sv_sub_poll(s, 0.3);
        for (int i = 2; i < 5; i++)
                T_EQ_INT(sv_sub_count(s, ids[i], "running"), 1); /* not restarted */
        sv_pool_info(c, "sc", &pl);
        T_EQ_INT(pl.live, 2);
        T_EQ_INT(pl.running, 2);
        T_ASSERT(sv_sub_find(s, 0, "pool.scaled", 0, NULL) >= 0);

        /* Up again: a new record for index 2. */
        T_OK(sv_pool_call(c, "pool.scale", &pl, &err, "{s:s, s:i}", "name", "sc", "count", 3),
             &err);
        info_name("sc.2", &w);
        T_EQ_STR(w.state, "running");
        T_ASSERT(w.id != ids[2]);
        T_EQ_INT(w.worker_index, 2);

        /* A pool without replicas cannot be scaled. */
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s}", "name", "plain"), &err);
        T_ERR(sv_pool_call(c, "pool.scale", NULL, &err, "{s:s, s:i}", "name", "plain", "count", 2),
              &err, "invalid_params");
        T_ERR(sv_pool_call(c, "pool.scale", NULL, &err, "{s:s, s:i}", "name", "nosuch", "count", 2),
              &err, "not_found");
        sv_sub_free(s);
        teardown();
}

/*
 * Rolling restart of notify workers: each gets a new pid, and the next is
 * stopped only once the previous is running and ready again, so never
 * more than one member is not running.
 */
static void
t_rolling_restart(void)
{
        pid_t before[3], after[3];
        uint64_t ids[3];
        struct sv_pool pl;
        struct sv_proc w;
        struct sv_sub *s;
        int notrun = 0, maxnot = 0;
        long done;

        setup();
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:{s:o, s:i}, s:s}", "name", "roll",
                          "replicas", "argv", sv_argv("notify-ready", "0.2", "up", NULL), "count",
                          3, "ready", "notify"),
             &err);
        for (int i = 0; i < 3; i++) {
                T_ASSERT(sv_wait_proc(c, pl.members[i], "running", 0, SV_WAIT, &w));
                ids[i] = w.id;
                before[i] = w.pid;
        }
        s = sv_subscribe(h, "{s:[s]}", "pools", "roll");
        T_OK(sv_pool_call(c, "pool.restart", &pl, &err, "{s:s}", "name", "roll"), &err);
        T_ASSERT(!pl.rolling);
        for (int i = 0; i < 3; i++) {
                sv_info(c, ids[i], &w);
                T_EQ_STR(w.state, "running");
                T_ASSERT(w.ready);
                T_EQ_INT(w.restarts, 1);
                T_ASSERT(w.pid != before[i]);
                after[i] = w.pid;
                T_ASSERT(wait_pid_gone(before[i], h->pid, 10));
        }
        T_ASSERT(after[0] != after[1] && after[1] != after[2]);

        T_ASSERT(sv_sub_wait_type(s, "pool.restarted", SV_WAIT));
        for (size_t i = 0; i < s->n; i++) {
                const struct sv_event *e = &s->ev[i];

                if (strcmp(e->type, "process.state") != 0)
                        continue;
                notrun += (strcmp(e->from, "running") == 0) - (strcmp(e->to, "running") == 0);
                if (notrun > maxnot)
                        maxnot = notrun;
        }
        T_ASSERTF(maxnot == 1 && notrun == 0, "%d members down at once:%s", maxnot,
                  sv_sub_trace(s, 0));
        for (int i = 0; i < 3; i++) {
                T_EQ_INT(sv_sub_count(s, ids[i], "stopping"), 1);
                T_EQ_INT(sv_sub_count(s, ids[i], "starting"), 1);
                T_EQ_INT(sv_sub_count(s, ids[i], "running"), 1);
        }
        /* The answer's event comes after the last member is up again. */
        done = sv_sub_find(s, 0, "pool.restarted", 0, NULL);
        for (int i = 0; i < 3; i++)
                T_ASSERT(sv_sub_find(s, 0, "process.state", ids[i], "running") < done);
        sv_sub_free(s);
        teardown();
}

/* ---- close, join ----------------------------------------------------------- */

static void
t_close_then_spawn(void)
{
        struct sv_proc p, q, t;
        struct sv_pool pl;

        setup();
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s}", "name", "cl"), &err);
        sv_spawn(c, &p, "{s:o, s:s}", "argv", sv_argv("sleep", "60", NULL), "pool", "cl");
        T_OK(sv_pool_call(c, "pool.close", &pl, &err, "{s:s}", "name", "cl"), &err);
        T_ASSERT(pl.closed);
        T_ERR(sv_spawn_try(c, &q, &err, "{s:o, s:s}", "argv", sv_argv("sleep", "60", NULL), "pool",
                           "cl"),
              &err, "closed");
        T_EQ_STR(err.field, "pool");
        /* Members keep running; closing twice is harmless. */
        sv_info(c, p.id, &q);
        T_EQ_STR(q.state, "running");
        T_OK(sv_pool_call(c, "pool.close", &pl, &err, "{s:s}", "name", "cl"), &err);
        T_ASSERT(pl.closed);
        T_EQ_INT(pl.live, 1);
        T_ERR(sv_pool_call(c, "pool.join", NULL, &err, "{s:s, s:f}", "name", "cl", "timeout", 0.0),
              &err, "timeout");
        sv_terminate_wait(c, p.id, &t);
        pool_join("cl", &pl);
        T_EQ_INT(pl.live, 0);
        T_ERR(sv_pool_call(c, "pool.close", NULL, &err, "{s:s}", "name", "nosuch"), &err,
              "not_found");
        teardown();
}

static void
pk_join_jn(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 2);
        pk_kv_str(pk, "name", "jn");
        pk_kv_double(pk, "timeout", SV_WAIT);
}

static void
t_join(void)
{
        struct sv_proc p;
        struct sv_pool pl;
        msgpack_unpacked m;
        struct raw *r;
        const char *go;
        double t0, dt;

        setup();
        go = harness_path(h, "go");
        /* A pool without live members answers at once. */
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s}", "name", "empty"), &err);
        T_OK(sv_pool_call(c, "pool.join", &pl, &err, "{s:s, s:f}", "name", "empty", "timeout", 0.0),
             &err);
        T_ERR(sv_pool_call(c, "pool.join", NULL, &err, "{s:s}", "name", "nosuch"), &err,
              "not_found");

        sv_spawn(c, &p, "{s:o, s:s}", "argv", sv_argv("wait-file", go, NULL), "pool", "jn");
        t0 = now_mono();
        T_ERR(sv_pool_call(c, "pool.join", NULL, &err, "{s:s, s:f}", "name", "jn", "timeout", 0.3),
              &err, "timeout");
        dt = now_mono() - t0;
        T_ASSERTF(dt >= 0.3 - EPS && dt < 15, "join timed out after %.3f s", dt);

        /* A waiting join answers once the last member ends. */
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
        raw_request(r, 7, "pool.join", pk_join_jn, NULL);
        T_EQ_INT(raw_next(r, 0.3, &m), -1); /* still waiting */
        T_OK(corral_ping(c, &err), &err);   /* and the daemon serves others */
        sv_touch(go);
        raw_response(r, SV_WAIT, &m);
        T_EQ_INT(resp_msgid(&m.data), 7);
        T_ASSERTF(resp_error(&m.data) == NULL, "pool.join: %s", resp_error_str(&m.data, "message"));
        sv_pool_decode(resp_result(&m.data), &pl);
        T_EQ_STR(pl.name, "jn");
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.exited, 1);
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        teardown();
}

/* ---- terminate, delete ----------------------------------------------------- */

static bool
no_zombies(void *arg)
{
        return proc_zombie_children(*(pid_t *)arg) == 0;
}

static void
t_terminate_no_orphans(void)
{
        struct sv_proc p[3], w;
        pid_t gc[5];
        struct sv_pool pl;
        char path[512];

        setup();
        for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof path, "%s/job%d.pid", h->dir, i);
                sv_spawn(c, &p[i], "{s:o, s:s}", "argv", sv_argv("spawn-grandchild", path, NULL),
                         "pool", "gc");
                gc[i] = sv_read_pid(path, SV_WAIT);
                T_EQ_INT(getpgid(gc[i]), p[i].pid);
        }
        snprintf(path, sizeof path, "%s/worker{i}.pid", h->dir);
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:{s:o, s:i}, s:f}", "name", "gcr",
                          "replicas", "argv", sv_argv("spawn-grandchild", path, NULL), "count", 2,
                          "restart_delay", 0.01),
             &err);
        for (int i = 0; i < 2; i++) {
                snprintf(path, sizeof path, "%s/worker%d.pid", h->dir, i);
                gc[3 + i] = sv_read_pid(path, SV_WAIT);
        }

        T_OK(sv_pool_call(c, "pool.terminate", &pl, &err, "{s:s, s:b}", "name", "gc", "wait", 1),
             &err);
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.stopped, 3);
        for (int i = 0; i < 3; i++) {
                sv_info(c, p[i].id, &w);
                T_EQ_STR(w.state, "stopped");
                T_ASSERT(wait_pid_gone(p[i].pid, h->pid, 10));
                T_ASSERTF(wait_pid_gone(gc[i], h->pid, 10), "grandchild %ld of job %d left behind",
                          (long)gc[i], i);
        }

        T_OK(sv_pool_call(c, "pool.terminate", &pl, &err, "{s:s, s:b}", "name", "gcr", "wait", 1),
             &err);
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.replicas_count, 0);
        for (int i = 3; i < 5; i++)
                T_ASSERTF(wait_pid_gone(gc[i], h->pid, 10),
                          "grandchild %ld of a worker left behind", (long)gc[i]);
        /* Replicas are not brought back. */
        usleep(300000);
        sv_pool_info(c, "gcr", &pl);
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.stopped, 2);
        T_ASSERTF(wait_until(no_zombies, &h->pid, 10), "%d zombies of corrald",
                  proc_zombie_children(h->pid));
        teardown();
}

static void
t_delete(void)
{
        struct corral_result res;
        const msgpack_object *pools;
        struct sv_proc p, q;
        struct sv_pool pl;

        setup();
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s, s:i}", "name", "del", "size", 3),
             &err);
        sv_spawn(c, &p, "{s:o, s:s}", "argv", sv_argv("sleep", "60", NULL), "pool", "del");
        T_OK(sv_callf(c, "pool.delete", NULL, &err, "{s:s}", "name", "del"), &err);
        /* The answer came once the member had ended. */
        sv_info(c, p.id, &q);
        T_EQ_STR(q.state, "stopped");
        T_EQ_STR(q.pool, "del"); /* ended records keep the name */
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));
        T_ERR(sv_pool_call(c, "pool.info", NULL, &err, "{s:s}", "name", "del"), &err, "not_found");
        T_OK(sv_callf(c, "pool.list", &res, &err, NULL), &err);
        pools = obj_get(&res.obj, "pools");
        T_ASSERT(pools != NULL && pools->type == MSGPACK_OBJECT_ARRAY);
        for (uint32_t i = 0; i < pools->via.array.size; i++)
                T_ASSERT(strcmp(obj_str(obj_get(&pools->via.array.ptr[i], "name")), "del") != 0);
        corral_result_free(&res);
        /* Its records cannot be started: the pool is gone. */
        T_ERR(sv_proc_call(c, "process.start", p.id, &q, &err, NULL, NULL), &err, "not_found");
        T_EQ_STR(err.field, "pool");

        T_ERR(sv_callf(c, "pool.delete", NULL, &err, "{s:s}", "name", "default"), &err,
              "invalid_params");
        T_ERR(sv_callf(c, "pool.delete", NULL, &err, "{s:s}", "name", "nosuch"), &err, "not_found");
        /* The name can be used again: a new pool with the defaults. */
        sv_spawn(c, &q, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "del");
        sv_pool_info(c, "del", &pl);
        T_EQ_INT(pl.size, 0);
        teardown();
}

/* A worker SIGKILLed mid-pool: restarted, the pool carries on, terminate and join still answer. */
static void
t_worker_killed(void)
{
        struct sv_proc w0, w1, q;
        struct sv_pool pl;
        double t0;

        setup();
        T_OK(sv_pool_call(c, "pool.create", &pl, &err, "{s:s, s:{s:o, s:i}, s:f}", "name", "wk",
                          "replicas", "argv", sv_argv("sleep", "60", NULL), "count", 2,
                          "restart_delay", 0.05),
             &err);
        info_name("wk.0", &w0);
        info_name("wk.1", &w1);
        T_ASSERT(kill(w0.pid, SIGKILL) == 0);
        T_ASSERT(sv_wait_proc(c, w0.id, "running", 1, SV_WAIT, &q));
        T_ASSERT(q.pid != w0.pid);
        T_EQ_STR(q.last_signal, "KILL");
        T_EQ_INT(q.worker_index, 0);
        T_ASSERT(wait_pid_gone(w0.pid, h->pid, 10));
        info_name("wk.1", &q);
        T_EQ_INT(q.pid, w1.pid);
        T_EQ_INT(q.restarts, 0);
        sv_pool_info(c, "wk", &pl);
        T_EQ_INT(pl.running, 2);
        T_EQ_INT(pl.live, 2);

        t0 = now_mono();
        T_OK(sv_pool_call(c, "pool.terminate", NULL, &err, "{s:s}", "name", "wk"), &err);
        pool_join("wk", &pl);
        T_ASSERT(now_mono() - t0 < 15);
        T_EQ_INT(pl.live, 0);
        T_EQ_INT(pl.stopped, 2);
        T_OK(corral_ping(c, &err), &err);
        teardown();
}

/* One case per line: CMake reads them. */
/* clang-format off */
static const struct test_case cases[] = {
    TEST_CASE(slots_limit),
    TEST_CASE(priority_overtakes),
    TEST_CASE(replicas_env),
    TEST_CASE(replicas_scale),
    TEST_CASE(rolling_restart),
    TEST_CASE(close_then_spawn),
    TEST_CASE(join),
    TEST_CASE(terminate_no_orphans),
    TEST_CASE(delete),
    TEST_CASE(worker_killed),
};
/* clang-format on */

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
