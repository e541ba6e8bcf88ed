/*
 * cfg_support.h -- support for the systemd and configuration tests
 * (test_systemd.c, test_config.c), on top of harness.h.
 *
 * - A notification socket the test binds and hands to corrald as
 *   $NOTIFY_SOCKET; every datagram is kept with the time it was read, so a
 *   test can check order and spacing after the fact.
 * - Starting corrald with extra environment, with --config, or by hand
 *   (socket activation: a listening socket passed as fd 3).
 * - Configuration files written atomically (a reload never reads half a
 *   file), `corrald --check-config`, daemon.reload, and pool members'
 *   pids.
 * - The reports cfg_child writes ("key=value" lines).
 *
 * Every wait is bounded; a failure fails the test through t_fail().
 */
#ifndef CORRAL_TEST_CFG_SUPPORT_H
#define CORRAL_TEST_CFG_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

#ifndef CFG_CHILD_PATH
#error "CFG_CHILD_PATH must be defined by the build"
#endif

/* Generous bounds: a loaded 2-core machine under ASan is slow. */
#define CFG_WAIT 20.0

/* ---- files -------------------------------------------------------------- */

/* Write the formatted text to path atomically (temporary file, then rename). */
void cfg_write(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mkdir path and chmod it to mode (the umask does not apply). */
void cfg_mkdir(const char *path, mode_t mode);
/* 1-based number of the first line of text containing needle; fails the test if none. */
int cfg_line_of(const char *text, const char *needle);
/* "path:line:" in a rotating static buffer. */
const char *cfg_place(const char *path, int line);

/* ---- starting corrald ---------------------------------------------------- */

/*
 * harness_launch() with "--config CONFIG" (if config is not NULL) and extra
 * args (NULL-terminated, may be NULL), with env ("K=V", NULL-terminated,
 * may be NULL) added to the daemon's environment.
 */
void cfg_launch(struct harness *, const char *config, const char *const *extra,
                const char *const *env);

/*
 * Fork and exec argv (argv[0] a path) as the harness's daemon h, like the
 * harness does (own process group, stdout and stderr to h->log, cwd
 * h->dir, clean signals, killed with the test): env entries are added;
 * with listen_fd >= 0 that socket becomes fd 3 and LISTEN_FDS=1 and
 * LISTEN_PID=<the child's pid> are set (listen_pid_self false: LISTEN_PID=1
 * instead, a socket meant for someone else). Sets h->pid.
 */
void cfg_exec_daemon(struct harness *, const char *const *argv, const char *const *env,
                     int listen_fd, bool listen_pid_self);
/* Wait until the daemon answers daemon.ping on sock (fails the test if it exits first). */
void cfg_wait_serving(struct harness *, const char *sock, double timeout);
/* A listening Unix stream socket bound at path (the test's own, like systemd's). */
int cfg_listen_socket(const char *path);

/* corrald --check-config [--config CONFIG]; returns the exit status. */
int cfg_check_config(const char *config, struct run_result *r);

/* ---- the notification socket --------------------------------------------- */

struct cfg_msg {
        double t; /* now_mono() when read */
        char text[1024];
};

struct cfg_notify {
        int fd;
        char path[300];
        char env[320]; /* "NOTIFY_SOCKET=path" */
        struct cfg_msg *msgs;
        size_t n, cap;
};

/* Bind a datagram socket at h's dir/notify.sock. */
struct cfg_notify *cfg_notify_new(const struct harness *);
void cfg_notify_free(struct cfg_notify *);
/* Read what has arrived, waiting up to timeout s for at least one datagram; returns how many. */
size_t cfg_notify_read(struct cfg_notify *, double timeout);
/* Whether message text has a line equal to line, or starting with it if it ends in '='. */
bool cfg_msg_has(const char *text, const char *line);
/* The value of the line "KEY=..." of text in a rotating static buffer, or NULL. */
const char *cfg_msg_value(const char *text, const char *key);
/*
 * The index of the first message at or after from with line (see
 * cfg_msg_has), reading up to timeout s for it; -1 if none came.
 */
int cfg_notify_wait(struct cfg_notify *, size_t from, const char *line, double timeout);
/* Messages from index from on with line. */
size_t cfg_notify_count(const struct cfg_notify *, size_t from, const char *line);
/* All messages, for a failure message. */
const char *cfg_notify_dump(const struct cfg_notify *);

/* ---- calls ---------------------------------------------------------------- */

/* daemon.reload: 0, or -1 with *err (code "bad_config" and the message). */
int cfg_reload(struct corral *, struct corral_error *err);
bool cfg_pool_exists(struct corral *, const char *pool);
bool cfg_queue_exists(struct corral *, const char *queue);
/*
 * The pids of pool's running members, sorted, into pids (up to max);
 * returns how many are running. *live (may be NULL) counts the members
 * that have not ended (running or not).
 */
size_t cfg_running_pids(struct corral *, const char *pool, pid_t *pids, size_t max, size_t *live);
/*
 * Wait until pool has exactly n live members, all running; their sorted
 * pids into pids (n of them). Fails the test after timeout s.
 */
void cfg_wait_running(struct corral *, const char *pool, size_t n, pid_t *pids, double timeout);
/* Whether a sorted pid set holds pid. */
bool cfg_pids_have(const pid_t *pids, size_t n, pid_t pid);

/* ---- cfg_child's reports --------------------------------------------------- */

/* The value of "key=..." in a report, in a rotating static buffer; NULL if absent. */
const char *cfg_report(const char *report, const char *key);
/* Wait for a report file and read it (malloc'd); fails the test after timeout s. */
char *cfg_report_read(const char *path, double timeout);

#endif
