/*
 * q_support.h -- support for the queue tests (test_queue.c,
 * test_durable.c, test_consume.c), on top of harness.h.
 *
 * Queue methods are called through libcorral's generic corral_call()
 * with parameters packed by msgpack-c (struct qparams); results are
 * decoded into plain structs. Calls that must succeed are macros that
 * report the caller's file and line. Requests that wait in the daemon
 * (a blocking get or put) go over a raw connection of the harness, so
 * that a test can park several and read the answers later.
 *
 * Every daemon started here gets its own --state-dir inside its
 * temporary directory: a test never touches the real state directory.
 */
#ifndef CORRAL_TEST_Q_SUPPORT_H
#define CORRAL_TEST_Q_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "harness.h"

#ifndef Q_JOB_PATH
#error "Q_JOB_PATH must be defined by the build"
#endif

/* Generous bounds: a loaded 2-core machine under ASan is slow. */
#define Q_WAIT 20.0

/* ---- the daemon --------------------------------------------------------- */

/*
 * A daemon with --state-dir state_dir (NULL: <its dir>/state) and extra
 * args (NULL-terminated, may be NULL); q_relaunch() starts it again with
 * the same arguments.
 */
struct harness *q_daemon(const char *state_dir, const char *const *extra);
void q_relaunch(struct harness *);
/* The state directory q_daemon() gave h. */
const char *q_state_dir(const struct harness *);
/* <state dir>/queues/NAME.log, in a static buffer. */
const char *q_log_path(const struct harness *, const char *queue);
/* SIGKILL the daemon and reap it (the crash of the durability tests). */
void q_crash(struct harness *);
/* Whether the daemon's log holds text. */
bool q_daemon_log_has(const struct harness *, const char *text);

/* ---- parameters --------------------------------------------------------- */

/* A packed params map: qp_init(n) with its number of keys, then n qp_*(). */
struct qparams {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        unsigned want, have;
};
void qp_init(struct qparams *, unsigned nkeys);
void qp_str(struct qparams *, const char *key, const char *val);
void qp_uint(struct qparams *, const char *key, uint64_t val);
void qp_int(struct qparams *, const char *key, int64_t val);
void qp_double(struct qparams *, const char *key, double val);
void qp_bool(struct qparams *, const char *key, bool val);
void qp_bin(struct qparams *, const char *key, const void *data, size_t len);
/* A key whose value the caller packs itself on p->pk. */
void qp_key(struct qparams *, const char *key);
/* An array of strings (NULL-terminated) as the value of the last key. */
void qp_strv(struct qparams *, const char *const *v);
/*
 * Call method with p (NULL: no params; freed here). 0 with *res filled
 * (res may be NULL; free with corral_result_free), or -1 with *err.
 */
int q_call(struct corral *, const char *method, struct qparams *p, struct corral_result *res,
           struct corral_error *err);

/* ---- queues ------------------------------------------------------------- */

/* queue.create's options: zero or NULL fields are not sent. */
struct q_opts {
        uint64_t maxsize;
        uint64_t max_bytes;
        bool durable;
        const char *fsync;
        double visibility_timeout; /* 0: not sent (the daemon's default) */
        uint64_t max_attempts;
        const char *dead_letter;
};
int q_create_try(struct corral *, const char *name, const struct q_opts *, struct corral_error *);

/* A delivered message. */
struct q_msg {
        uint64_t id;
        unsigned attempt;
        int priority;
        char data[8192]; /* NUL-terminated copy */
        size_t len;
};
/* Fill *m from a get or peek result; false if it is malformed. */
bool q_msg_decode(const msgpack_object *, struct q_msg *);

/* priority, delay (0: not sent), timeout (< 0: not sent). */
int q_put_try(struct corral *, const char *queue, const void *data, size_t len, int priority,
              double delay, double timeout, uint64_t *id, struct corral_error *);
/* timeout < 0: not sent (wait forever). */
int q_get_try(struct corral *, const char *queue, double timeout, bool ack, struct q_msg *,
              struct corral_error *);
/* method: queue.ack, queue.touch, or queue.nack (then with delay, if > 0). */
int q_msg_call(struct corral *, const char *method, const char *queue, uint64_t id, double delay,
               struct corral_error *);
/* An integer field of queue.info; fails the test on error. */
int64_t q_info_at(const char *file, int line, struct corral *, const char *queue,
                  const char *field);
/* Wait until queue.info's field equals want; false on timeout. */
bool q_wait_info(struct corral *, const char *queue, const char *field, int64_t want,
                 double timeout);

void q_create_at(const char *file, int line, struct corral *, const char *name,
                 const struct q_opts *);
uint64_t q_put_at(const char *file, int line, struct corral *, const char *queue, const char *data,
                  int priority, double delay);
void q_get_at(const char *file, int line, struct corral *, const char *queue, double timeout,
              bool ack, struct q_msg *);
void q_msg_call_at(const char *file, int line, struct corral *, const char *method,
                   const char *queue, uint64_t id, double delay);
/* A get with timeout 0 must fail with "empty". */
void q_expect_empty_at(const char *file, int line, struct corral *, const char *queue);

/* Variadic: a compound literal for the options may hold commas. */
#define q_create(c, name, ...)           q_create_at(__FILE__, __LINE__, c, name, __VA_ARGS__)
#define q_put(c, queue, s)               q_put_at(__FILE__, __LINE__, c, queue, s, 0, 0)
#define q_put_pri(c, queue, s, pri)      q_put_at(__FILE__, __LINE__, c, queue, s, pri, 0)
#define q_put_delay(c, queue, s, delay)  q_put_at(__FILE__, __LINE__, c, queue, s, 0, delay)
#define q_get(c, queue, timeout, ack, m) q_get_at(__FILE__, __LINE__, c, queue, timeout, ack, m)
#define q_ack(c, queue, id)              q_msg_call_at(__FILE__, __LINE__, c, "queue.ack", queue, id, 0)
#define q_nack(c, queue, id, delay)                                                                \
        q_msg_call_at(__FILE__, __LINE__, c, "queue.nack", queue, id, delay)
#define q_touch(c, queue, id)    q_msg_call_at(__FILE__, __LINE__, c, "queue.touch", queue, id, 0)
#define q_info(c, queue, field)  q_info_at(__FILE__, __LINE__, c, queue, field)
#define q_expect_empty(c, queue) q_expect_empty_at(__FILE__, __LINE__, c, queue)

/* ---- requests that wait, over a raw connection --------------------------- */

/* Send queue.get (timeout < 0: none) or queue.put (timeout < 0: none) as msgid. */
void q_raw_get(struct raw *, uint32_t msgid, const char *queue, double timeout, bool ack);
void q_raw_put(struct raw *, uint32_t msgid, const char *queue, const char *data, double timeout);
/* Whether a response arrives within timeout s (it is read and dropped). */
bool q_raw_quiet(struct raw *, double timeout);
/*
 * The response to msgid within Q_WAIT s: a message (decoded into *m, may
 * be NULL) or, if want_err is non-NULL, that error code. Fails the test
 * otherwise.
 */
void q_raw_expect_at(const char *file, int line, struct raw *, uint32_t msgid, const char *want_err,
                     struct q_msg *m);
#define q_raw_expect(r, msgid, want_err, m)                                                        \
        q_raw_expect_at(__FILE__, __LINE__, r, msgid, want_err, m)

/* ---- files --------------------------------------------------------------- */

/* Size of a file, or -1. */
long long q_file_size(const char *path);

/* ---- a small file system for the state directory ------------------------ */

/*
 * Run fn(mountpoint, arg) in a child process with a tmpfs of size bytes
 * mounted at a fresh directory in a private mount namespace; unmount and
 * remove it afterwards, whatever happened. Returns false (after printing
 * "SKIP: reason") if it cannot be done: not root, or mount fails. A
 * failure in fn fails the test.
 */
bool q_with_tmpfs(size_t size, void (*fn)(const char *mnt, void *), void *arg);

#endif
