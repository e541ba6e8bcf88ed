/*
 * test_supervise.c -- integration tests of supervision: crash loops and
 * backoff, the start limit and its re-arming, restart policies, restarts
 * keeping a process's identity, readiness (notify, timeout, uptime),
 * dependencies between processes, and bad policy parameters.
 *
 * Timings are asserted only as order and generous bounds: a timer may
 * fire late but never early, so lower bounds hold on any machine (up to
 * EPS, below); upper bounds leave seconds of slack. Each case starts its
 * own corrald; `test_supervise CASE` runs one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sv_support.h"

/*
 * Tolerance of lower bounds on the daemon's timers. A timer should never
 * fire early, but corrald arms its timers from libevent's cached clock,
 * so they fire early by the time the loop iteration had already spent
 * (tens of ms under ASan on a loaded machine). That is a daemon bug,
 * pinned down exactly by t_timers_not_early; the other cases absorb it
 * here. Once it is fixed, 0.002 is enough.
 */
#define EPS 0.1

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

/* The event after index i for the same process, or NULL. */
static const struct sv_event *
next_of(const struct sv_sub *s, long i)
{
        long j = sv_sub_find(s, (size_t)i + 1, "process.state", s->ev[i].id, NULL);

        return j >= 0 ? &s->ev[j] : NULL;
}

/* ---- crash loops --------------------------------------------------------- */

/*
 * A process that always crashes: the delay before each restart doubles
 * from restart_delay up to restart_delay_max. Measured from the daemon's
 * own event timestamps (running -> backoff, backoff -> running).
 */
static void
t_backoff_grows(void)
{
        static const double want[] = {0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4};
        const size_t n = sizeof want / sizeof want[0];
        double gap[sizeof want / sizeof want[0]];
        struct sv_proc p, t;
        struct sv_sub *s;
        size_t k = 0;

        setup();
        s = sv_subscribe(h, "{s:[s]}", "pools", "crash");
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:f, s:f, s:i}", "argv", sv_argv("exit-code", "1", NULL),
                 "pool", "crash", "restart", "on-failure", "restart_delay", 0.05,
                 "restart_delay_max", 0.4, "start_limit_burst", 0);
        T_ASSERTF(sv_sub_wait_count(s, p.id, "backoff", n + 1, SV_WAIT), "crash loop stalled:%s",
                  sv_sub_trace(s, p.id));
        sv_terminate_wait(c, p.id, &t);
        T_EQ_STR(t.state, "stopped");
        T_EQ_INT(t.id, p.id);

        for (long i = sv_sub_find(s, 0, "process.state", p.id, "backoff"); i >= 0 && k < n;
             i = sv_sub_find(s, (size_t)i + 1, "process.state", p.id, "backoff")) {
                const struct sv_event *e = &s->ev[i], *up = next_of(s, i);

                T_EQ_STR(e->from, "running");
                T_ASSERT(e->has_exit_code && e->exit_code == 1);
                T_EQ_INT(e->restarts, k);
                T_ASSERTF(up != NULL, "no restart after backoff %zu:%s", k, sv_sub_trace(s, p.id));
                T_EQ_STR(up->from, "backoff");
                T_EQ_STR(up->to, "running");
                T_EQ_INT(up->restarts, k + 1);
                T_ASSERT(up->pid != e->pid); /* a new run */
                gap[k++] = up->ts - e->ts;
        }
        T_EQ_INT(k, n);
        for (k = 0; k < n; k++) {
                /* A timer never fires early: each delay is at least the policy's. */
                T_ASSERTF(gap[k] >= want[k] - EPS,
                          "restart %zu came after %.3f s, expected >= %.2f", k + 1, gap[k],
                          want[k]);
                /* Non-decreasing, up to scheduling jitter. */
                if (k > 0)
                        T_ASSERTF(gap[k] + 0.3 >= gap[k - 1], "delay shrank: %.3f then %.3f s",
                                  gap[k - 1], gap[k]);
        }
        /* The doubling stops at restart_delay_max (uncapped it would be 3.2 s by now). */
        T_ASSERTF(gap[n - 1] < 2.5, "delay %.3f s not capped at 0.4 s", gap[n - 1]);
        T_ASSERTF(gap[n - 1] >= gap[0], "delay did not grow: %.3f then %.3f s", gap[0], gap[n - 1]);
        sv_sub_free(s);
        teardown();
}

/* start_limit_burst starts within the interval, then failed with a reason and an event. */
static void
t_start_limit(void)
{
        struct sv_proc p, j;
        struct sv_sub *s;
        long lim, fail;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:f, s:i, s:f}", "argv", sv_argv("exit-code", "1", NULL),
                 "name", "crasher", "restart", "on-failure", "restart_delay", 0.01,
                 "start_limit_burst", 3, "start_limit_interval", 60.0);
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "failed");
        T_ASSERTF(j.has_reason && strstr(j.reason, "start_limit_burst") != NULL, "reason \"%s\"",
                  j.reason);
        T_EQ_INT(j.restarts, 2); /* three starts, no fourth */
        T_EQ_INT(j.last_exit_code, 1);
        T_EQ_STR(j.name, "crasher");
        T_ASSERT(j.ended_at > 0);
        T_ASSERT(wait_pid_gone(j.pid, h->pid, 10));

        T_ASSERTF(sv_sub_wait_count(s, p.id, "failed", 1, SV_WAIT), "no failed event:%s",
                  sv_sub_trace(s, p.id));
        T_EQ_INT(sv_sub_count(s, p.id, "running"), 3);
        lim = sv_sub_find(s, 0, "process.start_limit", p.id, NULL);
        fail = sv_sub_find(s, 0, "process.state", p.id, "failed");
        T_ASSERTF(lim >= 0, "no process.start_limit event:%s", sv_sub_trace(s, 0));
        T_ASSERT(lim < fail);
        T_EQ_STR(s->ev[lim].name, "crasher");
        T_EQ_STR(s->ev[lim].pool, "default");
        T_EQ_INT(s->ev[lim].restarts, 2);
        T_ASSERT(s->ev[lim].retry_after == 0);
        T_ASSERTF(s->ev[fail].has_reason && strstr(s->ev[fail].reason, "start_limit") != NULL,
                  "failed event reason \"%s\"", s->ev[fail].reason);

        /* Without failed_retry_after it stays failed. */
        sv_sub_poll(s, 0.5);
        T_EQ_INT(sv_sub_count(s, p.id, "running"), 3);
        sv_info(c, p.id, &j);
        T_EQ_STR(j.state, "failed");
        sv_sub_free(s);
        teardown();
}

/*
 * failed_retry_after: the circuit breaker closes again by itself. The
 * program fails its first 3 runs; with a burst of 2 it is failed after
 * two, retried after 0.5 s, fails once more and then stays up.
 */
static void
t_failed_retry_after(void)
{
        struct sv_proc p, q;
        struct sv_sub *s;
        const char *runs;
        long f, lim;

        setup();
        runs = harness_path(h, "runs");
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:f, s:i, s:f, s:f}", "argv",
                 sv_argv("fail-times", runs, "3", "1", NULL), "name", "breaker", "restart",
                 "on-failure", "restart_delay", 0.01, "start_limit_burst", 2,
                 "start_limit_interval", 60.0, "failed_retry_after", 0.5);
        T_ASSERTF(sv_sub_wait_count(s, p.id, "running", 4, SV_WAIT), "not retried:%s",
                  sv_sub_trace(s, p.id));
        T_ASSERT(sv_wait_proc(c, p.id, "running", 3, SV_WAIT, &q));
        T_EQ_INT(q.id, p.id);
        T_EQ_STR(q.name, "breaker");
        T_EQ_INT(q.restarts, 3);
        T_EQ_INT(q.last_exit_code, 1);
        T_ASSERT(q.pid != p.pid);
        /* Each run writes its line once it runs its own code. */
        T_ASSERT(sv_wait_lines(runs, 4, SV_WAIT));
        T_EQ_INT(sv_count_lines(runs), 4);

        lim = sv_sub_find(s, 0, "process.start_limit", p.id, NULL);
        T_ASSERT(lim >= 0);
        T_ASSERT(s->ev[lim].retry_after > 0.49 && s->ev[lim].retry_after < 0.51);
        f = sv_sub_find(s, 0, "process.state", p.id, "failed");
        T_ASSERTF(f >= 0 && next_of(s, f) != NULL, "%s", sv_sub_trace(s, p.id));
        T_EQ_STR(next_of(s, f)->from, "failed");
        T_EQ_STR(next_of(s, f)->to, "pending");
        T_ASSERTF(next_of(s, f)->ts - s->ev[f].ts >= 0.5 - EPS, "retried after %.3f s, not 0.5",
                  next_of(s, f)->ts - s->ev[f].ts);
        sv_terminate_wait(c, p.id, &q);
        T_EQ_STR(q.state, "stopped");
        sv_sub_free(s);
        teardown();
}

/*
 * A failed process waiting for failed_retry_after that is terminated is
 * never retried (PROTOCOL.md, process.terminate: "a failed one stays
 * failed and is never retried").
 *
 * Regression: terminate_run() (daemon/method-process-terminate.c) once
 * skipped failed processes as final, so the retry timer still fired and
 * the process restarted after terminate (fixed in 06bedae).
 */
static void
t_terminate_failed_disarms_retry(void)
{
        struct sv_proc p, q;
        struct sv_sub *s;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:f, s:i, s:f, s:f}", "argv", sv_argv("exit-code", "1", NULL),
                 "restart", "on-failure", "restart_delay", 0.01, "start_limit_burst", 1,
                 "start_limit_interval", 60.0, "failed_retry_after", 0.3);
        T_ASSERTF(sv_sub_wait_count(s, p.id, "failed", 1, SV_WAIT), "%s", sv_sub_trace(s, p.id));
        sv_terminate_wait(c, p.id, &q);
        T_EQ_STR(q.state, "failed");
        /* Three times the retry delay: nothing happens. */
        sv_sub_poll(s, 1.0);
        T_ASSERTF(sv_sub_count(s, p.id, "pending") == 0,
                  "a terminated failed process was retried:%s", sv_sub_trace(s, p.id));
        sv_info(c, p.id, &q);
        T_EQ_STR(q.state, "failed");
        T_EQ_INT(q.restarts, 0);
        sv_sub_free(s);
        teardown();
}

/* process.start re-arms a failed process by hand: same id and name, a new run. */
static void
t_start_rearms(void)
{
        struct sv_proc p, j, q, r;
        const char *runs;

        setup();
        runs = harness_path(h, "runs");
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:f, s:i, s:f}", "argv",
                 sv_argv("fail-times", runs, "2", "4", NULL), "name", "manual", "restart",
                 "on-failure", "restart_delay", 0.01, "start_limit_burst", 2,
                 "start_limit_interval", 60.0);
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "failed");
        T_EQ_INT(j.last_exit_code, 4);
        T_ASSERT(j.has_reason);

        T_OK(sv_proc_call(c, "process.start", p.id, &q, &err, "wait", "ready"), &err);
        T_EQ_STR(q.state, "running");
        T_EQ_INT(q.id, p.id);
        T_EQ_STR(q.name, "manual");
        T_EQ_INT(q.restarts, 2);
        T_ASSERT(q.pid != j.pid && q.pid > 0);
        T_ASSERTF(!q.has_reason, "reason kept after a new start: %s", q.reason);
        T_ASSERT(q.ended_at == 0 && !q.has_exit_code);
        T_EQ_INT(q.last_exit_code, 4);
        T_ASSERT(sv_wait_lines(runs, 3, SV_WAIT));
        T_EQ_INT(sv_count_lines(runs), 3);

        /* A live process is left alone. */
        T_OK(sv_proc_call(c, "process.start", p.id, &r, &err, NULL, NULL), &err);
        T_EQ_STR(r.state, "running");
        T_EQ_INT(r.pid, q.pid);
        T_EQ_INT(r.restarts, 2);
        teardown();
}

/* ---- restart policies ----------------------------------------------------- */

static void
t_policies(void)
{
        struct sv_proc p, j;

        setup();
        /* Default "no": a failure is final. */
        sv_spawn(c, &p, "{s:o}", "argv", sv_argv("exit-code", "1", NULL));
        T_EQ_STR(p.restart, "no");
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "exited");
        T_ASSERT(j.has_exit_code && j.exit_code == 1);
        T_EQ_INT(j.restarts, 0);

        /* on-failure, exit 0: success, not restarted. */
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("exit-code", "0", NULL), "restart",
                 "on-failure", "restart_delay", 0.01);
        T_EQ_STR(p.restart, "on-failure");
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "exited");
        T_ASSERT(j.has_exit_code && j.exit_code == 0);
        T_EQ_INT(j.restarts, 0);

        /* on-failure with success_codes [3]: exit 3 is a success. */
        sv_spawn(c, &p, "{s:o, s:s, s:[i], s:f}", "argv", sv_argv("exit-code", "3", NULL),
                 "restart", "on-failure", "success_codes", 3, "restart_delay", 0.01);
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "exited");
        T_ASSERT(j.has_exit_code && j.exit_code == 3);
        T_EQ_INT(j.restarts, 0);

        /* on-failure, exit 1: restarted (the second run stays up). */
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv",
                 sv_argv("fail-times", harness_path(h, "runs1"), "1", "1", NULL), "restart",
                 "on-failure", "restart_delay", 0.01);
        T_ASSERTF(sv_wait_proc(c, p.id, "running", 1, SV_WAIT, &j), "state %s, %u restarts",
                  j.state, j.restarts);
        T_EQ_INT(j.restarts, 1);
        T_EQ_INT(j.last_exit_code, 1);
        T_ASSERT(!j.has_exit_code); /* not final: exit_code is how it ended, nil for now */

        /* With success_codes [3], exit 0 is a failure. */
        sv_spawn(c, &p, "{s:o, s:s, s:[i], s:f}", "argv",
                 sv_argv("fail-times", harness_path(h, "runs2"), "1", "0", NULL), "restart",
                 "on-failure", "success_codes", 3, "restart_delay", 0.01);
        T_ASSERT(sv_wait_proc(c, p.id, "running", 1, SV_WAIT, &j));
        T_EQ_INT(j.last_exit_code, 0);

        /* always: restarted after exit 0 too. */
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv",
                 sv_argv("fail-times", harness_path(h, "runs3"), "1", "0", NULL), "restart",
                 "always", "restart_delay", 0.01);
        T_EQ_STR(p.restart, "always");
        T_ASSERT(sv_wait_proc(c, p.id, "running", 1, SV_WAIT, &j));
        T_EQ_INT(j.restarts, 1);
        T_EQ_INT(j.last_exit_code, 0);

        /* on-failure: death by a signal is a failure. */
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("sleep", "60", NULL), "restart",
                 "on-failure", "restart_delay", 0.01);
        T_ASSERT(kill(p.pid, SIGKILL) == 0);
        T_ASSERT(sv_wait_proc(c, p.id, "running", 1, SV_WAIT, &j));
        T_EQ_STR(j.last_signal, "KILL");
        T_EQ_INT(j.last_exit_code, -1);
        T_ASSERT(j.pid != p.pid);
        teardown();
}

/* A restarted process keeps id and name, counts restarts and keeps the last exit. */
static void
t_restart_keeps_identity(void)
{
        struct corral_result res;
        struct sv_proc p, q, byname;
        const msgpack_object *list;

        setup();
        sv_spawn(c, &p, "{s:o, s:s, s:s, s:s, s:f}", "argv",
                 sv_argv("fail-times", harness_path(h, "runs"), "2", "7", NULL), "name", "svc",
                 "pool", "keep", "restart", "on-failure", "restart_delay", 0.01);
        T_ASSERT(sv_wait_proc(c, p.id, "running", 2, SV_WAIT, &q));
        T_EQ_INT(q.id, p.id);
        T_EQ_STR(q.name, "svc");
        T_EQ_STR(q.pool, "keep");
        T_EQ_INT(q.restarts, 2);
        T_ASSERT(q.has_last_exit);
        T_EQ_INT(q.last_exit_code, 7);
        T_EQ_STR(q.last_signal, "");
        T_ASSERT(q.pid != p.pid);
        T_ASSERT(q.started_at >= p.started_at);
        T_ASSERT(q.created_at == p.created_at);
        T_EQ_INT(q.worker_index, -1);

        T_OK(sv_callf(c, "process.info", &res, &err, "{s:s}", "name", "svc"), &err);
        sv_proc_decode(&res.obj, &byname);
        corral_result_free(&res);
        T_EQ_INT(byname.id, p.id);

        /* One record, not one per run. */
        T_OK(sv_callf(c, "process.list", &res, &err, "{s:s}", "pool", "keep"), &err);
        list = obj_get(&res.obj, "processes");
        T_ASSERT(list != NULL && list->type == MSGPACK_OBJECT_ARRAY);
        T_EQ_INT(list->via.array.size, 1);
        corral_result_free(&res);
        teardown();
}

/* A terminated process is never restarted, whatever its policy. */
static void
t_terminated_never_restarted(void)
{
        struct sv_proc p, q, b, bq;
        struct sv_sub *s;
        long stop_at;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("sleep", "60", NULL), "restart",
                 "always", "restart_delay", 0.01);
        sv_terminate_wait(c, p.id, &q);
        T_EQ_STR(q.state, "stopped");
        T_EQ_STR(q.signal, "TERM");

        /* In backoff: stopped at once, the pending restart dropped. */
        sv_spawn(c, &b, "{s:o, s:s, s:f}", "argv", sv_argv("exit-code", "1", NULL), "restart",
                 "always", "restart_delay", 0.3);
        T_ASSERTF(sv_sub_wait_count(s, b.id, "backoff", 1, SV_WAIT), "%s", sv_sub_trace(s, b.id));
        T_OK(sv_proc_call(c, "process.terminate", b.id, &bq, &err, NULL, NULL), &err);
        T_ASSERTF(strcmp(bq.state, "stopped") == 0 || strcmp(bq.state, "stopping") == 0,
                  "terminate in backoff: %s", bq.state);
        sv_join(c, b.id, &bq);
        T_EQ_STR(bq.state, "stopped");

        /* Three times the restart delay: nothing comes back. */
        sv_sub_poll(s, 1.0);
        T_EQ_INT(sv_sub_count(s, p.id, "running"), 1);
        T_ASSERT(sv_sub_count(s, b.id, "running") <= 2);
        stop_at = sv_sub_find(s, 0, "process.state", b.id, "stopped");
        T_ASSERTF(stop_at >= 0, "%s", sv_sub_trace(s, b.id));
        T_ASSERTF(sv_sub_find(s, (size_t)stop_at, "process.state", b.id, "running") == -1,
                  "restarted after terminate:%s", sv_sub_trace(s, b.id));
        sv_info(c, p.id, &q);
        T_EQ_STR(q.state, "stopped");
        sv_info(c, b.id, &bq);
        T_EQ_STR(bq.state, "stopped");
        sv_sub_free(s);
        teardown();
}

/*
 * terminate without a signal uses the process's own stop_signal
 * (PROTOCOL.md, process.terminate: "signal: its stop_signal (TERM)").
 *
 * Regression: terminate_run() once fell back to SIGTERM instead of
 * p->policy.stop_signal (fixed in 06bedae).
 */
static void
t_terminate_uses_stop_signal(void)
{
        struct corral_result res;
        struct sv_proc p, q;

        setup();
        sv_spawn(c, &p, "{s:o, s:s}", "argv", sv_argv("sleep", "60", NULL), "stop_signal", "INT");
        T_OK(sv_callf(c, "process.terminate", &res, &err, "{s:I, s:b}", "id", (json_int_t)p.id,
                      "wait", 1),
             &err);
        sv_proc_decode(&res.obj, &q);
        corral_result_free(&res);
        T_EQ_STR(q.state, "stopped");
        T_ASSERTF(strcmp(q.signal, "INT") == 0, "stopped by %s, not its stop_signal INT", q.signal);
        teardown();
}

/*
 * terminate without a grace uses the process's own grace (PROTOCOL.md:
 * "grace: its grace (10)"): a child ignoring TERM with grace 0.3 gets KILL
 * long before the daemon's default 10 s.
 *
 * Regression: terminate_run() once fell back to the daemon's --grace
 * instead of p->policy.grace (fixed in 06bedae).
 */
static void
t_terminate_uses_grace(void)
{
        const char *argv[] = {HELPER_PATH, "ignore-term", "60", NULL};
        struct corral_result res;
        struct sv_proc p, q;
        const char *ready;
        double t0, dt;

        setup();
        ready = harness_path(h, "ign-ready");
        sv_spawn(c, &p, "{s:[s,s,s,s], s:f}", "argv", argv[0], argv[1], argv[2], ready, "grace",
                 0.3);
        T_ASSERT(wait_file(ready, SV_WAIT));
        t0 = now_mono();
        T_OK(sv_callf(c, "process.terminate", &res, &err, "{s:I, s:b}", "id", (json_int_t)p.id,
                      "wait", 1),
             &err);
        dt = now_mono() - t0;
        sv_proc_decode(&res.obj, &q);
        corral_result_free(&res);
        T_EQ_STR(q.state, "stopped");
        T_EQ_STR(q.signal, "KILL");
        T_ASSERTF(dt >= 0.3 - EPS, "KILL after %.3f s, before the grace", dt);
        T_ASSERTF(dt < 5, "KILL came after %.2f s: the process's grace 0.3 s was not used", dt);
        teardown();
}

/* process.restart: a new pid, the same id; ended and backing-off processes start now. */
static void
t_process_restart(void)
{
        struct sv_proc p, q, e, j;
        struct sv_sub *s;
        double t0;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s}", "argv", sv_argv("sleep", "60", NULL), "name", "r");
        T_OK(sv_proc_call(c, "process.restart", p.id, &q, &err, "wait", "ready"), &err);
        T_EQ_STR(q.state, "running");
        T_EQ_INT(q.id, p.id);
        T_EQ_STR(q.name, "r");
        T_ASSERT(q.pid != p.pid && q.pid > 0);
        T_EQ_INT(q.restarts, 1);
        T_EQ_STR(q.last_signal, "TERM");
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));
        T_ASSERT(proc_state(q.pid) != 0 && proc_state(q.pid) != 'Z');
        T_ASSERT(sv_sub_wait_count(s, p.id, "running", 2, SV_WAIT));
        T_ASSERT(sv_sub_find(s, 0, "process.state", p.id, "stopping") >= 0);

        /* An ended process is started again. */
        sv_spawn(c, &e, "{s:o}", "argv", sv_argv("exit-code", "0", NULL));
        sv_join(c, e.id, &j);
        T_EQ_STR(j.state, "exited");
        T_OK(sv_proc_call(c, "process.restart", e.id, &q, &err, "wait", "ready"), &err);
        T_EQ_INT(q.id, e.id);
        T_ASSERTF(strcmp(q.state, "running") == 0 || strcmp(q.state, "exited") == 0, "state %s",
                  q.state);
        T_ASSERT(sv_wait_proc(c, e.id, "exited", 1, SV_WAIT, &j));
        T_EQ_INT(j.restarts, 1);

        /* In backoff with a long delay: restarted now. */
        sv_spawn(c, &e, "{s:o, s:s, s:f}", "argv", sv_argv("exit-code", "1", NULL), "restart",
                 "on-failure", "restart_delay", 30.0);
        T_ASSERT(sv_sub_wait_count(s, e.id, "backoff", 1, SV_WAIT));
        t0 = now_mono();
        T_OK(sv_proc_call(c, "process.restart", e.id, &q, &err, NULL, NULL), &err);
        T_ASSERTF(sv_sub_wait_count(s, e.id, "running", 2, SV_WAIT) && now_mono() - t0 < 15,
                  "not restarted out of backoff:%s", sv_sub_trace(s, e.id));
        sv_terminate_wait(c, e.id, &q);
        sv_sub_free(s);
        teardown();
}

/* ---- readiness ----------------------------------------------------------- */

static void
t_ready_notify(void)
{
        struct sv_proc slow, p;
        struct sv_sub *s;
        double t0, dt;
        long a, b;

        setup();
        s = sv_subscribe(h, NULL);
        /* Without wait: starting, then running once READY=1 comes. */
        sv_spawn(c, &slow, "{s:o, s:s}", "argv", sv_argv("notify-ready", "2.5", "slow ok", NULL),
                 "ready", "notify");
        T_EQ_STR(slow.state, "starting");
        T_ASSERT(!slow.ready);

        /* With wait "ready": the answer comes only once it is running. */
        t0 = now_mono();
        sv_spawn(c, &p, "{s:o, s:s, s:s}", "argv", sv_argv("notify-ready", "0.3", "serving", NULL),
                 "ready", "notify", "wait", "ready");
        dt = now_mono() - t0;
        T_EQ_STR(p.state, "running");
        T_ASSERT(p.ready);
        T_EQ_STR(p.status, "serving");
        T_ASSERTF(dt >= 0.3 - EPS, "spawn with wait ready answered after %.3f s", dt);
        T_ASSERT(sv_sub_wait_count(s, p.id, "running", 1, SV_WAIT));
        a = sv_sub_find(s, 0, "process.state", p.id, "starting");
        b = sv_sub_find(s, 0, "process.state", p.id, "running");
        T_ASSERTF(a >= 0 && a < b, "%s", sv_sub_trace(s, p.id));
        T_EQ_STR(s->ev[a].from, "pending");
        T_EQ_STR(s->ev[b].from, "starting");
        T_ASSERT(s->ev[b].ts - s->ev[a].ts >= 0.3 - EPS);

        /* The slow one shows its STATUS= while still starting. */
        for (double end = now_mono() + SV_WAIT;;) {
                struct sv_proc q;

                sv_info(c, slow.id, &q);
                if (strcmp(q.status, "starting") == 0) {
                        T_EQ_STR(q.state, "starting");
                        T_ASSERT(!q.ready);
                        break;
                }
                T_ASSERTF(strcmp(q.state, "starting") == 0 && now_mono() < end,
                          "STATUS=starting never shown (state %s, status \"%s\")", q.state,
                          q.status);
                usleep(20000);
        }
        T_ASSERT(sv_wait_proc(c, slow.id, "running", 0, SV_WAIT, &p));
        T_EQ_STR(p.status, "slow ok");
        T_ASSERT(p.ready);
        T_EQ_INT(p.restarts, 0);
        sv_sub_free(s);
        teardown();
}

/* A child that never sends READY=1 is killed at ready_timeout and counts as a failure. */
static void
t_ready_timeout(void)
{
        struct sv_proc p, j;
        struct sv_sub *s;
        double t0, dt;
        long i;

        setup();
        s = sv_subscribe(h, NULL);
        t0 = now_mono();
        sv_spawn(c, &p, "{s:o, s:s, s:f, s:s}", "argv", sv_argv("never-ready", "60", NULL), "ready",
                 "notify", "ready_timeout", 0.3, "wait", "ready");
        dt = now_mono() - t0;
        T_ASSERTF(dt >= 0.3 - EPS, "answered after %.3f s, before the ready timeout", dt);
        if (strcmp(p.state, "failed") != 0) {
                /* The answer may come as the kill is sent, before the reaping. */
                T_ASSERTF(strcmp(p.state, "starting") == 0, "state %s", p.state);
                sv_join(c, p.id, &p);
        }
        /* Killed by the daemon for not getting ready: a failed start, not a crash. */
        T_EQ_STR(p.state, "failed");
        T_EQ_STR(p.signal, "KILL");
        T_ASSERT(!p.ready);
        T_ASSERTF(p.has_reason && strstr(p.reason, "ready_timeout") != NULL, "reason \"%s\"",
                  p.reason);
        T_ASSERT(wait_pid_gone(p.pid, h->pid, 10));

        /* on-failure: a timeout is a failure, so it is restarted, up to the start limit. */
        sv_spawn(c, &p, "{s:o, s:s, s:f, s:s, s:f, s:i, s:f}", "argv",
                 sv_argv("never-ready", "60", NULL), "ready", "notify", "ready_timeout", 0.2,
                 "restart", "on-failure", "restart_delay", 0.01, "start_limit_burst", 2,
                 "start_limit_interval", 60.0);
        sv_join(c, p.id, &j);
        T_EQ_STR(j.state, "failed");
        T_EQ_INT(j.restarts, 1);
        T_EQ_STR(j.last_signal, "KILL");
        T_ASSERT(sv_sub_wait_count(s, p.id, "failed", 1, SV_WAIT));
        i = sv_sub_find(s, 0, "process.state", p.id, "backoff");
        T_ASSERTF(i >= 0, "%s", sv_sub_trace(s, p.id));
        T_EQ_STR(s->ev[i].from, "starting");
        T_EQ_STR(s->ev[i].signal, "KILL");
        T_ASSERTF(s->ev[i].has_reason && strstr(s->ev[i].reason, "ready_timeout") != NULL,
                  "reason \"%s\"", s->ev[i].reason);
        T_EQ_INT(sv_sub_count(s, p.id, "running"), 0);
        T_ASSERT(sv_sub_find(s, 0, "process.start_limit", p.id, NULL) >= 0);
        T_ASSERT(wait_pid_gone(j.pid, h->pid, 10));
        sv_sub_free(s);
        teardown();
}

/* ready=uptime: running only after min_uptime alive; an earlier end is a failure. */
static void
t_ready_uptime(void)
{
        struct sv_proc p, q, j;
        struct sv_sub *s;
        double t0, dt;
        long a, b;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("sleep", "60", NULL), "ready", "uptime",
                 "min_uptime", 0.5);
        T_EQ_STR(p.state, "starting");
        T_ASSERT(!p.ready);
        T_ASSERT(sv_sub_wait_count(s, p.id, "running", 1, SV_WAIT));
        a = sv_sub_find(s, 0, "process.state", p.id, "starting");
        b = sv_sub_find(s, 0, "process.state", p.id, "running");
        T_ASSERT(a >= 0 && a < b);
        T_ASSERTF(s->ev[b].ts - s->ev[a].ts >= 0.5 - EPS, "running after %.3f s of uptime",
                  s->ev[b].ts - s->ev[a].ts);
        sv_info(c, p.id, &q);
        T_EQ_STR(q.state, "running");
        T_ASSERT(q.ready);

        t0 = now_mono();
        sv_spawn(c, &q, "{s:o, s:s, s:f, s:s}", "argv", sv_argv("sleep", "60", NULL), "ready",
                 "uptime", "min_uptime", 0.4, "wait", "ready");
        dt = now_mono() - t0;
        T_EQ_STR(q.state, "running");
        T_ASSERTF(dt >= 0.4 - EPS, "ready after %.3f s, before min_uptime", dt);

        /* Ending before min_uptime: not ready, with a reason. */
        sv_spawn(c, &p, "{s:o, s:s, s:f}", "argv", sv_argv("exit-after", "0.1", "0", NULL), "ready",
                 "uptime", "min_uptime", 2.0);
        sv_join(c, p.id, &j);
        T_ASSERT(!j.ready);
        T_ASSERTF(j.has_reason && strstr(j.reason, "min_uptime") != NULL, "reason \"%s\"",
                  j.reason);
        T_EQ_INT(sv_sub_count(s, p.id, "running"), 0);
        sv_sub_free(s);
        teardown();
}

/*
 * A timer counts from when it is armed. Many spawns and then one with
 * ready=uptime arrive in one write, so corrald handles them in one loop
 * iteration; the last one's min_uptime must still be a full 0.5 s from
 * its start (its "starting" event), however long the iteration took
 * before. A correct daemon passes this on any machine, loaded or not: a
 * timer may fire late, never early.
 *
 * corrald keeps no cached clock (EVENT_BASE_FLAG_NO_CACHE_TIME) and pads
 * every timeout by the coarse clock's tick (daemon/timer.c): this case
 * guards both.
 */
#define READ_CHUNK 4096 /* libevent's evbuffer_read takes at most this much at a time */

static void
pk_request(msgpack_packer *pk, uint32_t msgid, json_t *params)
{
        T_ASSERT(params != NULL);
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint8(pk, 0);
        msgpack_pack_uint32(pk, msgid);
        pk_str(pk, "process.spawn");
        msgpack_pack_array(pk, 1);
        sv_pack_json(pk, params);
        json_decref(params);
}

static void
t_timers_not_early(void)
{
        msgpack_sbuffer sb, timed;
        msgpack_packer pk;
        msgpack_unpacked m;
        struct sv_sub *s;
        struct raw *r;
        long first, st, run;
        uint64_t id = 0;
        uint32_t n = 0;
        double spent, gap;

        setup();
        s = sv_subscribe(h, "{s:[s]}", "pools", "b");
        /* The timed spawn last, after as many short ones as fit in one read. */
        msgpack_sbuffer_init(&timed);
        msgpack_packer_init(&pk, &timed, msgpack_sbuffer_write);
        pk_request(&pk, 100000,
                   json_pack("{s:[s,s], s:s, s:s, s:s, s:f}", "argv", "sleep", "60", "pool", "b",
                             "name", "timed", "ready", "uptime", "min_uptime", 0.5));
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        while (sb.size + 2 * timed.size < READ_CHUNK)
                pk_request(&pk, ++n,
                           json_pack("{s:[s,s], s:s}", "argv", "sleep", "60", "pool", "b"));
        msgpack_sbuffer_write(&sb, timed.data, timed.size);
        msgpack_sbuffer_destroy(&timed);
        T_ASSERT(n >= 20 && sb.size <= READ_CHUNK);
        r = raw_connect(h->sock);
        T_ASSERT(raw_send(r, sb.data, sb.size)); /* one datagram-sized write: one read */
        msgpack_sbuffer_destroy(&sb);
        msgpack_unpacked_init(&m);
        for (uint32_t i = 0; i <= n; i++) {
                raw_response(r, SV_WAIT, &m);
                T_ASSERTF(resp_error(&m.data) == NULL, "spawn: %s",
                          resp_error_str(&m.data, "message"));
                if (resp_msgid(&m.data) == 100000)
                        id = (uint64_t)obj_int(obj_get(resp_result(&m.data), "id"));
        }
        msgpack_unpacked_destroy(&m);
        raw_close(r);
        T_ASSERT(id != 0);
        T_ASSERTF(sv_sub_wait_count(s, id, "running", 1, SV_WAIT), "%s", sv_sub_trace(s, id));

        first = sv_sub_find(s, 0, "process.state", 0, "running");
        st = sv_sub_find(s, 0, "process.state", id, "starting");
        run = sv_sub_find(s, 0, "process.state", id, "running");
        T_ASSERT(first >= 0 && st > first && run > st);
        spent = s->ev[st].ts - s->ev[first].ts;
        gap = s->ev[run].ts - s->ev[st].ts;
        /* Clocks: realtime event stamps against a monotonic timer, 2 ms is plenty. */
        T_ASSERTF(gap >= 0.5 - 0.002,
                  "ready after %.3f s of its min_uptime 0.5 s, %.3f s early; the loop had spent "
                  "%.3f s on %u spawns before arming its timer",
                  gap, 0.5 - gap, spent, n);
        sv_sub_free(s);
        teardown();
}

/* ---- dependencies --------------------------------------------------------- */

static void
t_after_success_chain(void)
{
        struct sv_proc a, b, cc, ja, jb, jc;
        struct sv_sub *s;
        long ea, sb, eb, sc;

        setup();
        s = sv_subscribe(h, NULL);
        sv_spawn(c, &a, "{s:o, s:s}", "argv", sv_argv("exit-after", "0.3", "0", NULL), "name", "A");
        sv_spawn(c, &b, "{s:o, s:s, s:[s]}", "argv", sv_argv("exit-after", "0.1", "0", NULL),
                 "name", "B", "after", "A");
        T_EQ_STR(b.state, "pending");
        T_ASSERT(b.pid == 0 && b.started_at == 0);
        sv_spawn(c, &cc, "{s:o, s:s, s:[I]}", "argv", sv_argv("exit-code", "0", NULL), "name", "C",
                 "after", (json_int_t)b.id);
        T_EQ_STR(cc.state, "pending");

        sv_join(c, cc.id, &jc);
        T_EQ_STR(jc.state, "exited");
        sv_info(c, a.id, &ja);
        sv_info(c, b.id, &jb);
        T_EQ_STR(ja.state, "exited");
        T_EQ_STR(jb.state, "exited");
        T_ASSERTF(jb.started_at >= ja.ended_at, "B started %.3f, A ended %.3f", jb.started_at,
                  ja.ended_at);
        T_ASSERT(jc.started_at >= jb.ended_at);

        T_ASSERT(sv_sub_wait_count(s, cc.id, "exited", 1, SV_WAIT));
        ea = sv_sub_find(s, 0, "process.state", a.id, "exited");
        sb = sv_sub_find(s, 0, "process.state", b.id, "running");
        eb = sv_sub_find(s, 0, "process.state", b.id, "exited");
        sc = sv_sub_find(s, 0, "process.state", cc.id, "running");
        T_ASSERTF(ea >= 0 && ea < sb && sb < eb && eb < sc, "order:%s", sv_sub_trace(s, 0));
        sv_sub_free(s);
        teardown();
}

static void
t_after_failure_cancels(void)
{
        struct sv_proc a, b, cc, j;

        setup();
        sv_spawn(c, &a, "{s:o, s:s}", "argv", sv_argv("exit-after", "0.3", "1", NULL), "name",
                 "first-step");
        sv_spawn(c, &b, "{s:o, s:s, s:[I]}", "argv", sv_argv("exit-code", "0", NULL), "name",
                 "second-step", "after", (json_int_t)a.id);
        sv_spawn(c, &cc, "{s:o, s:s, s:[s]}", "argv", sv_argv("exit-code", "0", NULL), "name",
                 "third-step", "after", "second-step");
        T_EQ_STR(b.state, "pending");

        sv_join(c, b.id, &j);
        T_EQ_STR(j.state, "cancelled");
        T_ASSERTF(j.has_reason && strstr(j.reason, "first-step") != NULL, "reason \"%s\"",
                  j.reason);
        T_EQ_INT(j.pid, 0); /* never ran */
        T_ASSERT(j.started_at == 0);
        T_ASSERT(!j.has_exit_code);

        /* The cancellation cascades. */
        sv_join(c, cc.id, &j);
        T_EQ_STR(j.state, "cancelled");
        T_ASSERTF(j.has_reason && strstr(j.reason, "second-step") != NULL, "reason \"%s\"",
                  j.reason);
        sv_join(c, a.id, &j);
        T_ASSERT(j.has_exit_code && j.exit_code == 1);
        teardown();
}

static void
t_after_ended_dependency(void)
{
        struct sv_proc a, b, j;

        setup();
        /* Already failed: cancelled at once. */
        sv_spawn(c, &a, "{s:o, s:s}", "argv", sv_argv("exit-code", "1", NULL), "name", "broken");
        sv_join(c, a.id, &j);
        T_EQ_STR(j.state, "exited");
        sv_spawn(c, &b, "{s:o, s:[I]}", "argv", sv_argv("exit-code", "0", NULL), "after",
                 (json_int_t)a.id);
        T_EQ_STR(b.state, "cancelled");
        T_ASSERTF(b.has_reason && strstr(b.reason, "broken") != NULL, "reason \"%s\"", b.reason);
        T_ASSERT(b.ended_at > 0);

        /* Already succeeded, by its own success_codes: starts at once. */
        sv_spawn(c, &a, "{s:o, s:s, s:[i]}", "argv", sv_argv("exit-code", "3", NULL), "name",
                 "three", "success_codes", 3);
        sv_join(c, a.id, &j);
        sv_spawn(c, &b, "{s:o, s:[s]}", "argv", sv_argv("exit-code", "0", NULL), "after", "three");
        sv_join(c, b.id, &j);
        T_EQ_STR(j.state, "exited");
        T_ASSERT(j.has_exit_code && j.exit_code == 0);
        teardown();
}

static size_t
process_count(void)
{
        struct corral_result res;
        const msgpack_object *l;
        size_t n;

        T_OK(sv_callf(c, "process.list", &res, &err, NULL), &err);
        l = obj_get(&res.obj, "processes");
        T_ASSERT(l != NULL && l->type == MSGPACK_OBJECT_ARRAY);
        n = l->via.array.size;
        corral_result_free(&res);
        return n;
}

static void
t_after_unknown(void)
{
        struct sv_proc p;

        setup();
        T_ERR(sv_spawn_try(c, &p, &err, "{s:o, s:[i]}", "argv", sv_argv("exit-code", "0", NULL),
                           "after", 999999),
              &err, "not_found");
        T_EQ_STR(err.field, "after");
        T_ERR(sv_spawn_try(c, &p, &err, "{s:o, s:[s]}", "argv", sv_argv("exit-code", "0", NULL),
                           "after", "nosuch"),
              &err, "not_found");
        T_EQ_STR(err.field, "after");
        T_ASSERTF(strstr(err.message, "nosuch") != NULL, "message \"%s\"", err.message);
        T_EQ_INT(process_count(), 0); /* nothing recorded */
        teardown();
}

/* ---- bad input ------------------------------------------------------------ */

static void
bad(const char *method, const char *field, const char *fmt, ...)
{
        struct corral_error e;
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = sv_callv(c, method, NULL, &e, fmt, ap);
        va_end(ap);
        T_ASSERTF(rc != 0, "%s %s accepted", method, fmt);
        T_ASSERTF(strcmp(e.code, "invalid_params") == 0 && strcmp(e.field, field) == 0,
                  "%s %s: %s [%s] %s, expected invalid_params [%s]", method, fmt, e.code, e.field,
                  e.message, field);
}

static void
t_bad_params(void)
{
        struct corral_result res;
        const msgpack_object *pools;

        setup();
        bad("process.spawn", "restart", "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL),
            "restart", "sometimes");
        bad("process.spawn", "success_codes", "{s:o, s:[i]}", "argv",
            sv_argv("exit-code", "0", NULL), "success_codes", 256);
        bad("process.spawn", "success_codes", "{s:o, s:[i,i]}", "argv",
            sv_argv("exit-code", "0", NULL), "success_codes", 0, -1);
        bad("process.spawn", "success_codes", "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL),
            "success_codes", "0");
        bad("process.spawn", "ready", "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL),
            "ready", "maybe");
        bad("process.spawn", "restart_delay", "{s:o, s:f}", "argv", sv_argv("exit-code", "0", NULL),
            "restart_delay", -1.0);
        bad("process.spawn", "wait", "{s:o, s:s}", "argv", sv_argv("exit-code", "0", NULL), "wait",
            "forever");
        bad("pool.create", "replicas.count", "{s:s, s:{s:o}}", "name", "nocount", "replicas",
            "argv", sv_argv("sleep", "60", NULL));
        bad("pool.create", "replicas.argv", "{s:s, s:{s:i}}", "name", "noargv", "replicas", "count",
            1);
        bad("pool.create", "restart", "{s:s, s:s}", "name", "badpolicy", "restart", "never");
        bad("pool.create", "success_codes", "{s:s, s:[i]}", "name", "badcodes", "success_codes",
            1000);

        /* Nothing was made. */
        T_EQ_INT(process_count(), 0);
        T_OK(sv_callf(c, "pool.list", &res, &err, NULL), &err);
        pools = obj_get(&res.obj, "pools");
        T_ASSERT(pools != NULL && pools->type == MSGPACK_OBJECT_ARRAY);
        T_EQ_INT(pools->via.array.size, 1); /* default */
        corral_result_free(&res);
        teardown();
}

/* One case per line: CMake reads them. */
/* clang-format off */
static const struct test_case cases[] = {
    TEST_CASE(backoff_grows),
    TEST_CASE(start_limit),
    TEST_CASE(failed_retry_after),
    TEST_CASE(terminate_failed_disarms_retry),
    TEST_CASE(start_rearms),
    TEST_CASE(policies),
    TEST_CASE(restart_keeps_identity),
    TEST_CASE(terminated_never_restarted),
    TEST_CASE(terminate_uses_stop_signal),
    TEST_CASE(terminate_uses_grace),
    TEST_CASE(process_restart),
    TEST_CASE(ready_notify),
    TEST_CASE(ready_timeout),
    TEST_CASE(ready_uptime),
    TEST_CASE(timers_not_early),
    TEST_CASE(after_success_chain),
    TEST_CASE(after_failure_cancels),
    TEST_CASE(after_ended_dependency),
    TEST_CASE(after_unknown),
    TEST_CASE(bad_params),
};
/* clang-format on */

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
