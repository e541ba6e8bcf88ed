/*
 * test_queue.c -- integration tests of in-memory queues: blocking get and
 * put (back-pressure), timeouts, first come first served among waiting
 * getters, priorities, delays, reliable delivery (visibility timeout,
 * nack, touch, dead letters, reservations returned when the holder goes
 * away) and bad input.
 *
 * Each case starts its own corrald; `test_queue CASE` runs one. Timing
 * checks are lower bounds (the daemon never answers early) and generous
 * upper bounds only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "q_support.h"

static struct harness *h;
static struct corral *c;
static struct corral_error err;

static void
setup_with(const char *const *extra)
{
        h = q_daemon(NULL, extra);
        c = harness_connect(h);
}

static void
setup(void)
{
        setup_with(NULL);
}

static void
teardown(void)
{
        corral_close(c);
        c = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

/* ---- blocking get and put ----------------------------------------------- */

/* durable: the put is answered (and the message visible) once it is logged. */
static void
get_waits_for_put(bool durable)
{
        struct q_msg m;
        struct raw *r;
        uint64_t id;

        setup();
        q_create(c, "jobs", &(struct q_opts){.durable = durable});
        r = raw_connect(h->sock);
        q_raw_get(r, 1, "jobs", 60, false);
        T_ASSERTF(q_wait_info(c, "jobs", "getters", 1, Q_WAIT), "the get never parked");
        /* The connection goes on serving while its get waits. */
        raw_request(r, 2, "daemon.ping", NULL, NULL);
        q_raw_expect(r, 2, NULL, NULL);
        T_ASSERTF(q_raw_quiet(r, 0.2), "the get was answered with nothing to get");

        id = q_put(c, "jobs", "hello");
        q_raw_expect(r, 1, NULL, &m);
        T_EQ_INT(m.id, id);
        T_EQ_STR(m.data, "hello");
        T_EQ_INT(m.attempt, 1);
        /* Without ack the message is gone once delivered. */
        T_EQ_INT(q_info(c, "jobs", "count"), 0);
        T_EQ_INT(q_info(c, "jobs", "getters"), 0);
        q_expect_empty(c, "jobs");
        raw_close(r);
        teardown();
}

static void
t_get_waits_for_put(void)
{
        get_waits_for_put(false);
}

static void
t_get_waits_for_put_durable(void)
{
        get_waits_for_put(true);
}

static void
put_waits_when_full(bool durable)
{
        struct raw *p1, *p2;
        struct q_msg m, m1, m2;

        setup();
        q_create(c, "small", &(struct q_opts){.maxsize = 2, .durable = durable});
        q_put(c, "small", "a");
        q_put(c, "small", "b");
        p1 = raw_connect(h->sock);
        p2 = raw_connect(h->sock);
        q_raw_put(p1, 1, "small", "c", -1);
        T_ASSERTF(q_wait_info(c, "small", "putters", 1, Q_WAIT), "the put never waited");
        q_raw_put(p2, 1, "small", "d", -1);
        T_ASSERTF(q_wait_info(c, "small", "putters", 2, Q_WAIT), "the second put never waited");
        T_ASSERT(q_raw_quiet(p1, 0.2));
        T_EQ_INT(q_info(c, "small", "count"), 2);

        /* One get makes room for one putter: the first that waited. */
        q_get(c, "small", 0, false, &m);
        T_EQ_STR(m.data, "a");
        q_raw_expect(p1, 1, NULL, &m1);
        T_ASSERT(q_wait_info(c, "small", "putters", 1, Q_WAIT));
        T_ASSERT(q_raw_quiet(p2, 0.2));
        q_get(c, "small", 0, false, &m);
        T_EQ_STR(m.data, "b");
        q_raw_expect(p2, 1, NULL, &m2);
        T_ASSERT(m1.id < m2.id);

        q_get(c, "small", 0, false, &m);
        T_EQ_STR(m.data, "c");
        T_EQ_INT(m.id, m1.id);
        q_get(c, "small", 0, false, &m);
        T_EQ_STR(m.data, "d");
        q_expect_empty(c, "small");
        raw_close(p1);
        raw_close(p2);
        teardown();
}

static void
t_put_waits_when_full(void)
{
        put_waits_when_full(false);
}

static void
t_put_waits_when_full_durable(void)
{
        put_waits_when_full(true);
}

static void
t_put_waits_max_bytes(void)
{
        struct q_msg m, put;
        struct raw *p;
        uint64_t id;

        setup();
        q_create(c, "bytes", &(struct q_opts){.max_bytes = 10});
        id = q_put(c, "bytes", "12345678");
        p = raw_connect(h->sock);
        q_raw_put(p, 1, "bytes", "abcd", -1); /* 8 + 4 > 10 */
        T_ASSERTF(q_wait_info(c, "bytes", "putters", 1, Q_WAIT), "the put never waited");
        T_EQ_INT(q_info(c, "bytes", "bytes"), 8);

        /* A reserved message still takes its room; only its ack frees it. */
        q_get(c, "bytes", 0, true, &m);
        T_EQ_INT(m.id, id);
        T_ASSERT(q_raw_quiet(p, 0.3));
        T_EQ_INT(q_info(c, "bytes", "putters"), 1);
        q_ack(c, "bytes", m.id);
        q_raw_expect(p, 1, NULL, &put);
        T_EQ_INT(q_info(c, "bytes", "bytes"), 4);
        q_get(c, "bytes", 0, false, &m);
        T_EQ_STR(m.data, "abcd");
        T_EQ_INT(m.id, put.id);
        raw_close(p);
        teardown();
}

static void
t_timeouts(void)
{
        struct q_msg m;
        double t0, dt;

        setup();
        q_create(c, "t", NULL);
        /* timeout 0: fails at once. */
        t0 = now_mono();
        T_ERR(q_get_try(c, "t", 0, false, &m, &err), &err, "empty");
        T_ASSERTF(now_mono() - t0 < 5, "a get with timeout 0 took %.2f s", now_mono() - t0);
        /* A short timeout: empty, never before it. */
        t0 = now_mono();
        T_ERR(q_get_try(c, "t", 0.3, true, &m, &err), &err, "empty");
        dt = now_mono() - t0;
        T_ASSERTF(dt >= 0.29 && dt < Q_WAIT, "a get with timeout 0.3 failed after %.3f s", dt);
        T_EQ_INT(q_info(c, "t", "getters"), 0);
        /* The expired getter must not swallow a later message. */
        q_put(c, "t", "x");
        q_get(c, "t", 0, false, &m);
        T_EQ_STR(m.data, "x");

        q_create(c, "f", &(struct q_opts){.maxsize = 1});
        q_put(c, "f", "a");
        t0 = now_mono();
        T_ERR(q_put_try(c, "f", "b", 1, 0, 0, 0, NULL, &err), &err, "full");
        T_ASSERTF(now_mono() - t0 < 5, "a put with timeout 0 took %.2f s", now_mono() - t0);
        t0 = now_mono();
        T_ERR(q_put_try(c, "f", "c", 1, 0, 0, 0.3, NULL, &err), &err, "full");
        dt = now_mono() - t0;
        T_ASSERTF(dt >= 0.29 && dt < Q_WAIT, "a put with timeout 0.3 failed after %.3f s", dt);
        T_EQ_INT(q_info(c, "f", "putters"), 0);
        /* Neither refused message was added, and the room they waited for is free. */
        T_EQ_INT(q_info(c, "f", "count"), 1);
        q_get(c, "f", 0, false, &m);
        T_EQ_STR(m.data, "a");
        q_expect_empty(c, "f");
        q_put(c, "f", "d");
        T_EQ_INT(q_info(c, "f", "total_put"), 2);
        teardown();
}

static void
t_getters_fifo(void)
{
        static const char *const names[3] = {"A", "B", "C"};
        struct raw *r[3];
        struct q_msg m;
        uint64_t ids[3];

        setup();
        q_create(c, "fifo", NULL);
        for (int i = 0; i < 3; i++) {
                r[i] = raw_connect(h->sock);
                q_raw_get(r[i], 1, "fifo", 60, false);
                T_ASSERTF(q_wait_info(c, "fifo", "getters", i + 1, Q_WAIT),
                          "getter %s never parked", names[i]);
        }
        /* One message: only the first getter is answered. */
        ids[0] = q_put(c, "fifo", "m1");
        q_raw_expect(r[0], 1, NULL, &m);
        T_EQ_STR(m.data, "m1");
        T_EQ_INT(m.id, ids[0]);
        T_ASSERT(q_wait_info(c, "fifo", "getters", 2, Q_WAIT));
        T_ASSERT(q_raw_quiet(r[1], 0.1) && q_raw_quiet(r[2], 0.1));
        ids[1] = q_put(c, "fifo", "m2");
        ids[2] = q_put(c, "fifo", "m3");
        q_raw_expect(r[1], 1, NULL, &m);
        T_EQ_STR(m.data, "m2");
        T_EQ_INT(m.id, ids[1]);
        q_raw_expect(r[2], 1, NULL, &m);
        T_EQ_STR(m.data, "m3");
        T_EQ_INT(m.id, ids[2]);
        T_EQ_INT(q_info(c, "fifo", "count"), 0);
        for (int i = 0; i < 3; i++)
                raw_close(r[i]);
        teardown();
}

/* ---- order --------------------------------------------------------------- */

static void
t_priorities(void)
{
        static const struct {
                const char *data;
                int priority;
        } puts_[] = {{"a", 5}, {"b", 1}, {"c", 5}, {"d", 1}, {"e", -3}, {"f", 0}, {"g", 1}};
        static const char *const want = "efbdgac";
        struct corral_result res;
        struct qparams p;
        struct q_msg m;

        setup();
        q_create(c, "pri", NULL);
        for (size_t i = 0; i < sizeof puts_ / sizeof puts_[0]; i++)
                q_put_pri(c, "pri", puts_[i].data, puts_[i].priority);
        /* peek shows the next message without taking it. */
        qp_init(&p, 1);
        qp_str(&p, "queue", "pri");
        T_OK(q_call(c, "queue.peek", &p, &res, &err), &err);
        T_ASSERT(q_msg_decode(&res.obj, &m));
        corral_result_free(&res);
        T_EQ_STR(m.data, "e");
        T_EQ_INT(m.priority, -3);
        T_EQ_INT(q_info(c, "pri", "count"), 7);
        /* Lower priority first; first in, first out within one. */
        for (size_t i = 0; want[i] != '\0'; i++) {
                char s[2] = {want[i], '\0'};

                q_get(c, "pri", 0, false, &m);
                T_EQ_STR(m.data, s);
        }
        q_expect_empty(c, "pri");
        teardown();
}

/*
 * Messages that come back (nacked, delayed) take their place by id among
 * the newer ones; many priorities, levels emptied and made again.
 */
static void
t_order_returns(void)
{
        /* f is priority 0: after e, before c (5). */
        static const char *const order[] = {"d", "a", "b", "e", "f", "c", "g"};
        struct q_msg m, a;
        char s[16];

        setup();
        q_create(c, "ord", NULL);
        q_put_pri(c, "ord", "a", 0);
        q_put_pri(c, "ord", "b", 0);
        q_put_pri(c, "ord", "c", 5);
        q_put_pri(c, "ord", "d", -1);
        q_get(c, "ord", 0, true, &m);
        T_EQ_STR(m.data, "d");
        q_get(c, "ord", 0, true, &a);
        T_EQ_STR(a.data, "a");
        /* d comes back first (priority -1), then a before b: older, same priority. */
        q_nack(c, "ord", m.id, 0);
        q_put_pri(c, "ord", "e", 0);
        q_nack(c, "ord", a.id, 0);
        /* f delayed, g not: once f is due, it is older than g. */
        q_put_delay(c, "ord", "f", 0.2);
        q_put_pri(c, "ord", "g", 5);
        T_ASSERT(q_wait_info(c, "ord", "ready", 7, Q_WAIT));
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
                q_get(c, "ord", 0, false, &m);
                T_EQ_STR(m.data, order[i]);
        }
        q_expect_empty(c, "ord");
        /* 20 priorities, twice: each level emptied, and more than are kept empty. */
        for (int round = 0; round < 2; round++) {
                for (int p = 19; p >= 0; p--) {
                        snprintf(s, sizeof s, "p%d", p);
                        q_put_pri(c, "ord", s, p * 3 - 20);
                }
                for (int p = 0; p < 20; p++) {
                        snprintf(s, sizeof s, "p%d", p);
                        q_get(c, "ord", 0, false, &m);
                        T_EQ_STR(m.data, s);
                        T_EQ_INT(m.priority, p * 3 - 20);
                }
                q_expect_empty(c, "ord");
        }
        teardown();
}

static void
t_delays(void)
{
        struct q_msg m;
        double t0, dt;

        setup();
        q_create(c, "later", NULL);
        /* A message that stays delayed for the whole test. */
        q_put_delay(c, "later", "far", 120);
        q_expect_empty(c, "later");
        T_EQ_INT(q_info(c, "later", "delayed"), 1);
        T_EQ_INT(q_info(c, "later", "ready"), 0);
        T_EQ_INT(q_info(c, "later", "count"), 1);

        /* A short delay: an undelayed message put after it comes first. */
        t0 = now_mono();
        q_put_delay(c, "later", "soon", 0.5);
        q_put(c, "later", "now");
        q_get(c, "later", 0, false, &m);
        T_EQ_STR(m.data, "now");
        q_get(c, "later", Q_WAIT, false, &m);
        dt = now_mono() - t0;
        T_EQ_STR(m.data, "soon");
        T_ASSERTF(dt >= 0.49, "a message delayed 0.5 s was delivered after %.3f s", dt);
        T_EQ_INT(q_info(c, "later", "delayed"), 1);
        q_expect_empty(c, "later");
        teardown();
}

/* ---- reliable delivery ----------------------------------------------------- */

static void
t_visibility_timeout(void)
{
        struct q_msg m, again;
        double t0, dt;

        setup();
        q_create(c, "vis", &(struct q_opts){.visibility_timeout = 0.3});
        q_put(c, "vis", "v");
        t0 = now_mono();
        q_get(c, "vis", 0, true, &m);
        T_EQ_INT(m.attempt, 1);
        T_EQ_INT(q_info(c, "vis", "reserved"), 1);
        T_EQ_INT(q_info(c, "vis", "count"), 1);
        /* Not acked in time: it comes back, as its second attempt. */
        q_get(c, "vis", Q_WAIT, true, &again);
        dt = now_mono() - t0;
        T_EQ_INT(again.id, m.id);
        T_EQ_STR(again.data, "v");
        T_EQ_INT(again.attempt, 2);
        T_ASSERTF(dt >= 0.29, "the reservation expired after %.3f s (timeout 0.3)", dt);
        T_EQ_INT(q_info(c, "vis", "total_expired"), 1);
        q_ack(c, "vis", again.id);
        T_EQ_INT(q_info(c, "vis", "count"), 0);
        T_ERR(q_msg_call(c, "queue.ack", "vis", again.id, 0, &err), &err, "not_found");
        teardown();
}

static void
t_nack(void)
{
        struct q_msg m;
        uint64_t a, b, cc;
        double t0, dt;

        setup();
        q_create(c, "nq", &(struct q_opts){.visibility_timeout = 60});
        a = q_put(c, "nq", "A");
        b = q_put(c, "nq", "B");
        /* Without delay: back at once, ahead of younger messages. */
        q_get(c, "nq", 0, true, &m);
        T_EQ_INT(m.id, a);
        q_nack(c, "nq", a, 0);
        T_EQ_INT(q_info(c, "nq", "reserved"), 0);
        q_get(c, "nq", 0, true, &m);
        T_EQ_INT(m.id, a);
        T_EQ_INT(m.attempt, 2);
        q_ack(c, "nq", a);

        /* With a long delay: not visible meanwhile. */
        q_get(c, "nq", 0, true, &m);
        T_EQ_INT(m.id, b);
        T_EQ_INT(m.attempt, 1);
        q_nack(c, "nq", b, 120);
        q_expect_empty(c, "nq");
        T_EQ_INT(q_info(c, "nq", "delayed"), 1);
        T_EQ_INT(q_info(c, "nq", "count"), 1);

        /* With a short delay: back, never before it. */
        cc = q_put(c, "nq", "C");
        q_get(c, "nq", 0, true, &m);
        T_EQ_INT(m.id, cc);
        t0 = now_mono();
        q_nack(c, "nq", cc, 0.4);
        q_get(c, "nq", Q_WAIT, true, &m);
        dt = now_mono() - t0;
        T_EQ_INT(m.id, cc);
        T_EQ_INT(m.attempt, 2);
        T_ASSERTF(dt >= 0.39, "a message nacked with delay 0.4 came back after %.3f s", dt);
        q_ack(c, "nq", cc);
        T_EQ_INT(q_info(c, "nq", "total_expired"), 0);
        teardown();
}

static void
t_touch(void)
{
        const double vis = 1.5;
        struct corral_result res;
        struct qparams p;
        struct q_msg m, again;
        double t0, last, dt;

        setup();
        q_create(c, "tq", &(struct q_opts){.visibility_timeout = vis});
        q_put(c, "tq", "long job");
        q_get(c, "tq", 0, true, &m);
        qp_init(&p, 2);
        qp_str(&p, "queue", "tq");
        qp_uint(&p, "msg_id", m.id);
        T_OK(q_call(c, "queue.touch", &p, &res, &err), &err);
        T_ASSERT(obj_get(&res.obj, "visibility_timeout") != NULL);
        T_ASSERT(obj_get(&res.obj, "visibility_timeout")->via.f64 == vis);
        corral_result_free(&res);
        /* Keep touching for more than twice the timeout: it stays reserved. */
        t0 = last = now_mono();
        while (now_mono() - t0 < 2.2 * vis) {
                usleep(200000);
                q_touch(c, "tq", m.id);
                last = now_mono();
                T_EQ_INT(q_info(c, "tq", "total_expired"), 0);
                T_EQ_INT(q_info(c, "tq", "reserved"), 1);
        }
        q_expect_empty(c, "tq");
        /* Left alone, it expires a full timeout after the last touch. */
        q_get(c, "tq", Q_WAIT, true, &again);
        dt = now_mono() - last;
        T_EQ_INT(again.id, m.id);
        T_EQ_INT(again.attempt, 2);
        T_ASSERTF(dt >= vis - 0.01, "expired %.3f s after the last touch (timeout %.1f)", dt, vis);
        T_EQ_INT(q_info(c, "tq", "total_expired"), 1);
        teardown();
}

static void
t_dead_letter_queue(void)
{
        const struct q_opts work = {
            .visibility_timeout = 60, .max_attempts = 2, .dead_letter = "dlq"};
        const struct q_opts work2 = {
            .visibility_timeout = 0.3, .max_attempts = 1, .dead_letter = "dlq"};
        struct q_msg m;
        uint64_t poison;

        setup();
        q_create(c, "dlq", NULL);
        q_create(c, "work", &work);
        poison = q_put(c, "work", "poison");
        q_put(c, "work", "fine");
        for (unsigned attempt = 1; attempt <= 2; attempt++) {
                q_get(c, "work", 0, true, &m);
                T_EQ_INT(m.id, poison);
                T_EQ_INT(m.attempt, attempt);
                q_nack(c, "work", m.id, 0);
        }
        /* After max_attempts it lands in the dead letter queue, as a fresh message there. */
        T_EQ_INT(q_info(c, "work", "total_dead_lettered"), 1);
        T_EQ_INT(q_info(c, "work", "count"), 1);
        T_EQ_INT(q_info(c, "dlq", "count"), 1);
        q_get(c, "dlq", 0, false, &m);
        T_EQ_STR(m.data, "poison");
        T_EQ_INT(m.attempt, 1);
        q_get(c, "work", 0, true, &m);
        T_EQ_STR(m.data, "fine");
        q_ack(c, "work", m.id);

        /* Expiry counts as a failed attempt too. */
        q_create(c, "work2", &work2);
        q_put(c, "work2", "late");
        q_get(c, "work2", 0, true, &m);
        q_get(c, "dlq", Q_WAIT, false, &m);
        T_EQ_STR(m.data, "late");
        T_EQ_INT(q_info(c, "work2", "count"), 0);
        T_EQ_INT(q_info(c, "work2", "total_expired"), 1);
        T_EQ_INT(q_info(c, "work2", "total_dead_lettered"), 1);
        teardown();
}

/* The next event of type within Q_WAIT s, skipping others; fails the test if none. */
static void
wait_event(struct corral *e, const char *type, struct corral_event *ev)
{
        double deadline = now_mono() + Q_WAIT;

        for (;;) {
                double left = deadline - now_mono();
                int rc;

                T_ASSERTF(left > 0, "no %s event within %.0f s", type, Q_WAIT);
                rc = corral_events_next(e, ev, left, &err);
                T_ASSERTF(rc != -1, "events: %s %s", err.code, err.message);
                T_ASSERTF(rc == 1, "no %s event within %.0f s", type, Q_WAIT);
                if (strcmp(ev->type, type) == 0)
                        return;
                corral_event_clear(ev);
        }
}

static void
t_dead_letter_dropped(void)
{
        struct corral_event ev;
        struct corral *e;
        const msgpack_object *v;
        struct q_msg m;
        uint64_t id;

        setup();
        e = harness_connect(h);
        T_OK(corral_events_subscribe(e, NULL, NULL, &err), &err);
        q_create(c, "drop", &(struct q_opts){.visibility_timeout = 60, .max_attempts = 1});
        id = q_put(c, "drop", "doomed");
        q_get(c, "drop", 0, true, &m);
        q_nack(c, "drop", m.id, 0);
        /* No dead letter queue: dropped, counted, and announced. */
        T_EQ_INT(q_info(c, "drop", "count"), 0);
        T_EQ_INT(q_info(c, "drop", "total_dead_lettered"), 1);
        q_expect_empty(c, "drop");
        wait_event(e, "queue.dead_lettered", &ev);
        v = corral_event_field(&ev, "queue");
        T_EQ_STR(obj_str(v), "drop");
        v = corral_event_field(&ev, "msg_id");
        T_ASSERT(v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
        T_EQ_INT(v->via.u64, id);
        corral_event_clear(&ev);
        corral_close(e);
        teardown();
}

static void
t_dead_letter_event_filter(void)
{
        static const char *const types[] = {"queue.dead_lettered", NULL};
        static const char *const argv[] = {"/bin/true", NULL};
        struct corral_process p, j;
        struct corral_event ev;
        struct corral *e;
        struct q_msg m;
        int rc;

        setup();
        e = harness_connect(h);
        /* Subscribing to just this event type must be allowed. */
        T_OK(corral_events_subscribe(e, NULL, types, &err), &err);
        /* Events of other types are not sent... */
        spawn_simple(c, argv, NULL, &p);
        T_OK(corral_join(c, target_id(p.id), Q_WAIT, &j, &err), &err);
        q_create(c, "drop", &(struct q_opts){.visibility_timeout = 60, .max_attempts = 1});
        q_put(c, "drop", "doomed");
        q_get(c, "drop", 0, true, &m);
        q_nack(c, "drop", m.id, 0);
        /* ...so the first event is the dead letter. */
        rc = corral_events_next(e, &ev, Q_WAIT, &err);
        T_ASSERTF(rc == 1, "no event within %.0f s (%s)", Q_WAIT, rc == -1 ? err.message : "");
        T_EQ_STR(ev.type, "queue.dead_lettered");
        T_EQ_STR(obj_str(corral_event_field(&ev, "queue")), "drop");
        corral_event_clear(&ev);
        corral_process_clear(&p);
        corral_process_clear(&j);
        corral_close(e);
        teardown();
}

static void
t_release_on_disconnect(void)
{
        struct q_msg m, again;
        struct corral *c2;
        double t0;

        setup();
        q_create(c, "rel", &(struct q_opts){.visibility_timeout = 60});
        q_put(c, "rel", "held");
        c2 = harness_connect(h);
        q_get(c2, "rel", 0, true, &m);
        T_EQ_INT(q_info(c, "rel", "reserved"), 1);
        q_expect_empty(c, "rel");
        t0 = now_mono();
        corral_close(c2);
        /* Back well before the visibility timeout. */
        q_get(c, "rel", 10, true, &again);
        T_ASSERTF(now_mono() - t0 < 10, "returned after %.1f s", now_mono() - t0);
        T_EQ_INT(again.id, m.id);
        T_EQ_INT(again.attempt, 2);
        T_EQ_INT(q_info(c, "rel", "total_expired"), 0);
        q_ack(c, "rel", again.id);
        teardown();
}

static void
t_release_on_holder_kill(void)
{
        struct corral_process p, j;
        struct q_msg again;
        const char *ready;
        char *s;
        uint64_t id, held;
        double t0;

        setup();
        q_create(c, "rel", &(struct q_opts){.visibility_timeout = 60});
        id = q_put(c, "rel", "held");
        ready = harness_path(h, "held");
        {
                const char *argv[] = {Q_JOB_PATH, "hold", h->sock, "rel", ready, NULL};

                spawn_simple(c, argv, "holder", &p);
        }
        T_ASSERTF(wait_file(ready, Q_WAIT), "the supervised holder never got the message");
        s = file_read(ready, NULL);
        T_ASSERT(s != NULL);
        held = strtoull(s, NULL, 10);
        free(s);
        T_EQ_INT(held, id);
        T_EQ_INT(q_info(c, "rel", "reserved"), 1);
        q_expect_empty(c, "rel");

        t0 = now_mono();
        T_OK(corral_signal(c, target_id(p.id), SIGKILL, false, &err), &err);
        q_get(c, "rel", 10, true, &again);
        T_ASSERTF(now_mono() - t0 < 10, "returned after %.1f s", now_mono() - t0);
        T_EQ_INT(again.id, id);
        T_EQ_INT(again.attempt, 2);
        T_EQ_INT(q_info(c, "rel", "total_expired"), 0);
        T_OK(corral_join(c, target_id(p.id), Q_WAIT, &j, &err), &err);
        T_EQ_STR(j.state, "killed");
        T_EQ_INT(j.signal, SIGKILL);
        q_ack(c, "rel", again.id);
        corral_process_clear(&p);
        corral_process_clear(&j);
        teardown();
}

/* ---- administration ------------------------------------------------------- */

static void
t_list_purge_delete(void)
{
        struct corral_result res;
        const msgpack_object *qs;
        struct qparams p;
        struct raw *r;
        struct q_msg m;

        setup();
        q_create(c, "one", NULL);
        q_create(c, "two", &(struct q_opts){.maxsize = 5, .visibility_timeout = 60});
        T_OK(q_call(c, "queue.list", NULL, &res, &err), &err);
        qs = obj_get(&res.obj, "queues");
        T_ASSERT(qs != NULL && qs->type == MSGPACK_OBJECT_ARRAY);
        T_EQ_INT(qs->via.array.size, 2);
        T_EQ_STR(obj_str(obj_get(&qs->via.array.ptr[0], "name")), "one");
        T_EQ_STR(obj_str(obj_get(&qs->via.array.ptr[1], "name")), "two");
        T_EQ_INT(obj_int(obj_get(&qs->via.array.ptr[1], "maxsize")), 5);
        corral_result_free(&res);

        /* purge drops ready and delayed messages, not reserved ones. */
        q_put(c, "two", "r");
        q_get(c, "two", 0, true, &m);
        q_put(c, "two", "x");
        q_put_delay(c, "two", "y", 120);
        qp_init(&p, 1);
        qp_str(&p, "name", "two");
        T_OK(q_call(c, "queue.purge", &p, &res, &err), &err);
        T_EQ_INT(obj_int(obj_get(&res.obj, "purged")), 2);
        corral_result_free(&res);
        T_EQ_INT(q_info(c, "two", "count"), 1);
        T_EQ_INT(q_info(c, "two", "reserved"), 1);
        q_ack(c, "two", m.id);

        /* delete answers waiting getters with not_found. */
        r = raw_connect(h->sock);
        q_raw_get(r, 7, "one", 60, false);
        T_ASSERT(q_wait_info(c, "one", "getters", 1, Q_WAIT));
        qp_init(&p, 1);
        qp_str(&p, "name", "one");
        T_OK(q_call(c, "queue.delete", &p, NULL, &err), &err);
        q_raw_expect(r, 7, "not_found", NULL);
        T_ERR(q_get_try(c, "one", 0, false, &m, &err), &err, "not_found");
        raw_close(r);
        teardown();
}

/* ---- bad input ------------------------------------------------------------ */

static void
t_bad_input(void)
{
        static const char *const bad_names[] = {
            "",    "-x",  ".x",          "123",
            "a/b", "a b", "n\xc3\xa4me", NULL, /* 65 bytes, filled in below */
        };
        static char long_name[66];
        static const char *const methods[] = {"queue.ack", "queue.nack", "queue.touch"};
        struct qparams p;
        struct q_msg m;
        uint64_t id;

        setup();
        memset(long_name, 'a', 65);
        for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
                const char *name = bad_names[i] != NULL ? bad_names[i] : long_name;

                T_ERR(q_create_try(c, name, NULL, &err), &err, "invalid_params");
                T_EQ_STR(err.field, "name");
                T_ERR(q_put_try(c, name, "x", 1, 0, 0, -1, NULL, &err), &err, "invalid_params");
        }
        T_ERR(q_create_try(c, "q", &(struct q_opts){.durable = true, .fsync = "sometimes"}, &err),
              &err, "invalid_params");
        T_EQ_STR(err.field, "fsync");
        T_ERR(q_create_try(c, "q", &(struct q_opts){.dead_letter = "nope"}, &err), &err,
              "not_found");
        T_EQ_STR(err.field, "dead_letter");
        T_ERR(q_create_try(c, "q", &(struct q_opts){.dead_letter = "q"}, &err), &err,
              "invalid_params");
        /* None of the refused creates left a queue behind. */
        T_ERR(q_get_try(c, "q", 0, false, &m, &err), &err, "not_found");
        q_create(c, "q", &(struct q_opts){.visibility_timeout = 60});
        T_ERR(q_create_try(c, "q", NULL, &err), &err, "exists");

        /* Unknown queues. */
        T_ERR(q_put_try(c, "ghost", "x", 1, 0, 0, -1, NULL, &err), &err, "not_found");
        T_ERR(q_get_try(c, "ghost", 0, false, &m, &err), &err, "not_found");
        T_ERR(q_msg_call(c, "queue.ack", "ghost", 1, 0, &err), &err, "not_found");
        qp_init(&p, 1);
        qp_str(&p, "name", "ghost");
        T_ERR(q_call(c, "queue.info", &p, NULL, &err), &err, "not_found");
        qp_init(&p, 1);
        qp_str(&p, "name", "ghost");
        T_ERR(q_call(c, "queue.delete", &p, NULL, &err), &err, "not_found");

        /* Malformed parameters. */
        qp_init(&p, 1);
        qp_str(&p, "queue", "q");
        T_ERR(q_call(c, "queue.put", &p, NULL, &err), &err, "invalid_params"); /* no data */
        qp_init(&p, 2);
        qp_str(&p, "queue", "q");
        qp_double(&p, "timeout", -1);
        T_ERR(q_call(c, "queue.get", &p, NULL, &err), &err, "invalid_params");
        T_ERR(q_msg_call(c, "queue.ack", "q", 0, 0, &err), &err, "invalid_params");
        qp_init(&p, 2);
        qp_str(&p, "name", "q2");
        qp_str(&p, "colour", "blue");
        T_ERR(q_call(c, "queue.create", &p, NULL, &err), &err, "invalid_params");

        /* Unknown or unreserved message ids. */
        for (size_t i = 0; i < 3; i++)
                T_ERR(q_msg_call(c, methods[i], "q", 999, 0, &err), &err, "not_found");
        id = q_put(c, "q", "ready");
        for (size_t i = 0; i < 3; i++) /* ready, not reserved */
                T_ERR(q_msg_call(c, methods[i], "q", id, 0, &err), &err, "not_found");
        q_get(c, "q", 0, false, &m); /* delivered without ack: gone */
        T_ERR(q_msg_call(c, "queue.ack", "q", id, 0, &err), &err, "not_found");
        id = q_put(c, "q", "twice");
        q_get(c, "q", 0, true, &m);
        q_ack(c, "q", id);
        T_ERR(q_msg_call(c, "queue.ack", "q", id, 0, &err), &err, "not_found");
        T_ERR(q_msg_call(c, "queue.nack", "q", id, 0, &err), &err, "not_found");
        T_EQ_INT(q_info(c, "q", "count"), 0);

        /* The daemon still serves. */
        T_OK(corral_ping(c, &err), &err);
        teardown();
}

static void
t_too_large(void)
{
        static const char *const extra[] = {"--queue-max-message", "1024", NULL};
        static char big[1025];
        struct q_msg m;
        uint64_t id;

        setup_with(extra);
        memset(big, 'z', sizeof big);
        q_create(c, "big", NULL);
        T_OK(q_put_try(c, "big", big, 1024, 0, 0, -1, &id, &err), &err);
        T_ERR(q_put_try(c, "big", big, 1025, 0, 0, -1, NULL, &err), &err, "too_large");
        T_EQ_STR(err.field, "data");
        /* Larger than a queue's max_bytes: it could never fit, so no waiting. */
        q_create(c, "capped", &(struct q_opts){.max_bytes = 100});
        T_ERR(q_put_try(c, "capped", big, 101, 0, 0, -1, NULL, &err), &err, "too_large");
        T_OK(q_put_try(c, "capped", big, 100, 0, 0, -1, NULL, &err), &err);
        T_EQ_INT(q_info(c, "big", "count"), 1);
        q_get(c, "big", 0, false, &m);
        T_EQ_INT(m.id, id);
        T_EQ_INT(m.len, 1024);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(order_returns),
    TEST_CASE(get_waits_for_put),
    TEST_CASE(get_waits_for_put_durable),
    TEST_CASE(put_waits_when_full),
    TEST_CASE(put_waits_when_full_durable),
    TEST_CASE(put_waits_max_bytes),
    TEST_CASE(timeouts),
    TEST_CASE(getters_fifo),
    TEST_CASE(priorities),
    TEST_CASE(delays),
    TEST_CASE(visibility_timeout),
    TEST_CASE(nack),
    TEST_CASE(touch),
    TEST_CASE(dead_letter_queue),
    TEST_CASE(dead_letter_dropped),
    TEST_CASE(dead_letter_event_filter),
    TEST_CASE(release_on_disconnect),
    TEST_CASE(release_on_holder_kill),
    TEST_CASE(list_purge_delete),
    TEST_CASE(bad_input),
    TEST_CASE(too_large),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
