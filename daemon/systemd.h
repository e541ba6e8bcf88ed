/*
 * systemd.h -- corrald as a Type=notify service: READY=1 once it listens
 * with its configuration applied, STATUS= with live counts, RELOADING=1 /
 * READY=1 around a reload, STOPPING=1, and WATCHDOG=1 at half the
 * watchdog interval, sent from the event loop so that a hung loop really
 * trips the watchdog. Without NOTIFY_SOCKET all of it costs nothing.
 */
#ifndef CORRAL_SYSTEMD_H
#define CORRAL_SYSTEMD_H

struct corrald;
struct systemd;

struct systemd *systemd_new(struct corrald *);
void systemd_free(struct systemd *);
void systemd_ready(struct systemd *);
void systemd_reloading(struct systemd *);
void systemd_stopping(struct systemd *);

#endif
