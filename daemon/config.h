/*
 * config.h -- the configuration file: /etc/corral/corrald.conf (or
 * --config FILE) plus FILE's directory's conf.d/NAME.conf, in INI form:
 *
 *   [daemon]       socket, socket_mode, socket_group, state_dir, log_level,
 *                  history, grace, max_message, queue_max_message
 *   [queue:NAME]   every queue.create parameter
 *   [pool:NAME]    every pool.create parameter, plus command (a shell-like
 *                  word list), replicas, consume, env (repeatable K=V), cwd
 *
 * Values are decoded by the protocol's own field tables, so a setting has
 * the same type and bounds in the file as on the wire. Errors name the
 * file, the line, the key and the problem; unknown keys are errors.
 */
#ifndef CORRAL_CONFIG_H
#define CORRAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "access.h"
#include "proto.h"

/* Where each key of a section was given ("FILE:LINE"), for messages found after parsing. */
struct config_place {
        const char *key;
        const char *where;
};

struct config_queue {
        char *name;
        char *where; /* "FILE:LINE" of its section, for messages */
        struct config_place *places;
        size_t nplaces;
        struct proto_p_queue_create pc;
        char *fingerprint; /* every setting, to tell a change on reload */
};

struct config_pool {
        char *name;
        char *where; /* "FILE:LINE" of its section, for messages */
        struct config_place *places;
        size_t nplaces;
        struct proto_p_pool_create pc;
        char *fingerprint; /* everything but size and replicas: what its members are */
        uint64_t replicas;
        bool has_replicas;
};

struct config {
        struct proto_arena *arena; /* owns every string and vector below */
        char *files;               /* the files read, for messages */
        /* [daemon]; NULL / has_* false when not given */
        const char *socket, *state_dir, *log_level, *socket_group;
        uint64_t socket_mode, history, max_message, queue_max_message;
        bool has_socket_mode, has_history, has_max_message, has_queue_max_message;
        uint64_t max_connections, max_processes, max_processes_per_uid, max_waiting, max_output,
            max_pinned;
        bool has_max_connections, has_max_processes, has_max_processes_per_uid, has_max_waiting,
            has_max_output, has_max_pinned;
        double grace, idle_timeout;
        bool has_grace, has_idle_timeout;
        struct config_queue *queues;
        size_t nqueues;
        struct config_pool *pools;
        size_t npools;
        /* [access]: "user.NAME" or "group.NAME" = "read|control [pools=..] [queues=..] [pool_user]"
         */
        struct access_rule_text *access;
        size_t naccess;
};

/*
 * Read path and its conf.d. A missing file is an empty configuration
 * unless required. NULL with *cause ("FILE:LINE: [section] key: problem").
 */
struct config *config_load(const char *path, bool required, char **cause);
/* "FILE:LINE" of key in a section (its last occurrence), else of the section. */
const char *config_where(const struct config_place *, size_t n, const char *key,
                         const char *section_where);
void config_free(struct config *);

#endif
