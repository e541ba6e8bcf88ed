/*
 * access.c -- access rules, what each peer is granted, and the one check
 * every request passes before its method runs.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "conn.h"
#include "corrald.h"
#include "log.h"
#include "method.h"
#include "process.h"
#include "strv.h"
#include "xmalloc.h"

struct access_rule {
        bool is_group;
        unsigned id; /* uid or gid */
        enum access_level level;
        char **pools, **queues; /* NULL: all */
        bool pool_user;         /* may run pools that have their own user */
};

struct access_rules {
        struct access_rule *v;
        size_t n;
};

/* "a,b,c" into a NULL-terminated list; -1 if a name is not valid. */
static int
access_list(const char *s, char ***out, const char **why)
{
        char *copy = xstrdup(s), *tok, *save = NULL;
        char **v = NULL;
        size_t n = 0;

        for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                if (!proto_name_valid(tok, strlen(tok), why)) {
                        free(copy);
                        v = xreallocarray(v, n + 1, sizeof *v);
                        v[n] = NULL;
                        strv_free(v);
                        return -1;
                }
                v = xreallocarray(v, n + 2, sizeof *v);
                v[n++] = xstrdup(tok);
                v[n] = NULL;
        }
        free(copy);
        *out = v;
        return 0;
}

static int
access_parse_rule(const struct access_rule_text *t, struct access_rule *r, char **cause)
{
        char *what = xstrdup(t->what), *tok, *save = NULL;
        const char *name, *why;
        int ret = -1;

        memset(r, 0, sizeof *r);
        if (strncmp(t->who, "user:", 5) == 0 || strncmp(t->who, "user.", 5) == 0) {
                struct passwd *pw = getpwnam(name = t->who + 5);

                if (pw == NULL) {
                        xasprintf(cause, "%s: no such user", t->who);
                        goto out;
                }
                r->id = pw->pw_uid;
        } else if (strncmp(t->who, "group:", 6) == 0 || strncmp(t->who, "group.", 6) == 0) {
                struct group *gr = getgrnam(name = t->who + 6);

                if (gr == NULL) {
                        xasprintf(cause, "%s: no such group", t->who);
                        goto out;
                }
                r->is_group = true;
                r->id = gr->gr_gid;
        } else {
                xasprintf(cause, "%s: expected user.NAME or group.NAME", t->who);
                goto out;
        }
        for (tok = strtok_r(what, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
                if (strcmp(tok, "read") == 0)
                        r->level = ACCESS_READ;
                else if (strcmp(tok, "control") == 0)
                        r->level = ACCESS_CONTROL;
                else if (strcmp(tok, "pool_user") == 0)
                        r->pool_user = true;
                else if (strncmp(tok, "pools=", 6) == 0 && r->pools == NULL) {
                        if (access_list(tok + 6, &r->pools, &why) != 0) {
                                xasprintf(cause, "%s: pools: %s", t->who, why);
                                goto out;
                        }
                } else if (strncmp(tok, "queues=", 7) == 0 && r->queues == NULL) {
                        if (access_list(tok + 7, &r->queues, &why) != 0) {
                                xasprintf(cause, "%s: queues: %s", t->who, why);
                                goto out;
                        }
                } else {
                        xasprintf(cause,
                                  "%s: '%s' is not read, control, pools=..., queues=... or "
                                  "pool_user",
                                  t->who, tok);
                        goto out;
                }
        }
        if (r->level == ACCESS_NONE) {
                xasprintf(cause, "%s: say read or control", t->who);
                goto out;
        }
        ret = 0;
out:
        if (ret != 0) {
                strv_free(r->pools);
                strv_free(r->queues);
        }
        free(what);
        return ret;
}

struct access_rules *
access_rules_new(const struct access_rule_text *t, size_t n, char **cause)
{
        struct access_rules *rs = xcalloc(1, sizeof *rs);
        size_t i;

        rs->v = xcalloc(n + 1, sizeof *rs->v);
        for (i = 0; i < n; i++) {
                if (access_parse_rule(&t[i], &rs->v[i], cause) != 0) {
                        access_rules_free(rs);
                        return NULL;
                }
                rs->n++;
        }
        return rs;
}

void
access_rules_free(struct access_rules *rs)
{
        size_t i;

        if (rs == NULL)
                return;
        for (i = 0; i < rs->n; i++) {
                strv_free(rs->v[i].pools);
                strv_free(rs->v[i].queues);
        }
        free(rs->v);
        free(rs);
}

/* Is gid the peer's primary group or one of its groups recorded at accept? */
static bool
access_in_group(gid_t primary, const gid_t *groups, size_t n, unsigned gid)
{
        size_t i;

        if (primary == gid)
                return true;
        for (i = 0; i < n; i++) {
                if (groups[i] == gid)
                        return true;
        }
        return false;
}

void
access_grant_for(const struct access_rules *rs, uid_t uid, gid_t gid, const gid_t *groups,
                 size_t ngroups, struct access_grant *g)
{
        const struct access_rule *match = NULL;
        size_t i;

        memset(g, 0, sizeof *g);
        if (uid == 0 || uid == geteuid()) {
                g->level = ACCESS_FULL;
                return;
        }
        /* A rule for the user wins; else the first rule for one of its groups. */
        for (i = 0; rs != NULL && i < rs->n && match == NULL; i++) {
                if (!rs->v[i].is_group && rs->v[i].id == uid)
                        match = &rs->v[i];
        }
        for (i = 0; rs != NULL && i < rs->n && match == NULL; i++) {
                if (rs->v[i].is_group && access_in_group(gid, groups, ngroups, rs->v[i].id))
                        match = &rs->v[i];
        }
        if (match == NULL)
                return;
        g->level = match->level;
        g->pools = strv_copy((const char *const *)match->pools, (size_t)-1);
        g->queues = strv_copy((const char *const *)match->queues, (size_t)-1);
        g->other_user = match->pool_user;
}

void
access_grant_clear(struct access_grant *g)
{
        strv_free(g->pools);
        strv_free(g->queues);
        memset(g, 0, sizeof *g);
}

static bool
access_listed(char *const *list, const char *name)
{
        if (list == NULL)
                return true;
        for (; *list != NULL; list++) {
                if (strcmp(*list, name) == 0)
                        return true;
        }
        return false;
}

static bool
access_is_file(const char *spec)
{
        return spec != NULL && strncmp(spec, "file:", 5) == 0;
}

/* Does this request name a file: output destination (spawn or pool.create)? */
static bool
access_writes_files(const struct method *m, const void *params)
{
        const struct proto_output *o = NULL;

        if (strcmp(m->name, PROTO_M_PROCESS_SPAWN) == 0)
                o = &((const struct proto_p_spawn *)params)->output;
        else if (strcmp(m->name, PROTO_M_POOL_CREATE) == 0)
                o = &((const struct proto_p_pool_create *)params)->output;
        return o != NULL && (access_is_file(o->out) || access_is_file(o->err));
}

/* Add the queue of a queue:NAME destination to a scope. */
static void
access_scope_output(const struct proto_output *o, struct access_scope *sc, size_t *n)
{
        const char *specs[2] = {o->out, o->err};
        size_t i;

        for (i = 0; i < 2 && *n < 3; i++) {
                if (specs[i] != NULL && strncmp(specs[i], "queue:", 6) == 0)
                        sc->queues[(*n)++] = specs[i] + 6;
        }
}

int
access_check(struct corrald *d, struct conn *c, const struct method *m, const void *params,
             struct proto_error *err)
{
        const struct access_grant *g = conn_grant(c);
        struct access_scope sc;
        size_t i;

        if (g->level == ACCESS_FULL)
                return 0;
        if (g->level == ACCESS_NONE) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, NULL,
                                "uid %ld has no access to corrald (see [access] in corrald.conf)",
                                (long)conn_peer_uid(c));
                return -1;
        }
        if (m->access == METHOD_ADMIN) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, NULL,
                                "%s is for root and corrald's own user only", m->name);
                return -1;
        }
        if (m->access == METHOD_CONTROL && g->level < ACCESS_CONTROL) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, NULL,
                                "uid %ld has read access only: %s is refused",
                                (long)conn_peer_uid(c), m->name);
                return -1;
        }
        /* Only root picks who a pool runs as, or its limits. */
        if (strcmp(m->name, PROTO_M_POOL_CREATE) == 0) {
                const struct proto_privs *pv = &((const struct proto_p_pool_create *)params)->privs;

                if (pv->user != NULL || pv->group != NULL || pv->has_nice ||
                    pv->has_oom_score_adjust || pv->has_nofile || pv->has_nproc || pv->has_core ||
                    pv->has_as || pv->has_cpu) {
                        proto_error_set(err, PROTO_E_PERMISSION_DENIED,
                                        pv->user != NULL ? "user" : "group",
                                        "only root sets a pool's user, group and limits");
                        return -1;
                }
        }
        memset(&sc, 0, sizeof sc);
        /* Only root writes files as root: a client's output goes elsewhere. */
        if (access_writes_files(m, params)) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, "stdout",
                                "file: destinations are written by corrald as root: only root and "
                                "corrald's own user may name them");
                return -1;
        }
        if (m->scope != NULL)
                m->scope(d, params, &sc);
        if (sc.pool != NULL && !access_listed(g->pools, sc.pool)) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, "pool",
                                "uid %ld has no access to pool %s", (long)conn_peer_uid(c),
                                sc.pool);
                return -1;
        }
        for (i = 0; i < 4 && sc.queues[i] != NULL; i++) {
                if (!access_listed(g->queues, sc.queues[i])) {
                        proto_error_set(err, PROTO_E_PERMISSION_DENIED, "queue",
                                        "uid %ld has no access to queue %s", (long)conn_peer_uid(c),
                                        sc.queues[i]);
                        return -1;
                }
        }
        return 0;
}

bool
access_sees_pool(const struct conn *c, const char *pool)
{
        const struct access_grant *g = conn_grant(c);

        return g->level == ACCESS_FULL || access_listed(g->pools, pool);
}

bool
access_sees_queue(const struct conn *c, const char *queue)
{
        const struct access_grant *g = conn_grant(c);

        return g->level == ACCESS_FULL || access_listed(g->queues, queue);
}

/* Scopes: what a request acts on. The first member of every pool and queue struct is its name. */
void
access_scope_spawn(struct corrald *d, const void *params, struct access_scope *sc)
{
        const struct proto_p_spawn *sp = params;
        size_t n = 0;

        sc->pool = sp->pool != NULL ? sp->pool : "default";
        if (sp->stdin_queue != NULL)
                sc->queues[n++] = sp->stdin_queue;
        access_scope_output(&sp->output, sc, &n);
}

void
access_scope_pool_create(struct corrald *d, const void *params, struct access_scope *sc)
{
        const struct proto_p_pool_create *pc = params;
        size_t n = 0;

        sc->pool = pc->name;
        if (pc->has_consume)
                sc->queues[n++] = pc->consume.queue;
        access_scope_output(&pc->output, sc, &n);
}

void
access_scope_queue_create(struct corrald *d, const void *params, struct access_scope *sc)
{
        const struct proto_p_queue_create *qc = params;

        sc->queues[0] = qc->name;
        sc->queues[1] = qc->dead_letter;
}

void
access_scope_target(struct corrald *d, const void *params, struct access_scope *sc)
{
        const struct proto_target *t = params;
        struct process *p = t->has_id ? process_find_id(d->processes, t->id)
                                      : process_find_name(d->processes, t->name);

        if (p != NULL)
                sc->pool = p->pool_name;
}

void
access_scope_pool(struct corrald *d, const void *params, struct access_scope *sc)
{
        sc->pool = *(const char *const *)params;
}

void
access_scope_queue(struct corrald *d, const void *params, struct access_scope *sc)
{
        sc->queues[0] = *(const char *const *)params;
}

void
access_scope_logs(struct corrald *d, const void *params, struct access_scope *sc)
{
        const struct proto_p_logs *lp = params;

        if (lp->pool != NULL)
                sc->pool = lp->pool;
        else
                access_scope_target(d, params, sc);
}
