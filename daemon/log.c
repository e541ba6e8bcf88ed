/* log.c -- leveled logging to stderr or journald's stream. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

/*
 * The log's settings are process-wide by nature (stderr is), and the
 * logger must work before and after the daemon's context exists.
 */
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal;

static const char *const log_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug. */
static const int log_prio[] = {3, 4, 6, 7};

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
        char msg[2048];
        struct timespec ts;
        struct tm tm;
        char stamp[32];

        vsnprintf(msg, sizeof msg, fmt, ap);
        if (log_journal) {
                fprintf(stderr, "<%d>%s%s%s\n", log_prio[level], msg, suffix ? ": " : "",
                        suffix ? suffix : "");
                return;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ corrald[%ld]: %s: %s%s%s\n", stamp, ts.tv_nsec / 1000000,
                (long)getpid(), log_names[level], msg, suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_FN(fn, level)                                                                          \
        void fn(const char *fmt, ...)                                                              \
        {                                                                                          \
                va_list ap;                                                                        \
                if (level > log_level)                                                             \
                        return;                                                                    \
                va_start(ap, fmt);                                                                 \
                log_vwrite(level, fmt, ap, NULL);                                                  \
                va_end(ap);                                                                        \
        }

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void
fatal(const char *fmt, ...)
{
        va_list ap;
        int saved = errno;

        va_start(ap, fmt);
        log_vwrite(LOG_LEVEL_ERROR, fmt, ap, strerror(saved));
        va_end(ap);
        exit(1);
}

void
fatalx(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
        va_end(ap);
        exit(1);
}

/* libevent's severities mapped onto ours. */
static void
log_libevent(int severity, const char *msg)
{
        switch (severity) {
        case EVENT_LOG_DEBUG:
                log_debug("libevent: %s", msg);
                break;
        case EVENT_LOG_MSG:
                log_info("libevent: %s", msg);
                break;
        case EVENT_LOG_WARN:
                log_warn("libevent: %s", msg);
                break;
        default:
                log_error("libevent: %s", msg);
                break;
        }
}

void
log_init(enum log_level level, int journal)
{
        log_level = level;
        log_journal = journal;
        setvbuf(stderr, NULL, _IOLBF, 0);
        event_set_log_callback(log_libevent);
}

void
log_set_level(enum log_level level)
{
        log_level = level;
}

int
log_enabled(enum log_level level)
{
        return level <= log_level;
}

int
log_level_from_name(const char *name)
{
        size_t i;

        if (strcasecmp(name, "warning") == 0)
                return LOG_LEVEL_WARN;
        for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
                if (strcasecmp(name, log_names[i]) == 0)
                        return (int)i;
        }
        return -1;
}
