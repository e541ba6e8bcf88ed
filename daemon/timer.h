/*
 * timer.h -- arming libevent timers that never fire early.
 *
 * corrald's event base runs on libevent's coarse monotonic clock (no
 * timerfd_settime per loop turn, which costs every request a system
 * call). That clock lags the real one by up to its resolution, so a
 * timer armed for d seconds could fire up to one tick early; timer_tv
 * adds that tick. Zero stays zero: "at once" must not wait a tick.
 */
#ifndef CORRAL_TIMER_H
#define CORRAL_TIMER_H

struct event;
struct timeval;

/* seconds (negative: 0) as a timeout for libevent, never early. */
void timer_tv(double seconds, struct timeval *tv);
/* evtimer_add(ev, timer_tv(seconds)); 0 or -1. */
int timer_arm(struct event *ev, double seconds);

#endif
