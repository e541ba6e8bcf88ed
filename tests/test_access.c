/*
 * test_access.c -- integration tests of the privilege boundary: the
 * [access] rules (none, read, control, pools=, queues=, pool_user, group
 * rules, reload), the methods only root may call, and what a non-root
 * client's children run as when corrald is root.
 *
 * The tests run as root. Clients with another identity come from
 * sec_support.c: a forked child takes the identity, connects, and hands
 * the socket over while it stays alive as the peer the daemon knows.
 *
 * Cases marked "NOTE FOR THE LEAD" expose a daemon bug: they state the
 * behaviour SECURITY.md promises and fail until the daemon keeps it.
 *
 * Each case starts its own corrald; `test_access CASE` runs one.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec_support.h"

static struct harness *h;
static struct raw *root; /* a full-access client */
static msgpack_unpacked m;

static void
setup(const char *conf)
{
        h = sec_start(conf, NULL);
        root = raw_connect(h->sock);
        msgpack_unpacked_init(&m);
}

static void
teardown(void)
{
        msgpack_unpacked_destroy(&m);
        raw_close(root);
        root = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

/* nobody:nogroup with no supplementary group (the peer of most cases). */
static struct sec_peer *
peer_nobody(struct sec_id *id)
{
        struct sec_id local;

        sec_id(id != NULL ? id : &local, "nobody", NULL, NULL);
        return sec_peer_new(h, id != NULL ? id : &local);
}

/* A process's state as root sees it. */
static const char *
state_of(uint64_t id)
{
        SEC_OK(root, &m, "process.info", "{s:I}", "id", (json_int_t)id);
        return obj_str(obj_get(resp_result(&m.data), "state"));
}

/* Spawn `sh -c '<copy status to drop/NAME>; rest'` into pool on r; the process id. */
static uint64_t
spawn_status(struct raw *r, const char *pool, const char *name, const char *rest)
{
        return sec_spawn(r, pool, "/bin/sh", "-c", sec_status_cmd(sec_drop(h, name), rest));
}

/* The child that wrote drop/NAME ran exactly as id (uid, gid, groups, no capability). */
static void
expect_ran_as(const char *name, const struct sec_id *id)
{
        struct sec_status st;
        char why[512];

        sec_status_read(sec_drop(h, name), &st);
        T_ASSERTF(sec_status_is(&st, id, why, sizeof why),
                  "%s: the child ran with %s; expected uid %ld gid %ld and the client's %zu "
                  "groups",
                  name, why, (long)id->uid, (long)id->gid, id->ngroups);
}

/* The child that wrote drop/NAME ran as uid and gid (whatever its groups), never with root's. */
static void
expect_ran_as_ids(const char *name, uid_t uid, gid_t gid)
{
        struct sec_status st;
        char why[512];
        struct sec_id any = {.uid = uid, .gid = gid};

        sec_status_read(sec_drop(h, name), &st);
        sec_status_is(&st, &any, why, sizeof why);
        T_ASSERTF(st.uid[0] == uid && st.uid[1] == uid && st.uid[2] == uid && st.uid[3] == uid &&
                      st.gid[0] == gid && st.gid[1] == gid && st.gid[2] == gid &&
                      st.gid[3] == gid && st.cap_eff == 0,
                  "%s: the child ran with %s; expected uid %ld gid %ld", name, why, (long)uid,
                  (long)gid);
        for (size_t i = 0; i < st.ngroups; i++)
                T_ASSERTF(st.groups[i] != 0, "%s: the child has root's group: %s", name, why);
}

/* ---- no rule, read, control ----------------------------------------------- */

struct call {
        const char *method;
        const char *json; /* params, or NULL */
        const char *want; /* "" success, or an error code */
};

/* Run a table of calls on r; @ID in json is replaced by id. */
static void
run_calls(struct raw *r, const struct call *calls, size_t n, uint64_t id)
{
        for (size_t i = 0; i < n; i++) {
                char json[512];
                const char *code, *at;

                snprintf(json, sizeof json, "%s", calls[i].json != NULL ? calls[i].json : "");
                if ((at = strstr(calls[i].json != NULL ? calls[i].json : "", "@ID")) != NULL)
                        snprintf(json + (at - calls[i].json),
                                 sizeof json - (size_t)(at - calls[i].json), "%llu%s",
                                 (unsigned long long)id, at + 3);
                code = sec_call_text(r, &m, calls[i].method, calls[i].json != NULL ? json : NULL);
                T_ASSERTF(strcmp(code, calls[i].want) == 0, "%s %s: got %s (%s), expected %s",
                          calls[i].method, calls[i].json != NULL ? json : "",
                          code[0] != '\0' ? code : "success", sec_error_message(&m),
                          calls[i].want[0] != '\0' ? calls[i].want : "success");
        }
}

/* A peer without a rule is refused everything, hello included, and changes nothing. */
static void
t_no_rule_denied(void)
{
        /* clang-format off */
        static const struct call calls[] = {
            {"daemon.hello", NULL, "permission_denied"},
            {"daemon.ping", NULL, "permission_denied"},
            {"daemon.stats", NULL, "permission_denied"},
            {"process.list", NULL, "permission_denied"},
            {"process.info", "{\"id\": @ID}", "permission_denied"},
            {"process.join", "{\"id\": @ID, \"timeout\": 0.0}", "permission_denied"},
            {"process.logs", "{\"id\": @ID}", "permission_denied"},
            {"process.spawn", "{\"argv\": [\"/bin/true\"]}", "permission_denied"},
            {"process.terminate", "{\"id\": @ID}", "permission_denied"},
            {"process.signal", "{\"id\": @ID, \"signal\": \"TERM\"}", "permission_denied"},
            {"process.start", "{\"id\": @ID}", "permission_denied"},
            {"process.restart", "{\"id\": @ID}", "permission_denied"},
            {"pool.list", NULL, "permission_denied"},
            {"pool.info", "{\"name\": \"default\"}", "permission_denied"},
            {"pool.create", "{\"name\": \"x\"}", "permission_denied"},
            {"pool.scale", "{\"name\": \"default\", \"count\": 1}", "permission_denied"},
            {"pool.close", "{\"name\": \"default\"}", "permission_denied"},
            {"pool.delete", "{\"name\": \"x\"}", "permission_denied"},
            {"events.subscribe", NULL, "permission_denied"},
            {"queue.list", NULL, "permission_denied"},
            {"queue.info", "{\"name\": \"q\"}", "permission_denied"},
            {"queue.create", "{\"name\": \"q2\"}", "permission_denied"},
            {"queue.put", "{\"queue\": \"q\", \"data\": \"x\"}", "permission_denied"},
            {"queue.get", "{\"queue\": \"q\", \"timeout\": 0.0}", "permission_denied"},
            {"queue.peek", "{\"queue\": \"q\"}", "permission_denied"},
            {"queue.purge", "{\"name\": \"q\"}", "permission_denied"},
            {"queue.delete", "{\"name\": \"q\"}", "permission_denied"},
            {"daemon.reopen_logs", NULL, "permission_denied"},
            {"daemon.reload", NULL, "permission_denied"},
            {"daemon.shutdown", NULL, "permission_denied"},
        };
        /* clang-format on */
        struct sec_peer *p;
        uint64_t id;

        /* Rules exist, for someone else. */
        setup("[access]\nuser.daemon = control\n");
        id = sec_spawn(root, NULL, "/bin/sleep", "60");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "q");
        p = peer_nobody(NULL);
        run_calls(p->raw, calls, sizeof calls / sizeof calls[0], id);
        /* Refusals are answers, not hang-ups: the connection still gets them. */
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.ping", NULL);
        T_ASSERT(strstr(sec_error_message(&m), "65534") != NULL);
        /* Nothing changed. */
        T_EQ_STR(state_of(id), "running");
        SEC_OK(root, &m, "queue.info", "{s:s}", "name", "q");
        SEC_ERR(root, &m, "not_found", "pool.info", "{s:s}", "name", "x");
        SEC_ERR(root, &m, "not_found", "queue.info", "{s:s}", "name", "q2");
        SEC_OK(root, &m, "pool.info", "{s:s}", "name", "default");
        T_ASSERT(obj_get(resp_result(&m.data), "closed")->type == MSGPACK_OBJECT_BOOLEAN &&
                 !obj_get(resp_result(&m.data), "closed")->via.boolean);
        sec_peer_free(p);
        sec_terminate(root, id);
        teardown();
}

/* read: hello, info, list, logs, joins, events, queue info and peek; nothing that changes. */
static void
t_read_rule(void)
{
        /* clang-format off */
        static const struct call calls[] = {
            {"daemon.hello", NULL, ""},
            {"daemon.ping", NULL, ""},
            {"daemon.stats", NULL, ""},
            {"process.list", NULL, ""},
            {"process.info", "{\"id\": @ID}", ""},
            {"process.join", "{\"id\": @ID, \"timeout\": 0.0}", "timeout"},
            {"process.logs", "{\"id\": @ID}", ""},
            {"pool.list", NULL, ""},
            {"pool.info", "{\"name\": \"a\"}", ""},
            {"pool.join", "{\"name\": \"a\", \"timeout\": 0.0}", "timeout"},
            {"queue.list", NULL, ""},
            {"queue.info", "{\"name\": \"q\"}", ""},
            {"queue.peek", "{\"queue\": \"q\"}", "empty"},
            /* Refused: everything that changes something. */
            {"process.spawn", "{\"argv\": [\"/bin/true\"]}", "permission_denied"},
            {"process.spawn", "{\"argv\": [\"/bin/true\"], \"pool\": \"a\"}", "permission_denied"},
            {"process.terminate", "{\"id\": @ID}", "permission_denied"},
            {"process.signal", "{\"id\": @ID, \"signal\": \"KILL\"}", "permission_denied"},
            {"process.start", "{\"id\": @ID}", "permission_denied"},
            {"process.restart", "{\"id\": @ID}", "permission_denied"},
            {"pool.create", "{\"name\": \"b\"}", "permission_denied"},
            {"pool.scale", "{\"name\": \"a\", \"count\": 0}", "permission_denied"},
            {"pool.close", "{\"name\": \"a\"}", "permission_denied"},
            {"pool.terminate", "{\"name\": \"a\"}", "permission_denied"},
            {"pool.restart", "{\"name\": \"a\"}", "permission_denied"},
            {"pool.delete", "{\"name\": \"a\"}", "permission_denied"},
            {"queue.create", "{\"name\": \"q2\"}", "permission_denied"},
            {"queue.put", "{\"queue\": \"q\", \"data\": \"x\"}", "permission_denied"},
            {"queue.get", "{\"queue\": \"q\", \"timeout\": 0.0}", "permission_denied"},
            {"queue.purge", "{\"name\": \"q\"}", "permission_denied"},
            {"queue.delete", "{\"name\": \"q\"}", "permission_denied"},
            {"daemon.reopen_logs", NULL, "permission_denied"},
            {"daemon.reload", NULL, "permission_denied"},
            {"daemon.shutdown", NULL, "permission_denied"},
            /* Last: from here on events arrive on this connection too. */
            {"events.subscribe", NULL, ""},
        };
        /* clang-format on */
        struct sec_peer *p;
        uint64_t id;

        setup("[access]\nuser.nobody = read\n");
        id = sec_spawn(root, "a", "/bin/sleep", "60");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "q");
        p = peer_nobody(NULL);
        run_calls(p->raw, calls, sizeof calls / sizeof calls[0], id);
        SEC_OK(p->raw, &m, "daemon.ping", NULL);
        /* Nothing changed. */
        T_EQ_STR(state_of(id), "running");
        SEC_OK(root, &m, "queue.info", "{s:s}", "name", "q");
        T_EQ_INT(sec_result_int(&m, "count"), 0);
        SEC_ERR(root, &m, "not_found", "pool.info", "{s:s}", "name", "b");
        SEC_ERR(root, &m, "not_found", "queue.info", "{s:s}", "name", "q2");
        sec_peer_free(p);
        sec_terminate(root, id);
        teardown();
}

/* control pools=a: spawn into and act on a's processes only. */
static void
t_control_pools(void)
{
        struct sec_peer *p;
        uint64_t pa, pb;
        char pbname[80];

        setup("[access]\nuser.nobody = control pools=a\n");
        pb = sec_spawn(root, "b", "/bin/sleep", "60");
        SEC_OK(root, &m, "process.info", "{s:I}", "id", (json_int_t)pb);
        snprintf(pbname, sizeof pbname, "%s", obj_str(obj_get(resp_result(&m.data), "name")));
        p = peer_nobody(NULL);
        /* Its own pool: a first spawn makes the pool. */
        pa = sec_spawn(p->raw, "a", "/bin/sleep", "60");
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s], s:s}", "argv",
                "/bin/true", "pool", "b");
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s]}", "argv", "/bin/true");
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s], s:s}", "argv",
                "/bin/true", "pool", "c");
        /* Another pool's process: by id and by name. */
        SEC_ERR(p->raw, &m, "permission_denied", "process.terminate", "{s:I}", "id",
                (json_int_t)pb);
        SEC_ERR(p->raw, &m, "permission_denied", "process.terminate", "{s:s}", "name", pbname);
        SEC_ERR(p->raw, &m, "permission_denied", "process.signal", "{s:I, s:s}", "id",
                (json_int_t)pb, "signal", "KILL");
        SEC_ERR(p->raw, &m, "permission_denied", "process.restart", "{s:I}", "id", (json_int_t)pb);
        SEC_ERR(p->raw, &m, "permission_denied", "process.start", "{s:I}", "id", (json_int_t)pb);
        /* Another pool. */
        SEC_ERR(p->raw, &m, "permission_denied", "pool.close", "{s:s}", "name", "b");
        SEC_ERR(p->raw, &m, "permission_denied", "pool.terminate", "{s:s}", "name", "b");
        SEC_ERR(p->raw, &m, "permission_denied", "pool.delete", "{s:s}", "name", "b");
        SEC_ERR(p->raw, &m, "permission_denied", "pool.create", "{s:s}", "name", "c");
        SEC_ERR(p->raw, &m, "permission_denied", "pool.close", "{s:s}", "name", "default");
        /* Its own. */
        SEC_OK(p->raw, &m, "process.signal", "{s:I, s:s}", "id", (json_int_t)pa, "signal", "CONT");
        SEC_OK(p->raw, &m, "pool.info", "{s:s}", "name", "a");
        sec_terminate(p->raw, pa);
        T_EQ_STR(state_of(pb), "running");
        SEC_ERR(root, &m, "not_found", "pool.info", "{s:s}", "name", "c");
        sec_peer_free(p);
        sec_terminate(root, pb);
        teardown();
}

/* The names under key (an array of maps with "name" or "pool") in m's result, comma-joined. */
static const char *
names_of(const char *key, const char *field)
{
        static char out[512];
        const msgpack_object *a = obj_get(resp_result(&m.data), key);
        size_t len = 0;

        T_ASSERTF(a != NULL && a->type == MSGPACK_OBJECT_ARRAY, "no %s array", key);
        out[0] = '\0';
        for (uint32_t i = 0; i < a->via.array.size; i++) {
                const char *n = obj_str(obj_get(&a->via.array.ptr[i], field));

                len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                                        n != NULL ? n : "?");
                T_ASSERT(len < sizeof out);
        }
        return out;
}

/* The next event on r (skipping responses): its type, and its pool or queue in who. */
static const char *
next_event(struct raw *r, const char **who)
{
        for (;;) {
                const msgpack_object *o, *ev;
                const char *w;

                T_ASSERTF(raw_next(r, 10.0, &m) == 1, "no event within 10 s");
                o = &m.data;
                if (o->via.array.ptr[0].via.u64 != 2)
                        continue;
                ev = &o->via.array.ptr[2].via.array.ptr[0];
                w = obj_str(obj_get(ev, "pool"));
                *who = w != NULL ? w : obj_str(obj_get(ev, "queue"));
                return obj_str(obj_get(ev, "type"));
        }
}

/* pools= and queues= also bound what the lists and the event stream show. */
static void
t_lists_scoped(void)
{
        struct sec_peer *p;
        struct raw *sub;
        uint64_t pa, pb;
        const char *type, *who;

        setup("[access]\nuser.nobody = control pools=a queues=x\n");
        pb = sec_spawn(root, "b", "/bin/sleep", "60");
        pa = sec_spawn(root, "a", "/bin/sleep", "60");
        SEC_OK(root, &m, "queue.create", "{s:s, s:i}", "name", "x", "maxsize", 1);
        SEC_OK(root, &m, "queue.create", "{s:s, s:i}", "name", "y", "maxsize", 1);
        p = peer_nobody(NULL);
        SEC_OK(p->raw, &m, "pool.list", NULL);
        T_EQ_STR(names_of("pools", "name"), "a");
        SEC_OK(p->raw, &m, "process.list", NULL);
        T_EQ_STR(names_of("processes", "pool"), "a");
        SEC_OK(p->raw, &m, "queue.list", NULL);
        T_EQ_STR(names_of("queues", "name"), "x");
        /* Root still sees everything. */
        SEC_OK(root, &m, "queue.list", NULL);
        T_EQ_STR(names_of("queues", "name"), "x,y");

        /* Events: b's and y's come first, yet only a's and x's reach the peer. */
        sec_peer_free(p);
        p = peer_nobody(NULL);
        sub = p->raw;
        SEC_OK(sub, &m, "events.subscribe", NULL);
        sec_terminate(root, pb);
        SEC_OK(root, &m, "queue.put", "{s:s, s:s}", "queue", "y", "data", "1");
        SEC_ERR(root, &m, "full", "queue.put", "{s:s, s:s, s:f}", "queue", "y", "data", "2",
                "timeout", 0.0);
        SEC_OK(root, &m, "queue.put", "{s:s, s:s}", "queue", "x", "data", "1");
        SEC_ERR(root, &m, "full", "queue.put", "{s:s, s:s, s:f}", "queue", "x", "data", "2",
                "timeout", 0.0);
        sec_terminate(root, pa);
        type = next_event(sub, &who);
        T_EQ_STR(type, "queue.full");
        T_EQ_STR(who, "x");
        do {
                type = next_event(sub, &who);
                T_EQ_STR(who, "a");
        } while (strcmp(type, "process.state") != 0);
        sec_peer_free(p);
        teardown();
}

/* control queues=x: queue methods and stdin_queue on x only. */
static void
t_control_queues(void)
{
        struct sec_peer *p;
        uint64_t id;

        setup("[access]\nuser.nobody = control queues=x\n");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "x");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "y");
        SEC_OK(root, &m, "queue.put", "{s:s, s:s}", "queue", "y", "data", "root's");
        p = peer_nobody(NULL);
        SEC_OK(p->raw, &m, "queue.put", "{s:s, s:s}", "queue", "x", "data", "m1");
        SEC_OK(p->raw, &m, "queue.get", "{s:s, s:f}", "queue", "x", "timeout", 0.0);
        SEC_OK(p->raw, &m, "queue.info", "{s:s}", "name", "x");
        SEC_ERR(p->raw, &m, "permission_denied", "queue.put", "{s:s, s:s}", "queue", "y", "data",
                "m2");
        SEC_ERR(p->raw, &m, "permission_denied", "queue.get", "{s:s, s:f}", "queue", "y", "timeout",
                0.0);
        SEC_ERR(p->raw, &m, "permission_denied", "queue.peek", "{s:s}", "queue", "y");
        SEC_ERR(p->raw, &m, "permission_denied", "queue.purge", "{s:s}", "name", "y");
        SEC_ERR(p->raw, &m, "permission_denied", "queue.delete", "{s:s}", "name", "y");
        SEC_ERR(p->raw, &m, "permission_denied", "queue.create", "{s:s}", "name", "z");
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s], s:s}", "argv",
                "/bin/cat", "stdin_queue", "y");
        id = sec_spawn(p->raw, NULL, "/bin/sleep", "60");
        sec_terminate(p->raw, id);
        SEC_OK(p->raw, &m, "process.spawn", "{s:[s], s:s}", "argv", "/bin/cat", "stdin_queue", "x");
        sec_terminate(p->raw, (uint64_t)sec_result_int(&m, "id"));
        /* y is as root left it. */
        SEC_OK(root, &m, "queue.info", "{s:s}", "name", "y");
        T_EQ_INT(sec_result_int(&m, "count"), 1);
        SEC_ERR(root, &m, "not_found", "queue.info", "{s:s}", "name", "z");
        sec_peer_free(p);
        teardown();
}

/* shutdown, reload and reopen_logs are root's (and corrald's user's) only. */
static void
t_admin_refused(void)
{
        struct sec_peer *p;
        uint64_t id;

        setup("[access]\nuser.nobody = control\n");
        p = peer_nobody(NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.shutdown", NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.reload", NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.reopen_logs", NULL);
        /* It is a control client all the same. */
        id = sec_spawn(p->raw, NULL, "/bin/sleep", "60");
        sec_terminate(p->raw, id);
        SEC_OK(root, &m, "daemon.ping", NULL);
        T_ASSERT(!harness_wait_exit(h, 0.5));
        sec_peer_free(p);
        teardown();
}

/* Only root picks a pool's user, group, nice, OOM score and limits. */
static void
t_pool_create_privs(void)
{
        static const char *const refused[] = {
            "{\"name\": \"p1\", \"user\": \"root\"}",
            "{\"name\": \"p2\", \"group\": \"root\"}",
            "{\"name\": \"p3\", \"user\": \"nobody\"}",
            "{\"name\": \"p4\", \"nice\": -5}",
            "{\"name\": \"p5\", \"oom_score_adjust\": -1000}",
            "{\"name\": \"p6\", \"nofile\": 100000}",
            "{\"name\": \"p7\", \"nproc\": 100000}",
            "{\"name\": \"p8\", \"core\": 1000000}",
            "{\"name\": \"p9\", \"as\": 1099511627776}",
            "{\"name\": \"p10\", \"cpu\": 100}",
        };
        struct sec_peer *p;
        char name[8];

        setup("[access]\nuser.nobody = control\n");
        p = peer_nobody(NULL);
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
                const char *code = sec_call_text(p->raw, &m, "pool.create", refused[i]);

                T_ASSERTF(strcmp(code, "permission_denied") == 0,
                          "pool.create %s by uid 65534: %s (%s), expected permission_denied",
                          refused[i], code[0] ? code : "success", sec_error_message(&m));
        }
        SEC_OK(p->raw, &m, "pool.create", "{s:s}", "name", "plain");
        for (size_t i = 1; i <= sizeof refused / sizeof refused[0]; i++) {
                snprintf(name, sizeof name, "p%zu", i);
                SEC_ERR(root, &m, "not_found", "pool.info", "{s:s}", "name", name);
        }
        SEC_OK(root, &m, "pool.info", "{s:s}", "name", "plain");
        sec_peer_free(p);
        teardown();
}

/* ---- no privilege escalation ------------------------------------------------ */

struct client_arg {
        const char *sock;
        const char *pool;
        const char *cmd;
};

/* A client program run as another user: spawn `sh -c cmd` into pool and wait for it. */
static int
client_spawn_join(void *arg)
{
        struct client_arg *a = arg;
        const char *argv[] = {"/bin/sh", "-c", a->cmd, NULL};
        struct corral_spawn_opts o;
        struct corral_process p, j;
        struct corral_error e;
        struct corral *c;

        memset(&o, 0, sizeof o);
        memset(&e, 0, sizeof e);
        if ((c = corral_connect(a->sock, &e)) == NULL) {
                fprintf(stderr, "client: connect: %s %s\n", e.code, e.message);
                return 1;
        }
        corral_set_timeout(c, SEC_WAIT);
        o.argv = argv;
        o.pool = a->pool;
        if (corral_spawn(c, &o, &p, &e) != 0) {
                fprintf(stderr, "client: spawn into %s: %s %s\n", a->pool ? a->pool : "default",
                        e.code, e.message);
                corral_close(c);
                return 2;
        }
        if (corral_join(c, target_id(p.id), SEC_WAIT, &j, &e) != 0 || j.exit_code != 0) {
                fprintf(stderr, "client: join: %s %s (exit %d)\n", e.code, e.message, j.exit_code);
                corral_close(c);
                return 3;
        }
        corral_process_clear(&p);
        corral_process_clear(&j);
        corral_close(c);
        return 0;
}

/*
 * The whole client runs as nobody (with a supplementary group): what it
 * spawns runs as nobody, its group and its groups -- in the default pool
 * and in a pool configured with user root alike -- never as root.
 */
static void
t_spawn_runs_as_client(void)
{
        struct client_arg a = {NULL, NULL, NULL};
        const char *games[] = {"games", NULL};
        struct sec_id id;

        setup("[access]\nuser.nobody = control\n[pool:rootpool]\nuser = root\n");
        sec_id(&id, "nobody", NULL, games);
        a.sock = h->sock;
        a.cmd = sec_status_cmd(sec_drop(h, "default"), NULL);
        T_EQ_INT(sec_run_as(&id, client_spawn_join, &a), 0);
        expect_ran_as("default", &id);
        a.pool = "rootpool";
        a.cmd = sec_status_cmd(sec_drop(h, "rootpool"), NULL);
        T_EQ_INT(sec_run_as(&id, client_spawn_join, &a), 0);
        expect_ran_as("rootpool", &id);
        /* Root's own spawns in that pool run as root: the pool's user applies to full access. */
        spawn_status(root, "rootpool", "byroot", NULL);
        {
                struct sec_status st;

                sec_status_read(sec_drop(h, "byroot"), &st);
                T_EQ_INT(st.uid[1], 0);
        }
        teardown();
}

/* pool_user: a pool's own configured user is used; without it, the client's identity. */
static void
t_pool_user(void)
{
        struct sec_peer *d, *g;
        struct sec_id did, gid;

        setup("[access]\nuser.daemon = control pool_user\nuser.games = control\n"
              "[pool:asnobody]\nuser = nobody\n");
        sec_id(&did, "daemon", NULL, NULL);
        sec_id(&gid, "games", NULL, NULL);
        d = sec_peer_new(h, &did);
        g = sec_peer_new(h, &gid);
        spawn_status(d->raw, "asnobody", "d-asnobody", NULL);
        expect_ran_as_ids("d-asnobody", sec_uid("nobody"), sec_gid("nogroup"));
        spawn_status(d->raw, NULL, "d-default", NULL);
        expect_ran_as("d-default", &did);
        /* Without pool_user the pool's user is not for this client. */
        spawn_status(g->raw, "asnobody", "g-asnobody", NULL);
        expect_ran_as("g-asnobody", &gid);
        sec_peer_free(d);
        sec_peer_free(g);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug. A pool configured with only `group`
 * (no `user`) gets set_ids with uid = geteuid() (privs.c,
 * privs_resolve(): "only a group: keep corrald's user"), and
 * method-process-spawn.c spawn_run() lets a pool_user client use any pool
 * whose privs have set_ids. So a non-root client with pool_user spawns
 * ROOT processes in such a pool. SECURITY.md: the pool's user is used only
 * if "the pool sets its own user". Expected: the client's own uid.
 */
static void
t_pool_user_group_only(void)
{
        struct sec_peer *d;
        struct sec_id did;

        setup("[access]\nuser.daemon = control pool_user\n[pool:grp]\ngroup = nogroup\n");
        sec_id(&did, "daemon", NULL, NULL);
        d = sec_peer_new(h, &did);
        spawn_status(d->raw, "grp", "grp", NULL);
        {
                struct sec_status st;
                char why[512];

                sec_status_read(sec_drop(h, "grp"), &st);
                sec_status_is(&st, &did, why, sizeof why);
                T_ASSERTF(st.uid[0] == (long)did.uid && st.uid[1] == (long)did.uid &&
                              st.uid[2] == (long)did.uid && st.uid[3] == (long)did.uid &&
                              st.cap_eff == 0,
                          "a pool_user client's child in a pool with only a group ran with %s; "
                          "expected the client's uid %ld",
                          why, (long)did.uid);
        }
        sec_peer_free(d);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (privilege escalation). A non-root
 * control client creates a pool with replicas; pool.c
 * pool_start_worker() spawns them with ps.privs = NULL and ps.owner =
 * geteuid(), so they run as corrald's user: ROOT. (They are not counted
 * against max_processes_per_uid either.) Expected: they run as the client
 * that created the pool (or pool.create with replicas is refused).
 */
static void
t_pool_replicas_as_client(void)
{
        struct sec_peer *p;
        struct sec_id id;
        const char *code;

        setup("[access]\nuser.nobody = control\n");
        p = peer_nobody(&id);
        code = sec_call(p->raw, &m, "pool.create", "{s:s, s:{s:[s,s,s], s:i}}", "name", "rp",
                        "replicas", "argv", "/bin/sh", "-c",
                        sec_status_cmd(sec_drop(h, "replica"), "exec sleep 60"), "count", 1);
        if (strcmp(code, "permission_denied") != 0) {
                T_ASSERTF(code[0] == '\0', "pool.create: %s %s", code, sec_error_message(&m));
                expect_ran_as("replica", &id);
        }
        SEC_OK(root, &m, "pool.terminate", "{s:s, s:b}", "name", "rp", "wait", 1);
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (privilege escalation), the same cause
 * for consuming pools: pool.c pool_start_job() sets ps.owner = geteuid()
 * and no privs, so a non-root client's consuming pool runs each job as
 * root. Expected: as the client.
 */
static void
t_pool_consume_as_client(void)
{
        struct sec_peer *p;
        struct sec_id id;
        const char *code;

        setup("[access]\nuser.nobody = control\n");
        p = peer_nobody(&id);
        SEC_OK(p->raw, &m, "queue.create", "{s:s}", "name", "jobs");
        code = sec_call(p->raw, &m, "pool.create", "{s:s, s:{s:s, s:[s,s,s]}}", "name", "cp",
                        "consume", "queue", "jobs", "argv", "/bin/sh", "-c",
                        sec_status_cmd(sec_drop(h, "job"), NULL));
        if (strcmp(code, "permission_denied") != 0) {
                T_ASSERTF(code[0] == '\0', "pool.create: %s %s", code, sec_error_message(&m));
                SEC_OK(p->raw, &m, "queue.put", "{s:s, s:s}", "queue", "jobs", "data", "job");
                expect_ran_as("job", &id);
        }
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (privilege escalation). Output to
 * "file:PATH" is opened by corrald itself (output-file.c, filesink_open():
 * open(O_WRONLY|O_APPEND|O_CREAT) as root), whoever asked: a non-root
 * client can create or append to any file (/etc/passwd, root's
 * authorized_keys) with its process's output, and with log_max_bytes make
 * corrald rename PATH to PATH.1... Expected: refused for a client that is
 * not full (or the file opened with the client's identity), so that the
 * file below, in a root-only directory, is never created.
 */
static void
t_output_file_as_client(void)
{
        char dir[512], path[600], json[800];
        struct sec_peer *p;
        const char *code;

        setup("[access]\nuser.nobody = control\n");
        snprintf(dir, sizeof dir, "%s/private", h->dir);
        T_ASSERT(mkdir(dir, 0700) == 0);
        snprintf(path, sizeof path, "%s/owned", dir);
        p = peer_nobody(NULL);
        snprintf(json, sizeof json,
                 "{\"argv\": [\"/bin/echo\", \"written by uid 65534\"], \"stdout\": \"file:%s\"}",
                 path);
        code = sec_call_text(p->raw, &m, "process.spawn", json);
        if (code[0] == '\0')
                SEC_OK(p->raw, &m, "process.join", "{s:I, s:f}", "id",
                       (json_int_t)sec_result_int(&m, "id"), "timeout", SEC_WAIT);
        T_ASSERTF(!file_exists(path),
                  "a uid 65534 client had corrald create %s in a root-only directory (spawn "
                  "answered %s)",
                  path, code[0] ? code : "success");
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (scope bypass). access.c
 * access_scope_spawn() only checks stdin_queue against queues=; a
 * "stdout": "queue:NAME" (or stderr) destination puts into any queue.
 * Expected: permission_denied for a queue the rule does not list.
 */
static void
t_queue_scope_output(void)
{
        struct sec_peer *p;
        const char *code;

        setup("[access]\nuser.nobody = control queues=x\n");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "x");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "y");
        p = peer_nobody(NULL);
        code = sec_call(p->raw, &m, "process.spawn", "{s:[s,s], s:s}", "argv", "/bin/echo",
                        "injected", "stdout", "queue:y");
        if (code[0] == '\0')
                SEC_OK(p->raw, &m, "process.join", "{s:I, s:f}", "id",
                       (json_int_t)sec_result_int(&m, "id"), "timeout", SEC_WAIT);
        SEC_OK(root, &m, "queue.info", "{s:s}", "name", "y");
        T_ASSERTF(strcmp(code, "permission_denied") == 0 && sec_result_int(&m, "count") == 0,
                  "a client limited to queues=x wrote to queue y through stdout (spawn: %s; y "
                  "holds %lld messages)",
                  code[0] ? code : "success", (long long)sec_result_int(&m, "count"));
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (scope bypass). queue.create's scope is
 * the new queue's name only (access_scope_queue); its dead_letter may
 * name a queue the rule does not list, and messages that fail in the new
 * queue are then put there. Expected: permission_denied.
 */
static void
t_queue_scope_dead_letter(void)
{
        struct sec_peer *p;

        setup("[access]\nuser.nobody = control queues=x,z\n");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "y");
        p = peer_nobody(NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "queue.create", "{s:s, s:s, s:i}", "name", "z",
                "dead_letter", "y", "max_attempts", 1);
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug (scope bypass). pool.create's scope is
 * the pool's name only (access_scope_pool); consume.queue may name a queue
 * the rule does not list, and the pool then takes (and acks) its messages.
 * Expected: permission_denied.
 */
static void
t_queue_scope_consume(void)
{
        struct sec_peer *p;

        setup("[access]\nuser.nobody = control pools=cp queues=x\n");
        SEC_OK(root, &m, "queue.create", "{s:s}", "name", "y");
        SEC_OK(root, &m, "queue.put", "{s:s, s:s}", "queue", "y", "data", "root's");
        p = peer_nobody(NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "pool.create", "{s:s, s:{s:s, s:[s]}}", "name",
                "cp", "consume", "queue", "y", "argv", "/bin/true");
        SEC_OK(root, &m, "queue.info", "{s:s}", "name", "y");
        T_EQ_INT(sec_result_int(&m, "count"), 1);
        sec_peer_free(p);
        teardown();
}

/* ---- group rules and reload ------------------------------------------------- */

/* A group rule matches the primary or a supplementary group; a user's own rule wins. */
static void
t_group_rule(void)
{
        const char *games[] = {"games", NULL};
        struct sec_peer *a, *b, *c, *d;
        struct sec_id ida, idb, idc, idd;

        setup("[access]\nuser.daemon = read\ngroup.games = control\n");
        sec_id(&ida, "nobody", NULL, games);   /* supplementary games */
        sec_id(&idb, "nobody", NULL, NULL);    /* no games */
        sec_id(&idc, "nobody", "games", NULL); /* primary games */
        sec_id(&idd, "daemon", NULL, games);   /* games, but a user rule of its own */
        a = sec_peer_new(h, &ida);
        b = sec_peer_new(h, &idb);
        c = sec_peer_new(h, &idc);
        d = sec_peer_new(h, &idd);
        spawn_status(a->raw, NULL, "a", NULL);
        expect_ran_as("a", &ida);
        SEC_ERR(b->raw, &m, "permission_denied", "daemon.hello", NULL);
        SEC_ERR(b->raw, &m, "permission_denied", "process.spawn", "{s:[s]}", "argv", "/bin/true");
        spawn_status(c->raw, NULL, "c", NULL);
        expect_ran_as("c", &idc);
        SEC_OK(d->raw, &m, "daemon.hello", NULL);
        SEC_ERR(d->raw, &m, "permission_denied", "process.spawn", "{s:[s]}", "argv", "/bin/true");
        sec_peer_free(a);
        sec_peer_free(b);
        sec_peer_free(c);
        sec_peer_free(d);
        teardown();
}

/* A reload recomputes the grants of connections already open; a bad file changes nothing. */
static void
t_reload_regrants(void)
{
        struct sec_peer *p;
        uint64_t id;

        setup("[access]\nuser.daemon = read\n");
        p = peer_nobody(NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.hello", NULL);

        sec_write_config(h, "[access]\nuser.nobody = control pools=a\n");
        SEC_OK(root, &m, "daemon.reload", NULL);
        SEC_OK(p->raw, &m, "daemon.hello", NULL);
        id = sec_spawn(p->raw, "a", "/bin/sleep", "60");
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s], s:s}", "argv",
                "/bin/true", "pool", "b");

        /* An invalid rule: the reload is refused and the grants stay. */
        sec_write_config(h, "[access]\nuser.nobody = sudo\n");
        SEC_ERR(root, &m, "bad_config", "daemon.reload", NULL);
        SEC_OK(p->raw, &m, "process.signal", "{s:I, s:s}", "id", (json_int_t)id, "signal", "CONT");

        sec_write_config(h, "[access]\nuser.nobody = read\n");
        SEC_OK(root, &m, "daemon.reload", NULL);
        SEC_OK(p->raw, &m, "daemon.hello", NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "process.terminate", "{s:I}", "id",
                (json_int_t)id);

        /* SIGHUP reloads alike. */
        sec_write_config(h, "");
        T_ASSERT(kill(h->pid, SIGHUP) == 0);
        {
                double deadline = now_mono() + SEC_WAIT;
                const char *code;

                while ((code = sec_call(p->raw, &m, "daemon.hello", NULL))[0] == '\0' &&
                       now_mono() < deadline)
                        usleep(20000);
                T_EQ_STR(code, "permission_denied");
        }
        T_EQ_STR(state_of(id), "running");
        sec_terminate(root, id);
        sec_peer_free(p);
        teardown();
}

/* ---- the peer's groups come from its pid ------------------------------------ */

/*
 * Make a root process with supplementary group gid take pid target (free
 * now). Returns its pid (== target), with *ctl to close to let it go; 0
 * if the pid could not be had (no ns_last_pid, or others raced us).
 */
static pid_t
take_pid(pid_t target, gid_t gid, int *ctl)
{
        for (int attempt = 0; attempt < 200; attempt++) {
                int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC), p[2];
                char buf[32], c;
                pid_t pid;

                if (fd == -1)
                        return 0;
                snprintf(buf, sizeof buf, "%ld", (long)target - 1);
                T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
                if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
                        close(fd);
                        close(p[0]);
                        close(p[1]);
                        return 0;
                }
                close(fd);
                pid = fork();
                T_ASSERT(pid != -1);
                if (pid == 0) {
                        close(p[1]);
                        if (setgroups(1, &gid) != 0)
                                _exit(1);
                        while (read(p[0], &c, 1) == -1 && errno == EINTR)
                                ;
                        _exit(0);
                }
                close(p[0]);
                if (pid == target) {
                        *ctl = p[1];
                        /* Wait until its groups are in place. */
                        for (int i = 0; i < 500; i++) {
                                char path[64], *st;
                                bool ok;

                                snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
                                st = file_read(path, NULL);
                                snprintf(buf, sizeof buf, "Groups:\t%ld", (long)gid);
                                ok = st != NULL && strstr(st, buf) != NULL;
                                free(st);
                                if (ok)
                                        return pid;
                                usleep(2000);
                        }
                        return pid;
                }
                close(p[1]);
                waitpid(pid, NULL, 0);
        }
        return 0;
}

/*
 * NOTE FOR THE LEAD: daemon bug (privilege escalation). The groups a
 * non-root client's children get are read at spawn time from
 * /proc/<peer pid>/status (privs.c, privs_for_peer() ->
 * privs_proc_groups()), not taken when the client connected. The peer may
 * have exited and its pid been reused by any process: the children then
 * get that process's groups. Here the client (nobody, no supplementary
 * groups) hands its connection over and exits, a root process in group
 * `disk` takes its pid, and the client's next spawn runs with group disk
 * (raw disk access). Expected: the groups the client had when it
 * connected (SO_PEERGROUPS at accept), or none.
 */
static void
t_peer_pid_reuse(void)
{
        struct sec_peer *p;
        struct sec_id id;
        pid_t pid;
        int ctl = -1;

        setup("[access]\nuser.nobody = control\n");
        p = peer_nobody(&id);
        SEC_OK(p->raw, &m, "daemon.hello", NULL);
        pid = p->pid;
        sec_peer_release(p); /* the client's process is gone; its connection lives on */
        if (take_pid(pid, sec_gid("disk"), &ctl) == 0) {
                printf("SKIP: could not reuse pid %ld (no /proc/sys/kernel/ns_last_pid?)\n",
                       (long)pid);
                sec_peer_free(p);
                teardown();
                return;
        }
        spawn_status(p->raw, NULL, "reused", NULL);
        close(ctl);
        expect_ran_as("reused", &id);
        sec_peer_free(p);
        teardown();
}

/*
 * NOTE FOR THE LEAD: daemon bug, the same cause for grants: a reload
 * recomputes each connection's grant from /proc/<peer pid> (conn.c,
 * conn_regrant_all() -> access.c access_in_group()). A client with no
 * rule, whose pid was reused by a process in a group that has a rule,
 * gains that rule at the next reload. Expected: still permission_denied.
 */
static void
t_peer_pid_reuse_grant(void)
{
        struct sec_peer *p;
        pid_t pid;
        int ctl = -1;

        setup("[access]\ngroup.disk = control\n");
        p = peer_nobody(NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "daemon.hello", NULL);
        pid = p->pid;
        sec_peer_release(p);
        if (take_pid(pid, sec_gid("disk"), &ctl) == 0) {
                printf("SKIP: could not reuse pid %ld (no /proc/sys/kernel/ns_last_pid?)\n",
                       (long)pid);
                sec_peer_free(p);
                teardown();
                return;
        }
        SEC_OK(root, &m, "daemon.reload", NULL);
        SEC_ERR(p->raw, &m, "permission_denied", "process.spawn", "{s:[s]}", "argv", "/bin/true");
        close(ctl);
        sec_peer_free(p);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(no_rule_denied),         TEST_CASE(read_rule),
    TEST_CASE(control_pools),          TEST_CASE(control_queues),
    TEST_CASE(admin_refused),          TEST_CASE(pool_create_privs),
    TEST_CASE(spawn_runs_as_client),   TEST_CASE(pool_user),
    TEST_CASE(pool_user_group_only),   TEST_CASE(pool_replicas_as_client),
    TEST_CASE(pool_consume_as_client), TEST_CASE(output_file_as_client),
    TEST_CASE(queue_scope_output),     TEST_CASE(queue_scope_dead_letter),
    TEST_CASE(queue_scope_consume),    TEST_CASE(group_rule),
    TEST_CASE(reload_regrants),        TEST_CASE(peer_pid_reuse),
    TEST_CASE(peer_pid_reuse_grant),   TEST_CASE(lists_scoped),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
