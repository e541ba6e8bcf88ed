/*
 * test_events.c -- integration tests of the event stream: the order and
 * content of one process's state events, pool events, pool and type
 * filters, requests on a subscribed connection, and a subscriber that
 * never reads (overflow, disconnection, a daemon that keeps serving
 * others with bounded memory).
 *
 * Absence of an event is checked with a sentinel: an event that matches
 * the same filter, caused after everything else; once it has arrived,
 * everything before it has too. Each case starts its own corrald;
 * `test_events CASE` runs one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sv_support.h"

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

/* The process.state events of id, in order, into out (at most max). */
static size_t
events_of(const struct sv_sub *s, uint64_t id, const struct sv_event **out, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n && n < max; i++) {
                if (strcmp(s->ev[i].type, "process.state") == 0 && s->ev[i].id == id)
                        out[n++] = &s->ev[i];
        }
        return n;
}

static void
expect_steps(const struct sv_sub *s, uint64_t id, const char *const *steps)
{
        const struct sv_event *ev[32];
        size_t n = events_of(s, id, ev, 32), k;
        char want[64];

        for (k = 0; steps[k] != NULL; k++) {
                T_ASSERTF(k < n, "missing %s; got:%s", steps[k], sv_sub_trace(s, id));
                snprintf(want, sizeof want, "%s>%s", ev[k]->from, ev[k]->to);
                T_ASSERTF(strcmp(want, steps[k]) == 0, "step %zu is %s, expected %s; got:%s", k,
                          want, steps[k], sv_sub_trace(s, id));
                T_ASSERT(k == 0 || ev[k]->ts >= ev[k - 1]->ts);
        }
        T_ASSERTF(n == k, "more events than expected:%s", sv_sub_trace(s, id));
}

/* ---- one process's events -------------------------------------------------- */

static void
t_state_sequence(void)
{
        static const char *const crash[] = {"pending>running",  "running>backoff",
                                            "backoff>running",  "running>stopping",
                                            "stopping>stopped", NULL};
        static const char *const simple[] = {"pending>running", "running>exited", NULL};
        const struct sv_event *ev[8];
        struct sv_proc p, e, t;
        struct sv_sub *s;
        long pc;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:s, s:f}", "argv",
                 sv_argv("fail-times", harness_path(h, "runs"), "1", "5", NULL), "name", "seq",
                 "pool", "evp", "restart", "on-failure", "restart_delay", 0.01);
        T_ASSERT(sv_sub_wait_count(s, p.id, "running", 2, SV_WAIT));
        sv_terminate_wait(c, p.id, &t);
        T_ASSERT(sv_sub_wait_count(s, p.id, "stopped", 1, SV_WAIT));
        expect_steps(s, p.id, crash);

        events_of(s, p.id, ev, 8);
        for (int k = 0; k < 5; k++) {
                T_EQ_STR(ev[k]->name, "seq");
                T_EQ_STR(ev[k]->pool, "evp");
        }
        T_EQ_INT(ev[0]->pid, p.pid);
        T_EQ_INT(ev[0]->restarts, 0);
        T_ASSERT(!ev[0]->has_exit_code && !ev[0]->has_reason && ev[0]->signal[0] == '\0');
        T_ASSERT(ev[1]->has_exit_code && ev[1]->exit_code == 5); /* why it backs off */
        T_EQ_INT(ev[1]->pid, p.pid);
        T_EQ_INT(ev[1]->restarts, 0);
        T_EQ_INT(ev[2]->restarts, 1);
        T_ASSERT(ev[2]->pid != p.pid && ev[2]->pid == t.pid);
        T_EQ_STR(ev[4]->signal, "TERM");
        T_ASSERT(!ev[4]->has_exit_code);
        T_ASSERT(ev[0]->ts > 0);

        /* The pool was made by the spawn: its event comes first. */
        pc = sv_sub_find(s, 0, "pool.created", 0, NULL);
        T_ASSERTF(pc >= 0 && pc < sv_sub_find(s, 0, "process.state", p.id, NULL), "%s",
                  sv_sub_trace(s, 0));
        T_EQ_STR(s->ev[pc].pool, "evp");

        sv_spawn(c, &e, "{s:o}", "argv", sv_argv("exit-code", "0", NULL));
        T_ASSERT(sv_sub_wait_count(s, e.id, "exited", 1, SV_WAIT));
        expect_steps(s, e.id, simple);
        events_of(s, e.id, ev, 8);
        T_EQ_STR(ev[1]->pool, "default");
        T_ASSERT(ev[1]->has_exit_code && ev[1]->exit_code == 0);
        sv_sub_free(s);
        teardown();
}

/* ---- pool events ------------------------------------------------------------ */

/*
 * The pool events of one pool's life, in order, with their fields. The
 * creation comes first, before any event of its first workers, and the
 * initial replica count is not announced as a scaling.
 *
 * Regression: pool_create() (daemon/pool.c) once emitted "pool.scaled"
 * for the initial workers before "pool.created" (fixed in 752efbb).
 */
static void
t_pool_events(void)
{
        static const char *const want[] = {"pool.created", "pool.scaled", "pool.restarted",
                                           "pool.closed",  "pool.joined", "pool.deleted"};
        const struct sv_event *ev[8];
        struct sv_sub *s;
        long first_state;
        size_t n = 0, i;

        setup();
        s = sv_subscribe(h, "{s:[s]}", "pools", "pe");
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s, s:i, s:{s:o, s:i}}", "name", "pe",
                          "size", 4, "replicas", "argv", sv_argv("sleep", "60", NULL), "count", 1),
             &err);
        T_OK(sv_pool_call(c, "pool.scale", NULL, &err, "{s:s, s:i}", "name", "pe", "count", 2),
             &err);
        T_OK(sv_pool_call(c, "pool.restart", NULL, &err, "{s:s}", "name", "pe"), &err);
        T_OK(sv_pool_call(c, "pool.close", NULL, &err, "{s:s}", "name", "pe"), &err);
        T_OK(sv_pool_call(c, "pool.terminate", NULL, &err, "{s:s, s:b}", "name", "pe", "wait", 1),
             &err);
        T_OK(sv_pool_call(c, "pool.join", NULL, &err, "{s:s, s:f}", "name", "pe", "timeout",
                          SV_WAIT),
             &err);
        T_OK(sv_callf(c, "pool.delete", NULL, &err, "{s:s}", "name", "pe"), &err);
        T_ASSERTF(sv_sub_wait_type(s, "pool.deleted", SV_WAIT), "%s", sv_sub_trace(s, 0));

        first_state = sv_sub_find(s, 0, "process.state", 0, NULL);
        T_ASSERTF(strcmp(s->ev[0].type, "pool.created") == 0 && first_state > 0,
                  "the pool's creation is not its first event:%s", sv_sub_trace(s, 0));
        for (i = 0; i < s->n; i++) {
                T_EQ_STR(s->ev[i].pool, "pe");
                if (strcmp(s->ev[i].type, "process.state") == 0)
                        continue;
                T_EQ_INT(s->ev[i].size, 4);
                T_ASSERTF(n < 8, "events:%s", sv_sub_trace(s, 0));
                ev[n++] = &s->ev[i];
        }
        T_ASSERTF(n == 6, "events:%s", sv_sub_trace(s, 0));
        for (i = 0; i < n; i++)
                T_ASSERTF(strcmp(ev[i]->type, want[i]) == 0, "event %zu is %s, expected %s:%s", i,
                          ev[i]->type, want[i], sv_sub_trace(s, 0));
        T_EQ_INT(ev[0]->replicas, 1);
        T_ASSERT(!ev[0]->closed);
        T_EQ_INT(ev[1]->replicas, 2);
        T_ASSERT(!ev[2]->closed);
        T_ASSERT(ev[3]->closed);
        T_EQ_INT(ev[4]->replicas, 0); /* terminate took the replicas to 0 */
        /* The workers' own events came through the same filter. */
        T_ASSERT(sv_sub_count(s, 0, "running") >= 2);
        sv_sub_free(s);
        teardown();
}

/* ---- filters ------------------------------------------------------------------ */

/* The sentinel pool's creation has arrived. */
static bool
created_end(struct sv_sub *s, void *arg)
{
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->ev[i].type, "pool.created") == 0 &&
                    strcmp(s->ev[i].pool, "zz-end") == 0)
                        return true;
        }
        return false;
}

static void
t_filters(void)
{
        struct sv_sub *by_pool, *by_type, *both, *all;
        struct sv_proc a, b, sa, sb, p;

        setup();
        by_pool = sv_subscribe(h, "{s:[s]}", "pools", "fa");
        by_type = sv_subscribe(h, "{s:[s]}", "types", "pool.created");
        both = sv_subscribe(h, "{s:[s], s:[s]}", "types", "process.state", "pools", "fb");
        all = sv_subscribe(h, NULL);

        sv_spawn(c, &a, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "fa");
        sv_spawn(c, &b, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "fb");
        sv_spawn(c, &p, "{s:o}", "argv", sv_argv("exit-code", "0", NULL));
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s}", "name", "fc"), &err);
        sv_join(c, a.id, &a);
        sv_join(c, b.id, &b);
        sv_join(c, p.id, &p);

        /* Sentinels, one per filter, after everything else. */
        sv_spawn(c, &sa, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "fa");
        sv_spawn(c, &sb, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "fb");
        T_OK(sv_pool_call(c, "pool.create", NULL, &err, "{s:s}", "name", "zz-end"), &err);
        T_ASSERT(sv_sub_wait_count(by_pool, sa.id, "exited", 1, SV_WAIT));
        T_ASSERT(sv_sub_wait_count(both, sb.id, "exited", 1, SV_WAIT));
        T_ASSERTF(sv_sub_wait(by_type, created_end, NULL, SV_WAIT), "no sentinel:%s",
                  sv_sub_trace(by_type, 0));
        T_ASSERT(sv_sub_wait_count(all, sa.id, "exited", 1, SV_WAIT));
        T_ASSERT(sv_sub_wait_count(all, sb.id, "exited", 1, SV_WAIT));
        T_ASSERT(sv_sub_wait(all, created_end, NULL, SV_WAIT));

        /* pools [fa]: its process and pool events, nothing else. */
        for (size_t i = 0; i < by_pool->n; i++)
                T_ASSERTF(strcmp(by_pool->ev[i].pool, "fa") == 0, "pool filter let through:%s",
                          sv_sub_trace(by_pool, 0));
        T_EQ_INT(sv_sub_count(by_pool, a.id, NULL), 2);
        T_ASSERT(sv_sub_find(by_pool, 0, "pool.created", 0, NULL) >= 0);

        /* types [pool.created]: fa, fb (made by spawns), fc, zz-end in order. */
        T_EQ_INT(by_type->n, 4);
        for (size_t i = 0; i < by_type->n; i++)
                T_EQ_STR(by_type->ev[i].type, "pool.created");
        T_EQ_STR(by_type->ev[0].pool, "fa");
        T_EQ_STR(by_type->ev[1].pool, "fb");
        T_EQ_STR(by_type->ev[2].pool, "fc");
        T_EQ_STR(by_type->ev[3].pool, "zz-end");

        /* Both filters at once. */
        for (size_t i = 0; i < both->n; i++) {
                T_EQ_STR(both->ev[i].type, "process.state");
                T_EQ_STR(both->ev[i].pool, "fb");
        }
        T_EQ_INT(both->n, 4); /* b and its sentinel, two steps each */

        /* No filter: everything. */
        T_EQ_INT(sv_sub_count(all, 0, NULL), 10); /* five processes, two steps each */
        T_EQ_INT(sv_sub_count(all, p.id, NULL), 2);
        T_ASSERT(sv_sub_find(all, 0, "pool.created", 0, NULL) >= 0);

        /* An unknown type is refused. */
        T_ERR(sv_callf(c, "events.subscribe", NULL, &err, "{s:[s]}", "types", "process.nope"), &err,
              "invalid_params");
        T_EQ_STR(err.field, "types");
        sv_sub_free(by_pool);
        sv_sub_free(by_type);
        sv_sub_free(both);
        sv_sub_free(all);
        teardown();
}

/* A subscribed connection still makes requests; a second subscribe replaces the filter. */
static void
t_subscriber_requests(void)
{
        struct sv_proc x, y, ys;
        struct sv_sub *s;
        char code[32];

        setup();
        s = sv_subscribe(h, "{s:[s]}", "pools", "x");
        sv_spawn(c, &x, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "x");
        T_ASSERT(sv_sub_wait_count(s, x.id, "exited", 1, SV_WAIT));
        T_ASSERT(sv_sub_request(s, 2, "daemon.ping", code, NULL));
        T_ASSERT(!sv_sub_request(s, 3, "process.info", code, "{s:i}", "id", 999999));
        T_EQ_STR(code, "not_found");

        T_ASSERT(sv_sub_request(s, 4, "events.subscribe", code, "{s:[s]}", "pools", "y"));
        s->n = 0; /* forget what came under the old filter */
        sv_spawn(c, &x, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "x");
        sv_join(c, x.id, &x);
        sv_spawn(c, &y, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "y");
        sv_join(c, y.id, &y);
        sv_spawn(c, &ys, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "y");
        T_ASSERT(sv_sub_wait_count(s, ys.id, "exited", 1, SV_WAIT));
        for (size_t i = 0; i < s->n; i++)
                T_ASSERTF(strcmp(s->ev[i].pool, "y") == 0, "old filter still applies:%s",
                          sv_sub_trace(s, 0));
        T_EQ_INT(sv_sub_count(s, y.id, NULL), 2);
        sv_sub_free(s);
        teardown();
}

/* ---- a subscriber that never reads ------------------------------------------ */

/* With one letter more: a name of the longest kind, 64 bytes. */
#define LONG63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BATCH  400
#define LIMIT  (4 * 1024 * 1024) /* PROTOCOL.md: the backlog of a subscriber */
/* ASan's allocator, and memcheck's, keep redzones and a queue of freed blocks on top. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_SLACK_KB (4 * LIMIT / 1024)
#else
#define RSS_SLACK_KB (harness_valgrind() ? 4 * LIMIT / 1024 : 2 * LIMIT / 1024)
#endif

struct flood {
        struct corral *c;
        struct raw *raw;
        uint32_t msgid;
        size_t spawned;
        size_t events; /* events every unfiltered subscriber is sent */
        uint64_t dep;  /* the failed dependency of this batch */
};

static void
pk_flood(msgpack_packer *pk, void *arg)
{
        struct flood *f = arg;

        msgpack_pack_map(pk, 4);
        pk_str(pk, "argv");
        msgpack_pack_array(pk, 2);
        pk_str(pk, SVC_HELPER_PATH);
        pk_str(pk, "exit-code");
        pk_kv_str(pk, "name", "n" LONG63);
        pk_kv_str(pk, "pool", "p" LONG63);
        pk_str(pk, "after");
        msgpack_pack_array(pk, 1);
        msgpack_pack_uint64(pk, f->dep);
}

/*
 * A failed dependency, then BATCH spawns after it, pipelined, then their
 * answers: each is cancelled at once, one process.state event of ~350
 * bytes each, without a fork. (A dependency per batch: ended records
 * beyond the history bound are evicted, and so would be a single one.)
 */
static void
flood_batch(struct flood *f)
{
        msgpack_unpacked m;
        struct sv_proc d;

        sv_spawn(f->c, &d, "{s:o, s:s, s:s}", "argv", sv_argv("exit-code", "1", NULL), "name",
                 "d" LONG63, "pool", "p" LONG63);
        sv_join(f->c, d.id, &d);
        T_EQ_STR(d.state, "exited");
        f->dep = d.id;
        for (int i = 0; i < BATCH; i++)
                raw_request(f->raw, ++f->msgid, "process.spawn", pk_flood, f);
        msgpack_unpacked_init(&m);
        for (int i = 0; i < BATCH; i++) {
                raw_response(f->raw, SV_WAIT, &m);
                T_ASSERTF(resp_error(&m.data) == NULL, "flood spawn: %s %s",
                          resp_error_str(&m.data, "code"), resp_error_str(&m.data, "message"));
                T_EQ_STR(obj_str(obj_get(resp_result(&m.data), "state")), "cancelled");
        }
        msgpack_unpacked_destroy(&m);
        f->spawned += BATCH;
        /* The pool's creation, the dependency's two steps, a cancellation per spawn. */
        f->events += (f->events == 0) + 2 + BATCH;
}

/* Read the fast subscriber's events as they are: never more than a batch behind. */
static void
drain(struct sv_sub *s)
{
        while (sv_sub_poll(s, 0) > 0)
                ;
}

static void
t_slow_subscriber(void)
{
        struct sv_proc last;
        struct sv_sub *fast;
        struct raw *slow;
        struct flood f;
        msgpack_unpacked m;
        size_t logoff = 0, got_events = 0, overflow_at = 0, before_overflow, sent;
        long rss0, rss1;
        int rc, fds0;
        bool overflow = false, overflow_last = false;

        harness_small_quarantine();
        setup();
        /* Subscribe and never read again (not even the answer). */
        slow = raw_connect(h->sock);
        raw_request(slow, 1, "events.subscribe", NULL, NULL);
        fast = sv_subscribe(h, "{s:[s]}", "types", "process.state");

        /* One batch first: the daemon's steady state, before the measures. */
        memset(&f, 0, sizeof f);
        f.c = c;
        f.raw = raw_connect(h->sock);
        flood_batch(&f);
        drain(fast);
        fds0 = proc_fd_count(h->pid);
        rss0 = sv_rss_kb(h->pid);

        /* Flood until the daemon gives up on the slow subscriber (bounded). */
        while (!sv_log_has(h, &logoff, "disconnecting it")) {
                T_ASSERTF(f.spawned < 100000, "%zu events and the slow subscriber is still on",
                          f.spawned);
                flood_batch(&f);
                drain(fast);
        }
        before_overflow = f.spawned;
        sent = f.events;
        T_OK(corral_ping(c, &err), &err);

        /*
         * Now read the slow one: the subscribe answer, the oldest events in
         * order, one overflow event, then the end of the stream.
         */
        msgpack_unpacked_init(&m);
        raw_response(slow, SV_WAIT, &m);
        T_ASSERT(resp_error(&m.data) == NULL);
        for (;;) {
                const msgpack_object *ev;

                rc = raw_next(slow, SV_WAIT, &m);
                T_ASSERTF(rc != -1, "the slow subscriber was neither fed nor closed");
                if (rc == 0)
                        break;
                T_ASSERTF(!overflow, "data after the overflow event");
                T_ASSERT(m.data.via.array.size == 3 && m.data.via.array.ptr[0].via.u64 == 2);
                ev = &m.data.via.array.ptr[2].via.array.ptr[0];
                if (strcmp(obj_str(obj_get(ev, "type")), "overflow") == 0) {
                        overflow = true;
                        overflow_at = got_events;
                        T_EQ_INT(obj_int(obj_get(ev, "limit")), LIMIT);
                        T_ASSERT(obj_int(obj_get(ev, "queued")) > 0);
                        continue;
                }
                got_events++;
        }
        overflow_last = overflow && overflow_at == got_events;
        msgpack_unpacked_destroy(&m);
        T_ASSERTF(overflow_last, "no overflow event at the end (%zu events read)", got_events);
        /* It missed events: the ones after the overflow, at least. */
        T_ASSERTF(got_events < sent, "slow subscriber got %zu of %zu events", got_events, sent);

        /* More events while it is gone: nothing queues up for it any more. */
        while (f.spawned < before_overflow + before_overflow / 2) {
                flood_batch(&f);
                drain(fast);
        }
        sv_spawn(c, &last, "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "pool", "end");
        T_ASSERT(sv_sub_wait_count(fast, last.id, "exited", 1, SV_WAIT));
        /* The fast subscriber saw every one of them. */
        T_EQ_INT(sv_sub_count(fast, 0, "cancelled"), f.spawned);
        T_OK(corral_ping(c, &err), &err);
        rss1 = sv_rss_kb(h->pid);
        T_ASSERTF(proc_fd_count(h->pid) <= fds0, "corrald had %d descriptors, then %d", fds0,
                  proc_fd_count(h->pid));
        printf("slow subscriber: %zu events before the overflow, %zu read by it, %zu in all; "
               "RSS %ld -> %ld KiB\n",
               before_overflow, got_events, f.spawned, rss0, rss1);
        /*
         * Without the limit, everything sent (over 1.5 times LIMIT) would
         * stay queued for the slow subscriber; with it, at most LIMIT was,
         * once, and the kept history is bounded. ASan's allocator and
         * memcheck's keep redzones and their (small, see above) queues of
         * freed blocks on top.
         */
        T_ASSERTF(rss1 - rss0 < RSS_SLACK_KB, "RSS grew from %ld to %ld KiB", rss0, rss1);
        raw_close(f.raw);
        raw_close(slow);
        sv_sub_free(fast);
        teardown();
}

/* One case per line: CMake reads them. */
/* clang-format off */
static const struct test_case cases[] = {
    TEST_CASE(state_sequence),
    TEST_CASE(pool_events),
    TEST_CASE(filters),
    TEST_CASE(subscriber_requests),
    TEST_CASE(slow_subscriber),
};
/* clang-format on */

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
