/*
 * sec_support.h -- support for the security tests (test_access.c,
 * test_limits.c), on top of harness.h and sv_support.h.
 *
 * The tests run as root (the CI user). A client with another identity is
 * made by a forked child that takes the identity (setgroups, setresgid,
 * setresuid), connects, and hands the connected socket back over
 * SCM_RIGHTS: the daemon sees that child as the peer (SO_PEERCRED), and
 * the child stays alive until the peer is freed, because the daemon reads
 * the peer's supplementary groups from /proc/PID. A whole client program
 * can also run under another identity (sec_run_as) with libcorral.
 *
 * Calls on raw connections take their params as jansson json_pack()
 * formats, so a case reads like the protocol document:
 *
 *     SEC_ERR(p->raw, "permission_denied", "process.spawn", "{s:[s]}", "argv", "/bin/true");
 */
#ifndef CORRAL_TEST_SEC_SUPPORT_H
#define CORRAL_TEST_SEC_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <msgpack.h>

#include "harness.h"

#define SEC_WAIT 20.0 /* generous: a loaded 2-core machine under ASan is slow */

/* ---- the daemon --------------------------------------------------------- */

/*
 * Start corrald with --config FILE holding "[daemon]" with socket_mode
 * 0666 and a private state_dir, then conf (more [daemon] keys may follow
 * at once: conf starts inside [daemon]). The test directory is made 0755
 * so that any user reaches the socket. extra: more corrald arguments.
 */
struct harness *sec_start(const char *conf, const char *const *extra);
/* Rewrite the configuration file (conf as for sec_start), for a reload. */
void sec_write_config(const struct harness *, const char *conf);
/* dir/drop: a directory anyone may write to (1777), for children's reports. */
const char *sec_drop(const struct harness *, const char *name);
/* The daemon's resident memory in KiB (VmRSS), or -1. */
long sec_rss_kib(pid_t);
/* The daemon's CPU time (user + system) in seconds. */
double sec_cpu_seconds(pid_t);
/* A line containing text in the daemon's log? */
bool sec_log_has(const struct harness *, const char *text);

/* ---- identities --------------------------------------------------------- */

#define SEC_MAX_GROUPS 16

struct sec_id {
        uid_t uid;
        gid_t gid;
        gid_t groups[SEC_MAX_GROUPS]; /* supplementary */
        size_t ngroups;
};

/*
 * user's uid and primary gid (group: another primary group, or NULL), and
 * exactly the supplementary groups named (NULL-terminated, may be NULL).
 */
void sec_id(struct sec_id *, const char *user, const char *group, const char *const *groups);
gid_t sec_gid(const char *group);
uid_t sec_uid(const char *user);

/* A connection whose peer is another identity (see above). */
struct sec_peer {
        pid_t pid;       /* the child that connected: the peer the daemon sees */
        int ctl;         /* closing it lets the child exit */
        struct raw *raw; /* the connection */
};
struct sec_peer *sec_peer_new(const struct harness *, const struct sec_id *);
/* Let the child exit (and reap it) but keep the connection. */
void sec_peer_release(struct sec_peer *);
void sec_peer_free(struct sec_peer *);

/*
 * Run fn(arg) in a child with identity id and return its exit status
 * (fn's return value; 128+N if a signal killed it). The child must not
 * use the T_* macros: it reports on stderr and returns non-zero.
 */
int sec_run_as(const struct sec_id *, int (*fn)(void *), void *arg);

/* ---- calls on raw connections ------------------------------------------ */

/*
 * Send method with params from json_pack(fmt, ...) (fmt NULL: none) and
 * wait for its response (notifications in between are skipped); the
 * response stays in *m (init'ed by the caller). Returns "" on success,
 * else the error code.
 */
const char *sec_call(struct raw *, msgpack_unpacked *m, const char *method, const char *fmt, ...);
/* The same with params as JSON text (NULL: none), for tables of calls. */
const char *sec_call_text(struct raw *, msgpack_unpacked *m, const char *method, const char *json);
/* Expect want ("" for success); fails the test with the message otherwise. */
void sec_expect_at(const char *file, int line, struct raw *, msgpack_unpacked *m, const char *want,
                   const char *method, const char *fmt, ...);
#define SEC_OK(r, m, ...)        sec_expect_at(__FILE__, __LINE__, r, m, "", __VA_ARGS__)
#define SEC_ERR(r, m, want, ...) sec_expect_at(__FILE__, __LINE__, r, m, want, __VA_ARGS__)
/* The last response's result[key] as an integer (fails unless one). */
int64_t sec_result_int(const msgpack_unpacked *, const char *key);
/* result[key1][key2], for daemon.stats' {used, limit} pairs. */
int64_t sec_result_int2(const msgpack_unpacked *, const char *key1, const char *key2);
/* The error message of the last response ("" if none). */
const char *sec_error_message(const msgpack_unpacked *);

/* process.spawn of argv (NULL-terminated) into pool (NULL: default) that must succeed: its id. */
uint64_t sec_spawn_at(const char *file, int line, struct raw *, const char *pool,
                      const char *const *argv);
#define sec_spawn(r, pool, ...)                                                                    \
        sec_spawn_at(__FILE__, __LINE__, r, pool, (const char *const[]){__VA_ARGS__, NULL})
/* process.terminate {id, wait: true, grace: 5} that must succeed. */
void sec_terminate(struct raw *, uint64_t id);
/* daemon.stats' connections.used reaches want within SEC_WAIT (false if not). */
bool sec_wait_connections(struct raw *, int64_t want);

/* ---- what a child ran as ------------------------------------------------ */

/* A process's identity as /proc/PID/status (or a copy of it) tells it. */
struct sec_status {
        long uid[4], gid[4]; /* real, effective, saved, filesystem */
        long groups[64];
        size_t ngroups;
        unsigned long long cap_eff;
};
/* Parse a copy of /proc/self/status; fails the test if it is not one. */
void sec_status_read(const char *path, struct sec_status *);
/* Whether the status shows exactly this identity (uid, gid, groups), and no capability. */
bool sec_status_is(const struct sec_status *, const struct sec_id *, char *why, size_t len);
/* A shell command that copies its /proc/self/status to path, then runs rest (may be NULL). */
const char *sec_status_cmd(const char *path, const char *rest);

#endif
