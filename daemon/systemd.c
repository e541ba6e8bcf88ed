/* systemd.c -- sd_notify: readiness, status, reload, stop, watchdog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "corrald.h"
#include "log.h"
#include "pool.h"
#include "process.h"
#include "queue.h"
#include "systemd.h"
#include "xmalloc.h"

#define SYSTEMD_STATUS_SECONDS 1 /* how often a changed STATUS= is sent */

struct systemd {
        struct corrald *daemon;
        bool enabled; /* NOTIFY_SOCKET was set */
        char *socket; /* its value, kept out of the environment children inherit */
        struct event *status_timer;
        struct event *watchdog_timer;
        char last_status[160];
};

/* Send a notification; libsystemd returns -errno, which we only log. */
static void
systemd_send(struct systemd *sd, const char *msg)
{
        int r;

        if (!sd->enabled)
                return;
        /* Single-threaded: the variable exists only for this call (sd_notify unsets it). */
        if (setenv("NOTIFY_SOCKET", sd->socket, 1) != 0)
                fatalx("out of memory");
        if ((r = sd_notify(1, msg)) < 0)
                log_warn("sd_notify: %s", strerror(-r));
        unsetenv("NOTIFY_SOCKET");
}

static void
systemd_status_text(struct systemd *sd, char *buf, size_t len)
{
        struct corrald *d = sd->daemon;

        snprintf(buf, len, "STATUS=%u running, %u live processes, %u pools, %u queues",
                 process_table_running(d->processes), process_table_live(d->processes),
                 pool_table_count(d->pools), queue_table_count(d->queues));
}

static void
systemd_status_cb(evutil_socket_t fd, short what, void *arg)
{
        struct systemd *sd = arg;
        char buf[sizeof sd->last_status];

        systemd_status_text(sd, buf, sizeof buf);
        if (strcmp(buf, sd->last_status) != 0) {
                systemd_send(sd, buf);
                memcpy(sd->last_status, buf, sizeof buf);
        }
}

static void
systemd_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
        systemd_send(arg, "WATCHDOG=1");
}

struct systemd *
systemd_new(struct corrald *d)
{
        struct systemd *sd = xcalloc(1, sizeof *sd);
        const char *sock = getenv("NOTIFY_SOCKET");
        uint64_t usec = 0;
        int r;

        sd->daemon = d;
        sd->enabled = sock != NULL && *sock != '\0';
        if (!sd->enabled)
                return sd;
        /* Children must not talk to systemd as if they were us. */
        sd->socket = xstrdup(sock);
        unsetenv("NOTIFY_SOCKET");
        sd->status_timer = event_new(d->base, -1, EV_PERSIST, systemd_status_cb, sd);
        if (sd->status_timer == NULL)
                fatalx("cannot create a timer");
        /* WATCHDOG_USEC (for our pid): ping at half the interval. */
        if ((r = sd_watchdog_enabled(1, &usec)) > 0 && usec > 0) {
                struct timeval tv = {(time_t)(usec / 2 / 1000000),
                                     (suseconds_t)(usec / 2 % 1000000)};

                sd->watchdog_timer = event_new(d->base, -1, EV_PERSIST, systemd_watchdog_cb, sd);
                if (sd->watchdog_timer == NULL || event_add(sd->watchdog_timer, &tv) != 0)
                        fatalx("cannot arm the watchdog timer");
                log_info("systemd watchdog: pinging every %llu ms",
                         (unsigned long long)(usec / 2 / 1000));
        } else if (r < 0)
                log_warn("sd_watchdog_enabled: %s", strerror(-r));
        return sd;
}

void
systemd_free(struct systemd *sd)
{
        if (sd == NULL)
                return;
        if (sd->status_timer != NULL)
                event_free(sd->status_timer);
        if (sd->watchdog_timer != NULL)
                event_free(sd->watchdog_timer);
        free(sd->socket);
        free(sd);
}

void
systemd_ready(struct systemd *sd)
{
        struct timeval tv = {SYSTEMD_STATUS_SECONDS, 0};
        char buf[sizeof sd->last_status + 16];

        if (!sd->enabled)
                return;
        systemd_status_text(sd, sd->last_status, sizeof sd->last_status);
        snprintf(buf, sizeof buf, "READY=1\n%s", sd->last_status);
        systemd_send(sd, buf);
        if (!event_pending(sd->status_timer, EV_TIMEOUT, NULL))
                event_add(sd->status_timer, &tv);
}

void
systemd_reloading(struct systemd *sd)
{
        systemd_send(sd, "RELOADING=1\nSTATUS=reloading the configuration");
}

void
systemd_stopping(struct systemd *sd)
{
        if (sd->enabled && sd->status_timer != NULL)
                event_del(sd->status_timer);
        systemd_send(sd, "STOPPING=1\nSTATUS=stopping");
}
