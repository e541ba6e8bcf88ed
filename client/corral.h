/*
 * corral.h -- libcorral, the C client of corrald.
 *
 * One `struct corral` is one connection to the daemon's Unix socket.
 * Calls are blocking and bounded by the connection's timeout (default
 * 30 s; join adds its own timeout on top). Every call returns 0 on
 * success or -1 with *err filled: err->code is the server's error code
 * ("not_found", ...) or a local one ("connect", "io", "timeout",
 * "protocol"). A connection is not thread-safe; use one per thread.
 */
#ifndef CORRAL_H
#define CORRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORRAL_PROTOCOL 1

/*
 * libcorral is built with -fvisibility=hidden: only what is marked
 * CORRAL_API is exported from libcorral.so.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define CORRAL_API __attribute__((visibility("default")))
#else
#define CORRAL_API
#endif

struct corral;

struct corral_error {
        char code[32];     /* wire error code, or a local one */
        char field[65];    /* the offending parameter, or "" */
        char message[256]; /* human-readable */
};

/*
 * The socket path a client uses when none is given: $CORRAL_SOCKET, else
 * /run/corral/corrald.sock for root, else $XDG_RUNTIME_DIR/corral/corrald.sock,
 * else /tmp/corral-UID/corrald.sock. Writes into buf; returns buf or NULL.
 */
CORRAL_API char *corral_default_socket(char *buf, size_t len);

/* Connect to path (NULL: the default). NULL on failure with *err filled. */
CORRAL_API struct corral *corral_connect(const char *path, struct corral_error *err);
CORRAL_API void corral_close(struct corral *);
/* Seconds a call may take before it fails with "timeout" (<= 0: forever). */
CORRAL_API void corral_set_timeout(struct corral *, double seconds);
/* The socket's descriptor, e.g. for poll(). */
CORRAL_API int corral_fd(const struct corral *);

/* A process record as the daemon reports it. */
struct corral_process {
        uint64_t id;
        char *name;
        char *pool;
        char **argv; /* NULL-terminated */
        pid_t pid;   /* 0 if it never ran */
        char state[16];
        double started_at; /* seconds since the epoch */
        double ended_at;   /* 0 while alive */
        int exit_code;     /* -1 unless it exited */
        int signal;        /* 0 unless killed by a signal */
        bool core_dumped;
};
CORRAL_API void corral_process_clear(struct corral_process *);
/* A shell's view of how it ended: exit code, 128+signal, or -1 if alive. */
CORRAL_API int corral_process_status(const struct corral_process *);

struct corral_hello {
        unsigned protocol;
        char version[32];
        pid_t pid;
        char **methods; /* NULL-terminated */
};
CORRAL_API void corral_hello_clear(struct corral_hello *);

CORRAL_API int corral_hello(struct corral *, struct corral_hello *out, struct corral_error *err);
CORRAL_API int corral_ping(struct corral *, struct corral_error *err);
CORRAL_API int corral_shutdown(struct corral *, struct corral_error *err);

struct corral_spawn_opts {
        const char *const *argv; /* NULL-terminated, required */
        const char *name;        /* optional */
        const char *pool;        /* optional */
        const char *const *env;  /* "K=V", NULL-terminated, optional */
        bool env_clear;
        const char *cwd; /* absolute, optional */
        const void *stdin_data;
        size_t stdin_len;
        bool has_stdin;
};
CORRAL_API int corral_spawn(struct corral *, const struct corral_spawn_opts *,
                            struct corral_process *out, struct corral_error *err);

/* A target is an id (name NULL) or a name (id ignored). */
struct corral_target {
        uint64_t id;
        const char *name;
};

/* timeout < 0: wait forever; 0: poll. Fails with code "timeout" when it expires. */
CORRAL_API int corral_join(struct corral *, struct corral_target, double timeout,
                           struct corral_process *out, struct corral_error *err);

struct corral_terminate_opts {
        int signal;   /* 0: the daemon's default (TERM) */
        double grace; /* < 0: the daemon's default (10 s) */
        bool wait;
};
CORRAL_API int corral_terminate(struct corral *, struct corral_target,
                                const struct corral_terminate_opts *, struct corral_process *out,
                                struct corral_error *err);
CORRAL_API int corral_signal(struct corral *, struct corral_target, int signal, bool group,
                             struct corral_error *err);
CORRAL_API int corral_info(struct corral *, struct corral_target, struct corral_process *out,
                           struct corral_error *err);
/* pool NULL: all. *out is an array of *n records; free with corral_process_list_free. */
CORRAL_API int corral_list(struct corral *, const char *pool, bool live_only,
                           struct corral_process **out, size_t *n, struct corral_error *err);
CORRAL_API void corral_process_list_free(struct corral_process *, size_t n);

/*
 * Generic call of any method. params is a packed msgpack map (or NULL for
 * none). On success *result holds the decoded result object, valid until
 * corral_result_free(); on a server error, -1 with *err.
 */
struct corral_result {
        msgpack_object obj;
        msgpack_unpacked unpacked;
        char *buf; /* the bytes obj points into */
};
CORRAL_API int corral_call(struct corral *, const char *method, const void *params,
                           size_t params_len, struct corral_result *result,
                           struct corral_error *err);
CORRAL_API void corral_result_free(struct corral_result *);
/* Decode a process record object (e.g. from corral_call). 0 or -1. */
CORRAL_API int corral_process_decode(const msgpack_object *, struct corral_process *out);

/* Signal number for "TERM", "SIGTERM", "15"; -1 if unknown. */
CORRAL_API int corral_signal_number(const char *);

#ifdef __cplusplus
}
#endif

#endif
