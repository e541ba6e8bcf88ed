/*
 * corrald.h -- the daemon's context: one `struct corrald`, created in
 * main and passed down to everything; there are no other globals.
 */
#ifndef CORRAL_CORRALD_H
#define CORRAL_CORRALD_H

#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <msgpack.h>

#include "proto.h"

struct event_base;
struct event;
struct server;
struct process_table;
struct pool_table;
struct queue_table;
struct events;
struct notify;
struct follows;
struct systemd;
struct access_rules;
struct state;
struct cgroups;
struct conn;

TAILQ_HEAD(conn_list, conn);
LIST_HEAD(conn_flush_list, conn);

struct corrald_config {
        char *socket_path;
        char *config_path;    /* the configuration file */
        bool config_required; /* given with --config: it must exist */
        unsigned socket_mode; /* of the socket file */
        char *socket_group;   /* its group, or NULL */
        /* Given on the command line: the file does not override these. */
        bool cli_socket, cli_state_dir, cli_history, cli_grace, cli_log_level, cli_max_message,
            cli_queue_max;
        unsigned history;     /* ended process records kept */
        double default_grace; /* seconds between the stop signal and KILL */
        struct proto_limits limits;
        unsigned max_waiting;           /* requests parked per connection */
        unsigned max_pinned;            /* ended records pinned for one connection's joins */
        size_t max_output;              /* bytes queued to one client before it is dropped */
        unsigned max_connections;       /* beyond it new clients are refused */
        unsigned max_processes;         /* live processes in all */
        unsigned max_processes_per_uid; /* live processes one non-root client may own */
        double idle_timeout;        /* a client that stops halfway through a message is dropped */
        struct rlimit child_nofile; /* the descriptor limit corrald started with, for children */
        size_t max_event_backlog;   /* bytes of events queued to a subscriber before overflow */
        char *state_dir;            /* durable queues' logs */
        size_t queue_max_message;   /* bytes of one queue message */
};

struct corrald {
        struct event_base *base;
        struct corrald_config config;
        struct server *server;
        struct process_table *processes;
        struct pool_table *pools;
        struct queue_table *queues;
        struct events *events;
        struct notify *notify;
        struct systemd *systemd;
        struct access_rules *access; /* [access] of the configuration */
        struct state *state;         /* runtime changes saved across restarts */
        struct cgroups *cgroups;     /* sub-cgroups, when corrald's own is delegated */
        struct syncer *syncer;       /* durable queues' fdatasync, off the loop */
        DIR *fd_dir;                 /* /proc/self/fd, for daemon.stats */
        void *filesinks;             /* output-file.c's open log files */
        struct follows *follows;     /* output-follow.c's followers */
        struct conn_list conns;
        struct conn_list dead_conns; /* freed from the loop, never in their own callbacks */
        unsigned nconns;
        /* conn.c: answers written in a batch go out when the outermost batch ends. */
        struct conn_flush_list flush_pending;
        unsigned batch_depth;
        struct event *reap_conns_ev;
        struct event *sig_ev[6];
        int sigchld_fd; /* SIGCHLD's signalfd */
        struct event *sigchld_ev;
        struct event *stop_timer; /* bounds the final flush at shutdown */
        bool stopping;
        int exit_code;
        double started; /* process_mono() at corrald_init, for daemon.stats' uptime */
        /* Scratch buffer for encoding responses, reused by every reply. */
        msgpack_sbuffer out;
        msgpack_packer pk;
};

/* The built-in defaults of every setting (before the command line and the file). */
void corrald_config_default(struct corrald_config *);
/*
 * Make the context for d->config (already final): the event loop, the
 * process, pool and queue tables, the state saver and the event fan-out.
 * The listening socket, signals, systemd, cgroups, notify and access rules
 * are main()'s to add; each may stay NULL. Exits on out of memory.
 */
void corrald_init(struct corrald *);
/*
 * Before the socket listens: readiness notifications (d->notify) and the
 * durable queues, whole before a client can ask for them. Failures are
 * logged; corrald serves on without them.
 */
void corrald_restore(struct corrald *);
struct config;
/*
 * Once the socket listens (what it starts may connect): the saved runtime
 * state, the configuration's pools and queues, then the saved changes to
 * them. -1 with *cause if the configuration could not be applied.
 */
int corrald_apply(struct corrald *, struct config *, char **cause);
/* Free everything in d, whoever made it (NULL members are skipped). */
void corrald_free(struct corrald *);
/* Begin a graceful stop (signal or daemon.shutdown); a second call hurries it. */
void corrald_stop(struct corrald *, const char *why);
/* Called when the last process of a stopping daemon has ended. */
void corrald_check_stopped(struct corrald *);
/* Reap every child that has ended, the answers it wakes batched (SIGCHLD). */
void corrald_reap(struct corrald *);

#endif
