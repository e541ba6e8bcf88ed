/*
 * access.h -- who may do what. Each connection's peer is known by
 * SO_PEERCRED. Root and corrald's own user have full access; other users
 * get what the [access] rules of the configuration grant them, by user or
 * by group: read (hello, info, list, logs, events, joins) or control
 * (everything but the daemon's own methods), optionally limited to named
 * pools and queues; anyone else is refused with permission_denied. The
 * check runs in one place, before any method.
 */
#ifndef CORRAL_ACCESS_H
#define CORRAL_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"

struct corrald;
struct conn;
struct method;
struct access_rules;

enum access_level { ACCESS_NONE = 0, ACCESS_READ, ACCESS_CONTROL, ACCESS_FULL };

/* One rule as the configuration gives it: "user.alice = control pools=web,batch". */
struct access_rule_text {
        const char *who;  /* "user.NAME" or "group.NAME" */
        const char *what; /* "read" | "control" [pools=...] [queues=...] */
};

/* Parse rules; NULL with *cause naming the rule. An empty set when n is 0. */
struct access_rules *access_rules_new(const struct access_rule_text *, size_t n, char **cause);
void access_rules_free(struct access_rules *);

/* What a peer may do (computed once, at accept, and again after a reload). */
struct access_grant {
        enum access_level level;
        char **pools;    /* NULL: every pool */
        char **queues;   /* NULL: every queue */
        bool other_user; /* may run pools with their own user (listed in its rule) */
};
void access_grant_for(const struct access_rules *, uid_t, gid_t, const gid_t *groups,
                      size_t ngroups, struct access_grant *);
void access_grant_clear(struct access_grant *);

/*
 * May this connection run m with these (decoded) params? 0, or -1 with
 * err filled (permission_denied naming what is refused).
 */
int access_check(struct corrald *, struct conn *, const struct method *, const void *params,
                 struct proto_error *err);

/* Does this connection's grant cover the pool, or the queue? Lists and events show only those. */
bool access_sees_pool(const struct conn *, const char *pool);
bool access_sees_queue(const struct conn *, const char *queue);

#endif
