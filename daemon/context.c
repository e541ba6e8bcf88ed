/*
 * context.c -- the daemon's context, struct corrald, apart from main():
 * its defaults, making and freeing it, and the graceful stop. corrald.c's
 * main() adds the socket, signals, systemd and cgroups; the fuzz target
 * tests/fuzz/fuzz_request.c builds the same context around a socketpair.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "access.h"
#include "cgroup.h"
#include "config-apply.h"
#include "conn.h"
#include "corrald.h"
#include "events.h"
#include "log.h"
#include "method.h"
#include "notify.h"
#include "output.h"
#include "pool.h"
#include "process.h"
#include "process-table.h"
#include "queue.h"
#include "server.h"
#include "spawn.h"
#include "state.h"
#include "syncer.h"
#include "systemd.h"

#define CORRALD_FLUSH_SECONDS 2 /* at most this long to flush answers when stopping */

void
corrald_config_default(struct corrald_config *c)
{
        memset(c, 0, sizeof *c);
        c->history = 1000;
        c->default_grace = 10;
        proto_limits_default(&c->limits);
        c->max_waiting = 1024;
        c->max_pinned = 1024;
        c->max_output = 64 * 1024 * 1024;
        c->max_connections = 1024;
        c->max_processes = 10000;
        c->max_processes_per_uid = 1000;
        c->idle_timeout = 30;
        c->max_event_backlog = 4 * 1024 * 1024;
        c->queue_max_message = 8 * 1024 * 1024;
        c->socket_mode = 0660;
}

void
corrald_check_stopped(struct corrald *d)
{
        struct timeval tv = {CORRALD_FLUSH_SECONDS, 0};

        if (!d->stopping || process_table_live(d->processes) > 0)
                return;
        if (TAILQ_EMPTY(&d->conns)) {
                event_base_loopexit(d->base, NULL);
                return;
        }
        /* Every process has ended and every join is answered: flush and hang up. */
        conn_close_all(d);
        if (!evtimer_pending(d->stop_timer, NULL))
                evtimer_add(d->stop_timer, &tv);
}

void
corrald_reap(struct corrald *d)
{
        conn_batch_begin(d);
        process_reap_all(d->processes);
        conn_batch_end(d);
}

void
corrald_stop(struct corrald *d, const char *why)
{
        if (d->stopping) {
                log_warn("%s while stopping: killing every process now", why);
                process_terminate_all(d->processes, true);
                return;
        }
        d->stopping = true;
        systemd_stopping(d->systemd);
        log_info("%s: stopping (%u processes to terminate)", why, process_table_live(d->processes));
        server_close(d->server);
        process_terminate_all(d->processes, false);
        corrald_check_stopped(d);
}

static void
corrald_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        struct corrald *d = arg;

        log_warn("clients did not take their last answers in time; exiting");
        event_base_loopexit(d->base, NULL);
}

static void
corrald_reap_conns_cb(evutil_socket_t fd, short what, void *arg)
{
        conn_reap(arg);
}

void
corrald_init(struct corrald *d)
{
        struct event_config *ec = event_config_new();

        TAILQ_INIT(&d->conns);
        TAILQ_INIT(&d->dead_conns);
        msgpack_sbuffer_init(&d->out);
        msgpack_packer_init(&d->pk, &d->out, msgpack_sbuffer_write);
        /*
         * No cached clock: a timer armed late in a busy loop pass must
         * still wait its whole time (min_uptime, grace, timeouts). Not
         * the precise timer either: it costs a timerfd_settime on every
         * loop turn; timer.c pads timeouts by the coarse clock's tick
         * instead, so none fires early.
         */
        if (ec == NULL || event_config_set_flag(ec, EVENT_BASE_FLAG_NO_CACHE_TIME) != 0 ||
            (d->base = event_base_new_with_config(ec)) == NULL)
                fatalx("cannot create the event loop");
        event_config_free(ec);
        d->reap_conns_ev = event_new(d->base, -1, 0, corrald_reap_conns_cb, d);
        d->stop_timer = evtimer_new(d->base, corrald_stop_timer_cb, d);
        if (d->reap_conns_ev == NULL || d->stop_timer == NULL)
                fatalx("cannot create the daemon's events");
        method_table_check();
        spawn_init();
        d->started = process_mono();
        d->processes = process_table_new(d);
        d->pools = pool_table_new(d);
        d->syncer = syncer_new(d->base);
        d->queues = queue_table_new(d);
        d->state = state_new(d);
        d->events = events_new(d);
}

void
corrald_restore(struct corrald *d)
{
        char *cause = NULL;

        if ((d->notify = notify_new(d, &cause)) == NULL) {
                log_warn("%s: ready=notify is unavailable", cause);
                free(cause);
                cause = NULL;
        }
        if (queue_table_restore(d->queues, &cause) != 0) {
                log_error("%s", cause);
                free(cause);
        }
}

int
corrald_apply(struct corrald *d, struct config *cfg, char **cause)
{
        state_load(d->state);
        if (config_apply_startup(d, cfg, cause) != 0)
                return -1;
        state_restore(d->state);
        return 0;
}

void
corrald_free(struct corrald *d)
{
        size_t i;

        conn_free_all(d);
        output_follows_free(d);
        process_table_free(d->processes);
        pool_table_free(d->pools);
        queue_table_free(d->queues);
        syncer_free(d->syncer); /* after the logs: they wait for their syncs */
        events_free(d->events);
        notify_free(d->notify);
        systemd_free(d->systemd);
        output_files_free(d);
        /* Its save timer belongs to the base: free it before the base. */
        state_free(d->state);
        if (d->server != NULL)
                server_free(d->server);
        for (i = 0; i < sizeof d->sig_ev / sizeof d->sig_ev[0]; i++) {
                if (d->sig_ev[i] != NULL)
                        event_free(d->sig_ev[i]);
        }
        if (d->sigchld_ev != NULL)
                event_free(d->sigchld_ev);
        if (d->sigchld_fd > 0)
                close(d->sigchld_fd);
        event_free(d->reap_conns_ev);
        event_free(d->stop_timer);
        event_base_free(d->base);
        msgpack_sbuffer_destroy(&d->out);
        free(d->config.socket_path);
        free(d->config.state_dir);
        free(d->config.config_path);
        free(d->config.socket_group);
        access_rules_free(d->access);
        cgroups_free(d->cgroups);
        if (d->fd_dir != NULL)
                closedir(d->fd_dir);
}
