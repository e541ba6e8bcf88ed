/*
 * harness.h -- support for corral's integration tests.
 *
 * Each test case runs in its own process (one CTest test per case) and
 * starts a real corrald in a private temporary directory with its own
 * socket. The harness makes sure that nothing outlives the test: the
 * test process is a child subreaper, so every descendant (the daemon,
 * its children, their orphans) stays findable and is killed and reaped
 * at exit, on failure, and when the alarm() guard fires.
 *
 * Every wait is bounded. A failed check prints where and why, dumps the
 * daemons' logs, cleans up and exits 1.
 */
#ifndef CORRAL_TEST_HARNESS_H
#define CORRAL_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "corral.h"

#ifndef CORRALD_PATH
#error "CORRALD_PATH must be defined by the build"
#endif
#ifndef CORRALCTL_PATH
#error "CORRALCTL_PATH must be defined by the build"
#endif
#ifndef HELPER_PATH
#error "HELPER_PATH must be defined by the build"
#endif

/* ---- failing a test ---------------------------------------------------- */

__attribute__((noreturn, format(printf, 3, 4))) void t_fail(const char *file, int line,
                                                            const char *fmt, ...);

#define T_ASSERT(c)                                                                                \
        do {                                                                                       \
                if (!(c))                                                                          \
                        t_fail(__FILE__, __LINE__, "assertion failed: %s", #c);                    \
        } while (0)
#define T_ASSERTF(c, ...)                                                                          \
        do {                                                                                       \
                if (!(c))                                                                          \
                        t_fail(__FILE__, __LINE__, __VA_ARGS__);                                   \
        } while (0)
#define T_EQ_INT(a, b)                                                                             \
        do {                                                                                       \
                long long t_a_ = (long long)(a), t_b_ = (long long)(b);                            \
                if (t_a_ != t_b_)                                                                  \
                        t_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, t_a_,    \
                               #b, t_b_);                                                          \
        } while (0)
#define T_EQ_STR(a, b)                                                                             \
        do {                                                                                       \
                const char *t_a_ = (a), *t_b_ = (b);                                               \
                if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)                       \
                        t_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,            \
                               t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                    \
        } while (0)
/* A libcorral call that must succeed. */
#define T_OK(call, errp)                                                                           \
        do {                                                                                       \
                if ((call) != 0)                                                                   \
                        t_fail(__FILE__, __LINE__, "%s failed: %s [%s] %s", #call, (errp)->code,   \
                               (errp)->field, (errp)->message);                                    \
        } while (0)
/* A libcorral call that must fail with a given error code. */
#define T_ERR(call, errp, want)                                                                    \
        do {                                                                                       \
                if ((call) == 0)                                                                   \
                        t_fail(__FILE__, __LINE__, "%s succeeded, expected error %s", #call,       \
                               want);                                                              \
                if (strcmp((errp)->code, want) != 0)                                               \
                        t_fail(__FILE__, __LINE__, "%s failed with %s [%s] %s, expected %s",       \
                               #call, (errp)->code, (errp)->field, (errp)->message, want);         \
        } while (0)

/* ---- the test program -------------------------------------------------- */

struct test_case {
        const char *name;
        void (*run)(void);
};
/* In a test's table: TEST_CASE(name) for a function t_name (CMake greps these lines). */
/* clang-format off */
#define TEST_CASE(n) {#n, t_##n}
/* clang-format on */

/*
 * main() of a test program: `prog CASE` runs one case, `prog --list`
 * prints them. Installs the cleanup, the subreaper and the alarm guard.
 */
int harness_main(int argc, char **argv, const struct test_case *, size_t n);

/* ---- the daemon -------------------------------------------------------- */

struct harness {
        char dir[256];  /* private temporary directory */
        char sock[300]; /* its socket: dir/corrald.sock */
        char log[300];  /* its stderr: dir/corrald.log */
        pid_t pid;      /* the daemon; 0 when not running */
        int status;     /* wait status once it has exited */
        bool exited;
        bool dirty_signals; /* start it with SIGUSR2 blocked and SIGXFSZ ignored */
};

/* A temporary directory for a daemon, not yet started. */
struct harness *harness_new(void);
/*
 * Start corrald --socket h->sock plus extra args (NULL-terminated, may be
 * NULL); wait until it accepts connections (10 s). Fails the test on error.
 */
void harness_launch(struct harness *, const char *const *extra);
/* harness_new + harness_launch. */
struct harness *harness_start(const char *const *extra);
/* SIGTERM, wait (15 s) and require exit status 0; SIGKILL if it hangs. */
void harness_stop(struct harness *);
/*
 * Live processes, other than running daemons, that are our children: what a
 * daemon left behind (orphans come to us, the subreaper). Reaps dead ones.
 * Lists "pid(state)" in buf.
 */
int harness_leftovers(char *buf, size_t len);
/* Wait up to timeout s for the daemon to exit; returns true if it did. */
bool harness_wait_exit(struct harness *, double timeout);
/* Kill the daemon if still running, remove the directory, free. */
void harness_free(struct harness *);
/* dir/name in one of a few rotating static buffers. */
const char *harness_path(const struct harness *, const char *name);

/* Whether a connect() to the socket at path succeeds right now. */
bool harness_can_connect(const char *path);

/*
 * Whether the daemons run under valgrind (scripts/valgrind sets
 * CORRAL_TEST_VALGRIND=1). Valgrind, not the kernel, answers some of
 * corrald's system calls: getrlimit(RLIMIT_NOFILE) from its own copy,
 * minus HARNESS_VALGRIND_FDS descriptors it keeps for itself, and a
 * child's setrlimit(RLIMIT_NOFILE) before exec fails with EPERM; an exec
 * the kernel refuses for a reason valgrind did not check first (EAGAIN
 * over RLIMIT_NPROC) ends the child with status 101 instead of failing.
 * The few checks of exactly those things depend on this.
 */
bool harness_valgrind(void);
/*
 * Before harness_launch: freed memory waits in ASan's quarantine (256 MiB)
 * and valgrind's (20 MB) before it is reused; keep both small so that
 * corrald's RSS means something in a test that measures it.
 */
void harness_small_quarantine(void);
#define HARNESS_VALGRIND_FDS 12 /* valgrind's N_RESERVED_FDS (coregrind/m_main.c) */

/* A libcorral connection to the daemon with a 30 s timeout; fails the test on error. */
struct corral *harness_connect(const struct harness *);

/* ---- processes and /proc ------------------------------------------------ */

double now_mono(void);
/* Poll pred every few ms until it holds or timeout seconds pass. */
bool wait_until(bool (*pred)(void *), void *arg, double timeout);
/* State letter from /proc/pid/stat, or 0 if there is no such process. */
char proc_state(pid_t);
pid_t proc_ppid(pid_t);
/* Zombies whose parent is pid. */
int proc_zombie_children(pid_t);
/* Processes (any state) whose parent is pid. */
int proc_children(pid_t);
/* Entries in /proc/pid/fd, or -1. */
int proc_fd_count(pid_t);
/*
 * True if pid is no longer a live process: it does not exist, or it is a
 * zombie whose parent is neither the daemon nor us (ours are reaped here).
 */
bool pid_gone(pid_t pid, pid_t daemon);
/* Wait up to timeout s for pid_gone(). */
bool wait_pid_gone(pid_t pid, pid_t daemon, double timeout);

/* ---- files -------------------------------------------------------------- */

/* Whole file, NUL-terminated, malloc'd; NULL if it cannot be read. */
char *file_read(const char *path, size_t *len);
bool file_exists(const char *path);
/* Wait until path exists (the helper renames files into place). */
bool wait_file(const char *path, double timeout);

/* ---- running programs --------------------------------------------------- */

struct run_result {
        int status; /* exit code, 128+N for a signal, -1 if it timed out */
        char *out;  /* captured stdout, NUL-terminated */
        char *err;  /* captured stderr */
};
void run_result_clear(struct run_result *);
/*
 * Run argv (with extra "K=V" env entries, may be NULL) and capture its
 * output; kill it after timeout seconds. Returns r->status.
 */
int run_cmd(struct run_result *r, double timeout, const char *const *argv, const char *const *env);
/* corralctl --socket h->sock ARGS... (NULL-terminated), 30 s bound. */
int run_ctl(const struct harness *, struct run_result *r, ...) __attribute__((sentinel));

/* ---- raw MessagePack-RPC ----------------------------------------------- */

/* A raw connection, for what libcorral cannot express. */
struct raw {
        int fd;
        msgpack_unpacker up;
        bool closed; /* the peer closed the connection */
};
struct raw *raw_connect(const char *path);
void raw_close(struct raw *);
/* Send bytes (bounded); false if the peer is gone. */
bool raw_send(struct raw *, const void *, size_t);
/*
 * A request [0, msgid, method, params]. params_fn packs the params array's
 * single map (or NULL for []).
 */
void raw_request(struct raw *, uint32_t msgid, const char *method,
                 void (*params_fn)(msgpack_packer *, void *), void *arg);
/*
 * The next message within timeout seconds: 1 and *out filled; 0 if the
 * connection was closed (r->closed set); -1 on timeout.
 */
int raw_next(struct raw *, double timeout, msgpack_unpacked *out);
/* Like raw_next, but fails the test unless a response arrives. */
void raw_response(struct raw *, double timeout, msgpack_unpacked *out);
/* Wait until the peer closes (true) or timeout (false); discards messages. */
bool raw_wait_closed(struct raw *, double timeout);

/* Accessors on a response object [1, msgid, error, result]. */
uint32_t resp_msgid(const msgpack_object *);
bool resp_msgid_nil(const msgpack_object *);
const msgpack_object *resp_error(const msgpack_object *); /* NULL on success */
const msgpack_object *resp_result(const msgpack_object *);
/* The error's code/field/message as a static string ("" if absent). */
const char *resp_error_str(const msgpack_object *, const char *key);

/* map[key], or NULL. */
const msgpack_object *obj_get(const msgpack_object *map, const char *key);
/* String value copied into a rotating static buffer; NULL unless a str. */
const char *obj_str(const msgpack_object *);
bool obj_is_nil(const msgpack_object *);
int64_t obj_int(const msgpack_object *);

/* Packing helpers. */
void pk_str(msgpack_packer *, const char *);
void pk_kv_str(msgpack_packer *, const char *key, const char *val);
void pk_kv_uint(msgpack_packer *, const char *key, uint64_t);
void pk_kv_double(msgpack_packer *, const char *key, double);
void pk_kv_bool(msgpack_packer *, const char *key, bool);

/* Common params: {"id": *(uint64_t *)arg}. */
void pk_target_id(msgpack_packer *, void *arg);

/* ---- convenience over libcorral ---------------------------------------- */

/* Spawn argv (NULL-terminated); fails the test on error; returns the record. */
void spawn_simple(struct corral *, const char *const *argv, const char *name,
                  struct corral_process *out);
struct corral_target target_id(uint64_t id);
struct corral_target target_name(const char *name);

#endif
