/*
 * out_support.h -- support for the output tests (test_output.c), on top of
 * harness.h and q_support.h.
 *
 * Calls go through libcorral's generic corral_call() with msgpack-packed
 * parameters (struct qparams of q_support.h), so the tests do not depend on
 * libcorral's typed output calls. Followers (process.logs with follow) use a
 * raw connection of the harness: the test reads the notifications itself,
 * as fast as it can or not at all.
 *
 * out_child is the program the daemon runs: a little script of commands
 * (see out_child.c). O_ARGS("out", "x", "exit", "0") builds its arguments.
 */
#ifndef CORRAL_TEST_OUT_SUPPORT_H
#define CORRAL_TEST_OUT_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "harness.h"
#include "q_support.h"

#ifndef OUT_CHILD_PATH
#error "OUT_CHILD_PATH must be defined by the build"
#endif

/* Generous bounds: a loaded 2-core machine under ASan is slow. */
#define O_WAIT 30.0

/* out_child's script, NULL-terminated. */
#define O_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- spawning ------------------------------------------------------------ */

/* process.spawn's parameters: zero or NULL fields are not sent. */
struct o_spawn {
        const char *name;
        const char *pool;
        const char *out; /* stdout destination */
        const char *err; /* stderr destination */
        uint64_t log_buffer;
        uint64_t log_max_bytes;
        unsigned log_backups;
        bool has_log_backups;
        const void *stdin_data;
        size_t stdin_len;
        bool has_stdin;
        const char *stdin_queue;
        const char *const *env; /* "K=V", NULL-terminated */
};

/* Spawn out_child with script; 0 with *id and *pid (either may be NULL), or -1 with *err. */
int o_spawn_try(struct corral *, const struct o_spawn *, const char *const *script, uint64_t *id,
                pid_t *pid, struct corral_error *err);
uint64_t o_spawn_at(const char *file, int line, struct corral *, const struct o_spawn *,
                    const char *const *script, pid_t *pid);
/* Variadic: compound literals for the options and the script hold commas. */
#define o_spawn(c, ...) o_spawn_at(__FILE__, __LINE__, c, __VA_ARGS__)
/* A call that must succeed (p may be NULL; res may be NULL). */
void o_call_at(const char *file, int line, struct corral *, const char *method, struct qparams *p,
               struct corral_result *res);
#define o_call(c, method, p, res) o_call_at(__FILE__, __LINE__, c, method, p, res)

/* ---- lines --------------------------------------------------------------- */

enum { O_STDOUT = 1, O_STDERR = 2 };

/* A captured line; data points into the answer or notification it came in. */
struct o_line {
        uint64_t id;
        char name[72];
        char pool[72]; /* followed lines only */
        int stream;    /* O_STDOUT or O_STDERR */
        double ts;
        const char *data;
        size_t len;
};
/* Fill *l from a line map; false if it is malformed. */
bool o_line_decode(const msgpack_object *, struct o_line *);
/* Whether the line's data is text exactly. */
bool o_line_is(const struct o_line *, const char *text);

/* process.logs's parameters. */
struct o_logs_req {
        uint64_t id; /* 0: not sent */
        const char *name;
        const char *pool;
        const char *stream; /* NULL: not sent */
        long tail;          /* < 0: not sent; set it explicitly */
        bool follow;
};
/* An answer; lines point into res. */
struct o_logs {
        struct corral_result res;
        struct o_line *lines;
        size_t n;
        uint64_t lost;
        bool truncated, ended;
};
void o_pack_logs_req(msgpack_packer *, const struct o_logs_req *);
int o_logs_try(struct corral *, const struct o_logs_req *, struct o_logs *, struct corral_error *);
void o_logs_at(const char *file, int line, struct corral *, const struct o_logs_req *,
               struct o_logs *);
#define o_logs(c, req, out) o_logs_at(__FILE__, __LINE__, c, req, out)
void o_logs_free(struct o_logs *);
/* Decode a process.logs result map into *out (its res is left alone). */
void o_logs_decode(const msgpack_object *, struct o_logs *);
/* Wait until process.logs answers at least n lines; false on timeout. */
bool o_wait_lines(struct corral *, const struct o_logs_req *, size_t n, double timeout);
/* The default request for one process id (both streams, no tail). */
struct o_logs_req o_req_id(uint64_t id);

/* ---- join with output ------------------------------------------------------ */

struct o_joined {
        struct corral_result res;
        char state[16];
        int64_t exit_code; /* -1 if nil */
        bool has_output;
        const char *out, *err; /* point into res */
        size_t out_len, err_len;
        uint64_t lost;
};
/* Decode a process.join result (with or without output). */
void o_joined_decode(const msgpack_object *, struct o_joined *);
/* process.join {id, output, timeout} that must succeed. */
void o_join_at(const char *file, int line, struct corral *, uint64_t id, bool output,
               struct o_joined *);
#define o_join(c, id, output, j) o_join_at(__FILE__, __LINE__, c, id, output, j)
void o_joined_free(struct o_joined *);

/* ---- followers ------------------------------------------------------------ */

/*
 * Send process.logs with follow over a raw connection and read its answer
 * into *initial (its res is empty: lines point into *hold, which the
 * caller destroys after use). Fails the test on an error answer.
 */
void o_follow_start(struct raw *, const struct o_logs_req *, msgpack_unpacked *hold,
                    struct o_logs *initial);
/* The end of a followed process. */
struct o_end {
        uint64_t id;
        char name[72];
        char state[16];
        int64_t exit_code; /* -1 if nil */
};
/*
 * The next notification within timeout s, decoded from *u (which owns the
 * bytes): 1 a line (*l), 2 the end (*e), 0 the connection closed, -1
 * timeout. Fails the test on anything else.
 */
int o_follow_next(struct raw *, double timeout, msgpack_unpacked *u, struct o_line *l,
                  struct o_end *e);

/* ---- sequence lines (out_child's flood and trickle) ------------------------- */

/* Check a sequence line: its number into *seq; false with why if malformed. */
bool o_seq_check(const char *data, size_t len, uint32_t *seq, const char **why);

/* ---- the daemon and its children -------------------------------------------- */

/* VmRSS of pid in KiB, or -1. */
long o_rss_kb(pid_t);
/* Whether pid sleeps inside a write(2) on fd (from /proc/PID/syscall); false if unknown. */
bool o_in_write(pid_t, int fd);
/* Wait until path has exactly size bytes; false on timeout. */
bool o_wait_size(const char *path, long long size, double timeout);
/* Whole file (NUL-terminated beyond its length) that must exist. */
char *o_read_file_at(const char *file, int line, const char *path, size_t *len);
#define o_read_file(path, len) o_read_file_at(__FILE__, __LINE__, path, len)
/* Count the lines (newlines) of a buffer. */
size_t o_count_lines(const char *data, size_t len);

#endif
