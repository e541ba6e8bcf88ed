/*
 * process-state.c -- the state machine of a process (s6-supervise style):
 * a table of small transitions indexed by state and event, plus the
 * reaper that turns waitpid() results into events.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "corrald.h"
#include "log.h"
#include "process-table.h"
#include "process.h"

struct process_ev {
        int status; /* PROCESS_EV_EXIT, PROCESS_EV_SIGNALED: from waitpid */
        int sig;    /* PROCESS_EV_TERMINATE */
        double grace;
};

typedef void (*process_action)(struct process *, const struct process_ev *);

static void process_grace_cb(evutil_socket_t, short, void *);

/* Signal the process's whole group (its pid is the group id). */
static void
process_kill_group(struct process *p, int sig)
{
        if (kill(-p->pid, sig) == -1 && errno != ESRCH)
                log_warn("process %s: kill(-%ld, %s): %s", p->name, (long)p->pid,
                         proto_signal_name(sig), strerror(errno));
}

static void
process_arm_grace(struct process *p, double grace)
{
        struct timeval tv;

        if (p->grace_timer == NULL)
                p->grace_timer = evtimer_new(p->table->daemon->base, process_grace_cb, p);
        if (p->grace_timer == NULL)
                fatalx("cannot create a timer");
        tv.tv_sec = (time_t)grace;
        tv.tv_usec = (suseconds_t)((grace - floor(grace)) * 1e6);
        evtimer_add(p->grace_timer, &tv);
}

static void
process_record_status(struct process *p, int status)
{
        if (WIFEXITED(status)) {
                p->exit_code = WEXITSTATUS(status);
                p->term_signal = 0;
        } else if (WIFSIGNALED(status)) {
                p->exit_code = -1;
                p->term_signal = WTERMSIG(status);
                p->core_dumped = WCOREDUMP(status);
        }
}

/* running -> exited / killed: it ended on its own. */
static void
process_act_died(struct process *p, const struct process_ev *ev)
{
        process_record_status(p, ev->status);
        p->state = WIFSIGNALED(ev->status) ? PROCESS_KILLED : PROCESS_EXITED;
        log_debug("process %s (pid %ld) %s", p->name, (long)p->pid, process_state_name(p->state));
        process_ended(p->table, p);
}

/* stopping -> stopped: it ended after we asked it to. */
static void
process_act_stopped(struct process *p, const struct process_ev *ev)
{
        process_record_status(p, ev->status);
        p->state = PROCESS_STOPPED;
        log_debug("process %s (pid %ld) stopped", p->name, (long)p->pid);
        process_ended(p->table, p);
}

/* running -> stopping: send the stop signal, KILL after grace. */
static void
process_act_terminate(struct process *p, const struct process_ev *ev)
{
        p->state = PROCESS_STOPPING;
        p->stop_signal = ev->sig;
        p->grace = ev->grace;
        process_kill_group(p, ev->sig);
        if (ev->sig != SIGKILL)
                process_arm_grace(p, ev->grace);
}

/* stopping + terminate: resend; a shorter grace than the pending one wins. */
static void
process_act_reterminate(struct process *p, const struct process_ev *ev)
{
        process_kill_group(p, ev->sig);
        if (ev->sig != SIGKILL && ev->grace < p->grace) {
                p->grace = ev->grace;
                process_arm_grace(p, ev->grace);
        }
}

/* stopping + grace expired: no more patience. */
static void
process_act_kill(struct process *p, const struct process_ev *ev)
{
        log_info("process %s (pid %ld) ignored %s for %.3gs: sending KILL", p->name, (long)p->pid,
                 proto_signal_name(p->stop_signal), p->grace);
        process_kill_group(p, SIGKILL);
}

static const process_action process_actions[PROCESS_STATE_COUNT][PROCESS_EVENT_COUNT] = {
    [PROCESS_RUNNING] =
        {
            [PROCESS_EV_EXIT] = process_act_died,
            [PROCESS_EV_SIGNALED] = process_act_died,
            [PROCESS_EV_TERMINATE] = process_act_terminate,
        },
    [PROCESS_STOPPING] =
        {
            [PROCESS_EV_EXIT] = process_act_stopped,
            [PROCESS_EV_SIGNALED] = process_act_stopped,
            [PROCESS_EV_TERMINATE] = process_act_reterminate,
            [PROCESS_EV_GRACE] = process_act_kill,
        },
    /* Final states take no events. */
};

static void
process_fire(struct process *p, enum process_event e, const struct process_ev *ev)
{
        process_action act = process_actions[p->state][e];

        if (act != NULL)
                act(p, ev);
}

static void
process_grace_cb(evutil_socket_t fd, short what, void *arg)
{
        struct process_ev ev = {0};

        process_fire(arg, PROCESS_EV_GRACE, &ev);
}

void
process_terminate(struct process *p, int sig, double grace)
{
        struct process_ev ev = {.sig = sig, .grace = grace};

        process_fire(p, PROCESS_EV_TERMINATE, &ev);
}

void
process_terminate_all(struct process_table *t, bool hurry)
{
        struct process *p, *next;

        for (p = TAILQ_FIRST(&t->all); p != NULL; p = next) {
                next = TAILQ_NEXT(p, entry);
                if (process_is_final(p))
                        continue;
                if (hurry)
                        process_terminate(p, SIGKILL, 0);
                else if (p->state == PROCESS_RUNNING)
                        process_terminate(p, SIGTERM, t->daemon->config.default_grace);
        }
}

void
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
        process_fire(p, WIFSIGNALED(status) ? PROCESS_EV_SIGNALED : PROCESS_EV_EXIT, &ev);
}

/*
 * Before reaping a process we asked to stop, kill what is left of its
 * group: the zombie still holds the pid, so the group id cannot have
 * been reused by anyone else.
 */
static void
process_before_reap(struct process_table *t, pid_t pid)
{
        struct process *p = process_find_pid(t, pid);

        if (p != NULL && p->state == PROCESS_STOPPING)
                process_kill_group(p, SIGKILL);
}

void
process_reap_all(struct process_table *t)
{
        for (;;) {
                siginfo_t si;
                int status;
                pid_t pid;

                memset(&si, 0, sizeof si);
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
                        if (errno == EINTR)
                                continue;
                        if (errno != ECHILD)
                                log_warn("waitid: %s", strerror(errno));
                        return;
                }
                if (si.si_pid == 0)
                        return;
                process_before_reap(t, si.si_pid);
                do
                        pid = waitpid(si.si_pid, &status, 0);
                while (pid == -1 && errno == EINTR);
                if (pid == -1) {
                        log_warn("waitpid(%ld): %s", (long)si.si_pid, strerror(errno));
                        return;
                }
                process_reaped(t, pid, status);
        }
}
