/*
 * process-state.c -- the state machine of a supervised process
 * (s6-supervise style): a table of small transitions indexed by state and
 * event, one place that changes state (process_set_state), and the reaper
 * that turns waitpid() results into events.
 *
 * One timer per process; its meaning is the state's: ready timeout or
 * min_uptime (starting), grace (stopping), restart delay (backoff), retry
 * (failed with failed_retry_after).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "pool.h"
#include "process-table.h"
#include "output.h"
#include "process.h"
#include "queue.h"
#include "spawn.h"
#include "stdin-feed.h"
#include "xmalloc.h"
#include "timer.h"

struct process_ev {
        int status; /* EXIT, SIGNALED: from waitpid */
        int sig;    /* TERMINATE */
        double grace;
        const char *reason; /* CANCEL */
};

typedef void (*process_action)(struct process *, const struct process_ev *);

static void process_fire(struct process *, enum process_event, const struct process_ev *);

static void
process_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        struct process_ev ev = {0};

        process_fire(arg, PROCESS_EV_TIMER, &ev);
}

static void
process_timer_arm(struct process *p, double secs)
{
        if (p->timer == NULL)
                p->timer = evtimer_new(p->table->daemon->base, process_timer_cb, p);
        if (p->timer == NULL)
                fatalx("cannot create a timer");
        if (timer_arm(p->timer, secs) != 0)
                fatalx("cannot arm a timer");
}

static void
process_timer_stop(struct process *p)
{
        if (p->timer != NULL)
                evtimer_del(p->timer);
}

static void process_set_reason(struct process *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
process_set_reason(struct process *p, const char *fmt, ...)
{
        va_list ap;

        free(p->reason);
        p->reason = NULL;
        if (fmt == NULL)
                return;
        va_start(ap, fmt);
        if (vasprintf(&p->reason, fmt, ap) < 0)
                fatalx("out of memory");
        va_end(ap);
}

/* Signal the process's whole group (its pid is the group id). */
static void
process_kill_group(struct process *p, int sig)
{
        /* Only while unreaped: then the group id cannot have been reused. */
        if (!p->alive)
                return;
        if (spawn_kill(-p->pid, sig) == -1 && errno != ESRCH)
                log_warn("process %s: kill(-%ld, %s): %s", p->name, (long)p->pid,
                         proto_signal_name(sig), strerror(errno));
}

/* Waiting for "ready" goes on through these states (stopping: a restart). */
/* Everything the process started: its group, and its cgroup where there is one. */
static void
process_kill_tree(struct process *p)
{
        process_kill_group(p, SIGKILL);
        cgroups_process_kill(p->table->daemon->cgroups, p->pool_name, p->id);
}

static bool
process_is_waiting_start(enum process_state s)
{
        return s == PROCESS_PENDING || s == PROCESS_STARTING || s == PROCESS_STOPPING;
}

/*
 * The one place a state changes: the pool's slots and queues, the
 * event stream, joins, readiness waits and the live count follow it.
 */
static void
process_set_state(struct process *p, enum process_state to)
{
        struct process_table *t = p->table;
        enum process_state from = p->state;
        bool was_final = process_is_final(p), was_running = from == PROCESS_RUNNING;

        if (from == to)
                return;
        process_timer_stop(p);
        p->state = to;
        if (was_running)
                t->running--;
        if (to == PROCESS_RUNNING)
                t->running++;
        if (!was_final && process_is_final(p)) {
                p->ready = false;
                output_ended(p->output);
                output_follow_end(t->daemon, p);
        } else if (was_final && !process_is_final(p))
                process_revived(t, p);
        log_debug("process %s (id %llu): %s -> %s", p->name, (unsigned long long)p->id,
                  process_state_name(from), process_state_name(to));
        events_process_state(t->daemon, p, from);
        if (p->pool != NULL)
                pool_member_changed(p->pool, p, from);
        if (!process_is_waiting_start(to))
                request_waitq_wake(&p->ready_waiters, p);
        if (!was_final && process_is_final(p))
                process_ended(t, p);
}

/* Starts within start_limit_interval, counting the one about to happen. */
static bool
process_start_limited(struct process *p)
{
        double now = process_mono(), window = p->policy.start_limit_interval;
        unsigned burst = p->policy.start_limit_burst, i, recent = 0;

        if (burst == 0)
                return false;
        for (i = 0; i < p->nstarts; i++) {
                if (now - p->starts[i] < window)
                        recent++;
        }
        return recent >= burst;
}

static void
process_note_start(struct process *p)
{
        unsigned burst = p->policy.start_limit_burst;

        if (burst == 0)
                return;
        p->starts[p->starts_head] = process_mono();
        p->starts_head = (p->starts_head + 1) % burst;
        if (p->nstarts < burst)
                p->nstarts++;
}

/* Forget past starts: process.start and failed_retry_after re-arm the limit. */
static void
process_rearm(struct process *p)
{
        p->nstarts = 0;
        p->starts_head = 0;
        p->delay = p->policy.restart_delay;
}

static void
process_fail_start_limit(struct process *p)
{
        process_set_reason(p, "started %u times within %gs (start_limit_burst)",
                           p->policy.start_limit_burst, p->policy.start_limit_interval);
        log_warn("process %s (id %llu): %s; now failed%s", p->name, (unsigned long long)p->id,
                 p->reason, p->policy.failed_retry_after > 0 ? ", will retry" : "");
        events_process_start_limit(p->table->daemon, p);
        process_set_state(p, PROCESS_FAILED);
        if (p->policy.failed_retry_after > 0 && process_is_final(p) && p->state == PROCESS_FAILED)
                process_timer_arm(p, p->policy.failed_retry_after);
}

void
process_launched(struct process *p)
{
        struct process_table *t = p->table;

        process_pid_learn(t, p);
        process_note_start(p);
        p->start_mono = process_mono();
        p->started_at = process_now();
        p->ready_timed_out = false;
        if (p->has_ended_once)
                p->restarts++;
        if (p->policy.ready == READY_SPAWNED) {
                p->ready = true;
                process_set_state(p, PROCESS_RUNNING);
                return;
        }
        p->ready = false;
        process_set_state(p, PROCESS_STARTING);
        process_timer_arm(p, p->policy.ready == READY_UPTIME ? p->policy.min_uptime
                                                             : p->policy.ready_timeout);
}

static void process_decide(struct process *, bool failed, bool ran);

/* Run the program again (or for the first time after pending). */
static void
process_launch(struct process *p)
{
        struct proto_error err;

        if (process_start_limited(p)) {
                process_fail_start_limit(p);
                return;
        }
        if (process_exec(p, &err) != 0) {
                /* The binary may come back: this counts as a failed start, not a crash of ours. */
                process_note_start(p);
                process_set_reason(p, "%s", err.message);
                log_warn("process %s (id %llu): %s", p->name, (unsigned long long)p->id,
                         err.message);
                p->start_mono = process_mono();
                process_decide(p, true, false);
                return;
        }
        process_set_reason(p, NULL);
        process_launched(p);
}

/* The run ended (or could not start): restart per policy, or settle. */
static void
process_decide(struct process *p, bool failed, bool ran)
{
        const struct policy *pol = &p->policy;
        bool restart =
            pol->restart == RESTART_ALWAYS || (pol->restart == RESTART_ON_FAILURE && failed);
        double uptime = process_mono() - p->start_mono, delay;

        if (!restart) {
                /* Never ran, or never got ready: our KILL is not how it "died". */
                if (!ran || p->ready_timed_out)
                        process_set_state(p, PROCESS_FAILED);
                else
                        process_set_state(p, p->term_signal > 0 ? PROCESS_KILLED : PROCESS_EXITED);
                return;
        }
        if (process_start_limited(p)) {
                process_fail_start_limit(p);
                return;
        }
        /* A run that stayed up min_uptime was healthy: back to the first delay. */
        if (uptime >= pol->min_uptime)
                p->delay = pol->restart_delay;
        delay = p->delay;
        p->delay = fmin(p->delay * 2, pol->restart_delay_max);
        if (p->delay <= 0)
                p->delay = fmin(pol->restart_delay_max, 0.001);
        process_set_state(p, PROCESS_BACKOFF);
        process_timer_arm(p, delay);
}

static void
process_record_status(struct process *p, int status)
{
        p->has_ended_once = true;
        p->core_dumped = false;
        if (WIFEXITED(status)) {
                p->exit_code = WEXITSTATUS(status);
                p->term_signal = 0;
        } else if (WIFSIGNALED(status)) {
                p->exit_code = -1;
                p->term_signal = WTERMSIG(status);
                p->core_dumped = WCOREDUMP(status);
        }
}

/* starting/running: the run ended on its own. */
static void
process_act_died(struct process *p, const struct process_ev *ev)
{
        bool failed;

        process_record_status(p, ev->status);
        failed = !WIFEXITED(ev->status) || !policy_is_success(&p->policy, p->exit_code) ||
                 p->ready_timed_out;
        if (p->ready_timed_out)
                process_set_reason(p, "not ready within %gs (ready_timeout)",
                                   p->policy.ready_timeout);
        else if (p->state == PROCESS_STARTING && p->policy.ready == READY_UPTIME)
                process_set_reason(p, "ended before min_uptime (%gs)", p->policy.min_uptime);
        process_decide(p, failed, true);
}

/* stopping: it ended after we asked; restart if that was the point. */
static void
process_act_stopped(struct process *p, const struct process_ev *ev)
{
        process_record_status(p, ev->status);
        if (p->restart_after_stop) {
                p->restart_after_stop = false;
                process_rearm(p);
                process_launch(p);
                return;
        }
        process_set_state(p, PROCESS_STOPPED);
}

/* A live run: send the stop signal, KILL after grace. */
static void
process_act_terminate(struct process *p, const struct process_ev *ev)
{
        p->restart_after_stop = false;
        process_set_state(p, PROCESS_STOPPING);
        process_kill_group(p, ev->sig);
        if (ev->sig != SIGKILL) {
                p->policy.grace = ev->grace;
                process_timer_arm(p, ev->grace);
        }
}

/* stopping + terminate: resend; a shorter grace than the pending one wins. */
static void
process_act_reterminate(struct process *p, const struct process_ev *ev)
{
        p->restart_after_stop = false;
        process_kill_group(p, ev->sig);
        if (ev->sig != SIGKILL && ev->grace < p->policy.grace) {
                p->policy.grace = ev->grace;
                process_timer_arm(p, ev->grace);
        }
}

/* Not running (pending, backoff): just settle as stopped. */
static void
process_act_stop_idle(struct process *p, const struct process_ev *ev)
{
        if (p->state == PROCESS_PENDING && p->pool != NULL)
                pool_dequeue(p->pool, p);
        process_set_state(p, PROCESS_STOPPED);
}

/* failed with a retry armed: a terminated process is never restarted. */
static void
process_act_disarm(struct process *p, const struct process_ev *ev)
{
        process_timer_stop(p);
}

/* stopping + grace expired: no more patience. */
static void
process_act_kill(struct process *p, const struct process_ev *ev)
{
        log_info("process %s (pid %ld) ignored %s for %gs: sending KILL", p->name, (long)p->pid,
                 proto_signal_name(p->policy.stop_signal), p->policy.grace);
        process_kill_group(p, SIGKILL);
}

/* starting + timer: ready by uptime, or the ready timeout expired. */
static void
process_act_start_timer(struct process *p, const struct process_ev *ev)
{
        if (p->policy.ready == READY_UPTIME) {
                p->ready = true;
                process_set_state(p, PROCESS_RUNNING);
                return;
        }
        log_warn("process %s (pid %ld) not ready within %gs: killing it", p->name, (long)p->pid,
                 p->policy.ready_timeout);
        p->ready_timed_out = true;
        process_kill_group(p, SIGKILL);
}

static void
process_act_ready(struct process *p, const struct process_ev *ev)
{
        p->ready = true;
        process_set_state(p, PROCESS_RUNNING);
}

/* pending + start: the pool granted a slot. */
static void
process_act_start(struct process *p, const struct process_ev *ev)
{
        if (p->pool != NULL)
                pool_dequeue(p->pool, p);
        process_launch(p);
}

/* backoff + timer: try again. */
static void
process_act_backoff_over(struct process *p, const struct process_ev *ev)
{
        process_launch(p);
}

/* failed + timer: the circuit breaker closes again. */
static void
process_act_retry(struct process *p, const struct process_ev *ev)
{
        log_info("process %s (id %llu): retrying after failed_retry_after", p->name,
                 (unsigned long long)p->id);
        process_rearm(p);
        process_wait_turn(p);
}

/* A live run asked to restart: stop it, start again once it has ended. */
static void
process_act_restart_live(struct process *p, const struct process_ev *ev)
{
        int sig = p->policy.stop_signal;

        process_set_state(p, PROCESS_STOPPING);
        p->restart_after_stop = true;
        process_kill_group(p, sig);
        if (sig != SIGKILL)
                process_timer_arm(p, p->policy.grace);
}

static void
process_act_restart_stopping(struct process *p, const struct process_ev *ev)
{
        p->restart_after_stop = true;
}

static void
process_act_restart_backoff(struct process *p, const struct process_ev *ev)
{
        process_rearm(p);
        process_launch(p);
}

/* An ended record started again: same id and name, a slot first. */
static void
process_act_revive(struct process *p, const struct process_ev *ev)
{
        process_rearm(p);
        process_set_reason(p, NULL);
        process_wait_turn(p);
}

static void
process_act_cancel(struct process *p, const struct process_ev *ev)
{
        if (p->pool != NULL)
                pool_dequeue(p->pool, p);
        process_set_reason(p, "%s", ev->reason);
        process_set_state(p, PROCESS_CANCELLED);
}

#define FINAL_ROW                                                                                  \
        {                                                                                          \
                [PROCESS_EV_RESTART] = process_act_revive,                                         \
        }

static const process_action process_actions[PROCESS_STATE_COUNT][PROCESS_EVENT_COUNT] = {
    [PROCESS_PENDING] =
        {
            [PROCESS_EV_START] = process_act_start,
            [PROCESS_EV_TERMINATE] = process_act_stop_idle,
            [PROCESS_EV_CANCEL] = process_act_cancel,
        },
    [PROCESS_STARTING] =
        {
            [PROCESS_EV_EXIT] = process_act_died,
            [PROCESS_EV_SIGNALED] = process_act_died,
            [PROCESS_EV_READY] = process_act_ready,
            [PROCESS_EV_TIMER] = process_act_start_timer,
            [PROCESS_EV_TERMINATE] = process_act_terminate,
            [PROCESS_EV_RESTART] = process_act_restart_live,
        },
    [PROCESS_RUNNING] =
        {
            [PROCESS_EV_EXIT] = process_act_died,
            [PROCESS_EV_SIGNALED] = process_act_died,
            [PROCESS_EV_TERMINATE] = process_act_terminate,
            [PROCESS_EV_RESTART] = process_act_restart_live,
        },
    [PROCESS_STOPPING] =
        {
            [PROCESS_EV_EXIT] = process_act_stopped,
            [PROCESS_EV_SIGNALED] = process_act_stopped,
            [PROCESS_EV_TIMER] = process_act_kill,
            [PROCESS_EV_TERMINATE] = process_act_reterminate,
            [PROCESS_EV_RESTART] = process_act_restart_stopping,
        },
    [PROCESS_BACKOFF] =
        {
            [PROCESS_EV_TIMER] = process_act_backoff_over,
            [PROCESS_EV_TERMINATE] = process_act_stop_idle,
            [PROCESS_EV_RESTART] = process_act_restart_backoff,
        },
    [PROCESS_EXITED] = FINAL_ROW,
    [PROCESS_KILLED] = FINAL_ROW,
    [PROCESS_STOPPED] = FINAL_ROW,
    [PROCESS_FAILED] =
        {
            [PROCESS_EV_TIMER] = process_act_retry,
            [PROCESS_EV_TERMINATE] = process_act_disarm,
            [PROCESS_EV_RESTART] = process_act_revive,
        },
    [PROCESS_CANCELLED] = FINAL_ROW,
};

static void
process_fire(struct process *p, enum process_event e, const struct process_ev *ev)
{
        process_action act = process_actions[p->state][e];

        if (act != NULL)
                act(p, ev);
}

void
process_wait_turn(struct process *p)
{
        struct pool *pool = p->pool;

        if (p->state != PROCESS_PENDING)
                process_set_state(p, PROCESS_PENDING);
        pool_enqueue(pool, p);
}

void
process_start(struct process *p)
{
        struct process_ev ev = {0};

        process_fire(p, PROCESS_EV_START, &ev);
}

void
process_terminate(struct process *p, int sig, double grace)
{
        struct process_ev ev = {.sig = sig, .grace = grace};

        process_fire(p, PROCESS_EV_TERMINATE, &ev);
}

void
process_restart(struct process *p)
{
        struct process_ev ev = {0};

        process_fire(p, PROCESS_EV_RESTART, &ev);
}

void
process_notify(struct process *p, bool ready, const char *status)
{
        struct process_ev ev = {0};

        if (status != NULL) {
                free(p->status);
                p->status = xstrdup(status);
        }
        if (ready)
                process_fire(p, PROCESS_EV_READY, &ev);
}

void
process_wake_dependents(struct process *p)
{
        struct process_table *t = p->table;
        bool ok = p->state == PROCESS_EXITED && policy_is_success(&p->policy, p->exit_code);
        unsigned i, k;

        for (i = 0; i < p->ndependents; i++) {
                struct process *q = process_find_id(t, p->dependents[i]);
                bool waiting = false;

                if (q == NULL || q->state != PROCESS_PENDING)
                        continue;
                for (k = 0; k < q->nafter; k++) {
                        if (q->after[k] == p->id && ok)
                                q->after[k] = 0;
                        waiting |= q->after[k] != 0;
                }
                if (!ok)
                        process_cancel_for(q, p);
                else if (!waiting && q->pool != NULL)
                        pool_schedule(q->pool);
        }
        free(p->dependents);
        p->dependents = NULL;
        p->ndependents = 0;
}

/*
 * Settle q's dependencies that have already ended (success: satisfied),
 * and register q with the live ones. Returns the first one that ended
 * without success, or NULL.
 */
struct process *
process_link_dependencies(struct process *q)
{
        struct process_table *t = q->table;
        struct process *failed = NULL;
        unsigned k;

        for (k = 0; k < q->nafter; k++) {
                struct process *d = process_find_id(t, q->after[k]);

                if (d == NULL)
                        continue;
                if (process_is_final(d)) {
                        if (d->state == PROCESS_EXITED &&
                            policy_is_success(&d->policy, d->exit_code))
                                q->after[k] = 0;
                        else if (failed == NULL)
                                failed = d;
                        continue;
                }
                d->dependents =
                    xreallocarray(d->dependents, d->ndependents + 1, sizeof *d->dependents);
                d->dependents[d->ndependents++] = q->id;
        }
        return failed;
}

bool
process_deps_met(const struct process *q)
{
        unsigned k;

        for (k = 0; k < q->nafter; k++) {
                if (q->after[k] != 0)
                        return false;
        }
        return true;
}

void
process_cancel_for(struct process *q, const struct process *dep)
{
        char reason[160];
        struct process_ev ev = {.reason = reason};

        snprintf(reason, sizeof reason, "dependency %s (id %llu) %s", dep->name,
                 (unsigned long long)dep->id, process_state_name(dep->state));
        process_fire(q, PROCESS_EV_CANCEL, &ev);
}

void
process_terminate_all(struct process_table *t, bool hurry)
{
        struct process *p, *next;

        for (p = TAILQ_FIRST(&t->all); p != NULL; p = next) {
                next = TAILQ_NEXT(p, entry);
                if (hurry && p->state == PROCESS_STOPPING)
                        process_kill_tree(p);
                else if (!process_is_final(p) || p->state == PROCESS_FAILED)
                        process_terminate(p, hurry ? SIGKILL : p->policy.stop_signal,
                                          p->policy.grace);
        }
}

static void
process_reaped(struct process_table *t, pid_t pid, int status)
{
        struct process *p = process_find_pid(t, pid);
        struct process_ev ev = {.status = status};

        if (p == NULL) {
                /* An orphaned grandchild handed to us as subreaper. */
                log_debug("reaped orphan pid %ld", (long)pid);
                return;
        }
        process_pid_forget(t, p);
        p->oom_killed = cgroups_process_done(t->daemon->cgroups, p->pool_name, p->id);
        /* What it wrote before it died belongs to this run's record (and to join's answer). */
        output_drain(p->output);
        /* Its stdin feed ends with the run (a queue message being written goes back). */
        stdin_feed_free(p->feed);
        p->feed = NULL;
        /* What it had reserved in queues goes back now, not at the visibility timeout. */
        queue_release_process(t->daemon->queues, p->id);
        process_fire(p, WIFSIGNALED(status) ? PROCESS_EV_SIGNALED : PROCESS_EV_EXIT, &ev);
}

/*
 * Before reaping a process we asked to stop (or gave up on), kill what is
 * left of its group: the zombie still holds the pid, so the group id
 * cannot have been reused by anyone else.
 */
static void
process_before_reap(struct process_table *t, pid_t pid)
{
        struct process *p = process_find_pid(t, pid);

        if (p != NULL && (p->state == PROCESS_STOPPING || p->ready_timed_out))
                process_kill_tree(p);
}

void
process_reap_all(struct process_table *t)
{
        for (;;) {
                pid_t pid = spawn_ended();
                int status;

                if (pid == -1) {
                        if (errno != ECHILD)
                                log_warn("waitid: %s", strerror(errno));
                        return;
                }
                if (pid == 0)
                        return;
                process_before_reap(t, pid);
                if (spawn_wait(pid, &status) == -1) {
                        log_warn("waitpid(%ld): %s", (long)pid, strerror(errno));
                        return;
                }
                process_reaped(t, pid, status);
        }
}
