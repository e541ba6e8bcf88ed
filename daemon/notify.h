/*
 * notify.h -- corrald's side of the sd_notify protocol, so programs
 * written for systemd's Type=notify work unchanged under corrald: a
 * datagram socket whose address children with `ready: notify` get as
 * NOTIFY_SOCKET. The sender is identified by its credentials (the kernel's
 * SCM_CREDENTIALS), never by what it claims.
 */
#ifndef CORRAL_NOTIFY_H
#define CORRAL_NOTIFY_H

struct corrald;
struct notify;

/* NULL with *cause on failure (the daemon runs on without notify readiness). */
struct notify *notify_new(struct corrald *, char **cause);
void notify_free(struct notify *);
/* The NOTIFY_SOCKET value ("@corral-notify-PID"), or NULL without a socket. */
const char *notify_path(const struct notify *);

#endif
