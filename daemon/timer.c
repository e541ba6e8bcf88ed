/*
 * timer.c -- arming libevent timers that never fire early. See timer.h.
 */
#include <math.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "timer.h"

void
timer_tv(double seconds, struct timeval *tv)
{
        struct timespec res;

        if (!(seconds > 0)) { /* also NaN */
                tv->tv_sec = 0;
                tv->tv_usec = 0;
                return;
        }
        /* The coarse clock's tick: libevent may read it up to that much behind. */
        if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
                seconds += (double)res.tv_sec + (double)res.tv_nsec / 1e9;
        if (seconds > 1e9)
                seconds = 1e9;
        tv->tv_sec = (time_t)seconds;
        /* Rounded up: a timeout a microsecond short is still early. */
        tv->tv_usec = (suseconds_t)ceil((seconds - floor(seconds)) * 1e6);
        if (tv->tv_usec >= 1000000) {
                tv->tv_sec++;
                tv->tv_usec -= 1000000;
        }
}

int
timer_arm(struct event *ev, double seconds)
{
        struct timeval tv;

        timer_tv(seconds, &tv);
        return evtimer_add(ev, &tv);
}
