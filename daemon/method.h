/*
 * method.h -- the protocol's method table. Each method lives in its own
 * file (method-NAME.c) and exports one `const struct method`; method.c
 * gathers them. Handlers get typed, validated parameters.
 */
#ifndef CORRAL_METHOD_H
#define CORRAL_METHOD_H

#include <sys/types.h>

struct request;
struct conn;
struct corrald;
struct proto_msg;
struct proto_params_spec;

enum method_result {
        METHOD_DONE, /* answered */
        METHOD_WAIT, /* parked: answered later */
};

#define METHOD_STOPPING_OK 0x1 /* allowed while the daemon shuts down */

/* The access a method needs; the zero value is the safe default. */
enum method_access {
        METHOD_CONTROL = 0, /* changes things: control access to its pool or queue */
        METHOD_READ,        /* only looks: read access */
        METHOD_ADMIN,       /* the daemon itself (shutdown, reload): full access only */
};

/* What a request acts on, for rules limited to some pools or queues. */
struct access_scope {
        const char *pool;      /* NULL: no pool */
        const char *queues[4]; /* the queues it touches, NULL-terminated */
};

struct method {
        const char *name;
        const struct proto_params_spec *params;
        unsigned flags;
        enum method_access access;
        void (*scope)(struct corrald *, const void *params, struct access_scope *);
        enum method_result (*run)(struct request *, const void *params);
};

/* Scope extractors shared by the method files (access.c). */
void access_scope_spawn(struct corrald *, const void *, struct access_scope *);
void access_scope_target(struct corrald *, const void *, struct access_scope *);
void access_scope_pool(struct corrald *, const void *, struct access_scope *);
void access_scope_queue(struct corrald *, const void *, struct access_scope *);
void access_scope_logs(struct corrald *, const void *, struct access_scope *);
void access_scope_pool_create(struct corrald *, const void *, struct access_scope *);
void access_scope_queue_create(struct corrald *, const void *, struct access_scope *);

/* Validate and run one message received on conn. */
void method_dispatch(struct corrald *, struct conn *, struct proto_msg *);
struct process;
/* The live-process limits before a process (re)starts; answers limit_reached itself: -1. */
int method_check_process_limits(struct request *, uid_t owner);
/* Answer with p's record now, or (wait "ready") once it is running and ready. */
enum method_result method_answer_when_ready(struct request *, struct process *, int wait);
/* Abort if the table is not sorted (a programming error). */
void method_table_check(void);
/* The names of every method, for daemon.hello. */
void method_names(const char *const **names, unsigned *n);

extern const struct method method_daemon_hello;
extern const struct method method_daemon_ping;
extern const struct method method_daemon_shutdown;
extern const struct method method_process_spawn;
extern const struct method method_process_join;
extern const struct method method_process_terminate;
extern const struct method method_process_signal;
extern const struct method method_process_info;
extern const struct method method_process_list;
extern const struct method method_process_start;
extern const struct method method_process_restart;
extern const struct method method_pool_create;
extern const struct method method_pool_info;
extern const struct method method_pool_list;
extern const struct method method_pool_scale;
extern const struct method method_pool_restart;
extern const struct method method_pool_close;
extern const struct method method_pool_join;
extern const struct method method_pool_terminate;
extern const struct method method_pool_delete;
extern const struct method method_events_subscribe;
extern const struct method method_queue_create;
extern const struct method method_queue_info;
extern const struct method method_queue_list;
extern const struct method method_queue_purge;
extern const struct method method_queue_delete;
extern const struct method method_queue_put;
extern const struct method method_queue_get;
extern const struct method method_queue_ack;
extern const struct method method_queue_nack;
extern const struct method method_queue_touch;
extern const struct method method_queue_peek;
extern const struct method method_process_logs;
extern const struct method method_daemon_reopen_logs;
extern const struct method method_daemon_reload;
extern const struct method method_daemon_stats;

#endif
