/*
 * log.h -- the daemon's one logging family. Lines go to stderr: with a
 * journald priority prefix ("<3>") when stderr is the journal
 * (JOURNAL_STREAM), otherwise with a timestamp. libevent's own messages
 * are routed here too.
 */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Set up once from main; journal: prefix priorities instead of timestamps. */
void log_init(enum log_level, int journal);
void log_set_level(enum log_level);
/* "debug", "info", "warn"/"warning", "error" -> level; -1 if unknown. */
int log_level_from_name(const char *);
int log_enabled(enum log_level);

void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log with strerror(errno) appended, then exit(1). */
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Log, then exit(1). */
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
