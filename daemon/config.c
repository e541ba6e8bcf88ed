/*
 * config.c -- reading the configuration file into a struct config: INI
 * parsing by libinih, values by the protocol's field tables, errors with
 * file, line, section and key.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "xmalloc.h"

#define CONFIG_ENV_MAX PROTO_ENV_MAX

/* Parsing state across the files of one load. */
struct config_parse {
        struct config *cfg;
        const char *file;
        FILE *fp;
        int line;
        char *error; /* the first error, with its place */
        /* Per pool: the pieces assembled when the section is done. */
        struct pool_extra {
                const char **command;
                size_t argc;
                const char **env;
                size_t nenv;
                const char *cwd;
                const char *consume;
                char *fp; /* fingerprint so far */
        } * extra;
        char **qfp; /* per queue: fingerprint so far */
};

static void config_error(struct config_parse *cp, const char *section, const char *key,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
config_error(struct config_parse *cp, const char *section, const char *key, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (cp->error != NULL)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        xasprintf(&cp->error, "%s:%d: [%s]%s%s: %s", cp->file, cp->line, section,
                  key != NULL ? " " : "", key != NULL ? key : "", msg);
}

/* fgets that counts lines, so that errors found after inih know where they are. */
static char *
config_reader(char *str, int num, void *stream)
{
        struct config_parse *cp = stream;
        char *r = fgets(str, num, cp->fp);

        if (r != NULL)
                cp->line++;
        return r;
}

static char *
config_strdup(struct config *cfg, const char *s)
{
        char *p = proto_arena_strndup(cfg->arena, s, strlen(s));

        if (p == NULL)
                fatalx("out of memory reading the configuration");
        return p;
}

/* Append to a growing string. */
static void
config_append(char **s, const char *key, const char *value)
{
        char *n;

        xasprintf(&n, "%s%s=%s\n", *s != NULL ? *s : "", key, value);
        free(*s);
        *s = n;
}

/*
 * A setting's value as its meaning, not its spelling ("1500ms" and "1.5"
 * are one grace), so that a reload restarts only what really changed.
 */
static void
config_canon(const struct proto_field *f, const void *decoded, char *buf, size_t len,
             const char *raw)
{
        const char *at = (const char *)decoded + f->off;

        switch (f->type) {
        case PF_SECONDS:
                snprintf(buf, len, "%.9g", *(const double *)(const void *)at);
                break;
        case PF_UINT:
                snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)(const void *)at);
                break;
        case PF_INT:
                snprintf(buf, len, "%lld", (long long)*(const int64_t *)(const void *)at);
                break;
        case PF_BOOL:
                snprintf(buf, len, "%d", *(const bool *)(const void *)at);
                break;
        case PF_ENUM:
        case PF_SIGNAL:
                snprintf(buf, len, "%d", *(const int *)(const void *)at);
                break;
        default:
                snprintf(buf, len, "%s", raw);
                break;
        }
}

/* The lines of a fingerprint in one order, whatever the file's. */
static int
config_cmp_line(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
config_sorted(const char *fp)
{
        char *copy = xstrdup(fp != NULL ? fp : ""), *tok, *save = NULL, **v = NULL, *out;
        size_t n = 0, i, len = 1;

        for (tok = strtok_r(copy, "\n", &save); tok != NULL; tok = strtok_r(NULL, "\n", &save)) {
                v = xreallocarray(v, n + 1, sizeof *v);
                v[n++] = tok;
                len += strlen(tok) + 1;
        }
        if (n > 0)
                qsort(v, n, sizeof *v, config_cmp_line);
        out = xcalloc(1, len);
        for (i = 0; i < n; i++) {
                strcat(out, v[i]);
                strcat(out, "\n");
        }
        free(v);
        free(copy);
        return out;
}

/*
 * Split a command into words like a shell, without expansions: blanks
 * separate, '...' is literal, "..." allows \" \\ \$ \`, a backslash
 * outside quotes takes the next character. -1 with *why on bad quoting.
 */
static int
config_words(struct config *cfg, const char *s, const char ***argv, size_t *argc, const char **why)
{
        size_t cap = 8, n = 0, len = strlen(s);
        const char **v = xcalloc(cap, sizeof *v);
        char *word = xmalloc(len + 1);

        while (*s != '\0') {
                size_t w = 0;
                bool any = false;

                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s == '\0')
                        break;
                while (*s != '\0' && *s != ' ' && *s != '\t') {
                        any = true;
                        if (*s == '\'') {
                                const char *e = strchr(s + 1, '\'');

                                if (e == NULL)
                                        goto unterminated;
                                memcpy(word + w, s + 1, (size_t)(e - s - 1));
                                w += (size_t)(e - s - 1);
                                s = e + 1;
                        } else if (*s == '"') {
                                for (s++; *s != '"'; s++) {
                                        if (*s == '\0')
                                                goto unterminated;
                                        /* s[1] may be the end: strchr finds a NUL too. */
                                        if (*s == '\\' && s[1] != '\0' &&
                                            strchr("\"\\$`", s[1]) != NULL)
                                                s++;
                                        word[w++] = *s;
                                }
                                s++;
                        } else if (*s == '\\' && s[1] != '\0') {
                                word[w++] = s[1];
                                s += 2;
                        } else
                                word[w++] = *s++;
                }
                if (any) {
                        if (n + 1 >= cap)
                                v = xreallocarray(v, cap *= 2, sizeof *v);
                        v[n++] = proto_arena_strndup(cfg->arena, word, w);
                }
        }
        free(word);
        if (n == 0) {
                free(v);
                *why = "the command is empty";
                return -1;
        }
        *argv = proto_arena_alloc(cfg->arena, (n + 1) * sizeof **argv);
        memcpy(*argv, v, n * sizeof *v);
        (*argv)[n] = NULL;
        *argc = n;
        free(v);
        return 0;
unterminated:
        free(word);
        free(v);
        *why = "a quote is not closed";
        return -1;
}

const char *
config_where(const struct config_place *places, size_t n, const char *key,
             const char *section_where)
{
        const char *w = section_where;
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(places[i].key, key) == 0)
                        w = places[i].where;
        }
        return w;
}

/* Remember where key was given (arena-owned). */
static void
config_place_add(struct config_parse *cp, struct config_place **v, size_t *n, const char *key)
{
        char where[PATH_MAX + 16];

        snprintf(where, sizeof where, "%s:%d", cp->file, cp->line);
        *v = xreallocarray(*v, *n + 1, sizeof **v);
        (*v)[*n].key = config_strdup(cp->cfg, key);
        (*v)[*n].where = config_strdup(cp->cfg, where);
        (*n)++;
}

static size_t
config_queue_index(struct config_parse *cp, const char *name)
{
        struct config *cfg = cp->cfg;
        size_t i;

        for (i = 0; i < cfg->nqueues; i++) {
                if (strcmp(cfg->queues[i].name, name) == 0)
                        return i;
        }
        cfg->queues = xreallocarray(cfg->queues, cfg->nqueues + 1, sizeof *cfg->queues);
        memset(&cfg->queues[cfg->nqueues], 0, sizeof *cfg->queues);
        cfg->queues[cfg->nqueues].name = config_strdup(cfg, name);
        cfg->queues[cfg->nqueues].pc.name = cfg->queues[cfg->nqueues].name;
        cp->qfp = xreallocarray(cp->qfp, cfg->nqueues + 1, sizeof *cp->qfp);
        cp->qfp[cfg->nqueues] = NULL;
        return cfg->nqueues++;
}

static size_t
config_pool_index(struct config_parse *cp, const char *name)
{
        struct config *cfg = cp->cfg;
        size_t i;

        for (i = 0; i < cfg->npools; i++) {
                if (strcmp(cfg->pools[i].name, name) == 0)
                        return i;
        }
        cfg->pools = xreallocarray(cfg->pools, cfg->npools + 1, sizeof *cfg->pools);
        memset(&cfg->pools[cfg->npools], 0, sizeof *cfg->pools);
        cfg->pools[cfg->npools].name = config_strdup(cfg, name);
        cfg->pools[cfg->npools].pc.name = cfg->pools[cfg->npools].name;
        cp->extra = xreallocarray(cp->extra, cfg->npools + 1, sizeof *cp->extra);
        memset(&cp->extra[cfg->npools], 0, sizeof *cp->extra);
        return cfg->npools++;
}

/* A key of [daemon]. */
static int
config_daemon_key(struct config_parse *cp, const char *key, const char *value)
{
        struct config *cfg = cp->cfg;
        static const struct proto_field fields[] = {
            {.name = "socket_mode", .type = PF_UINT, .max = 0777},
            {.name = "history", .type = PF_UINT, .max = 10000000},
            {.name = "max_message", .type = PF_UINT, .min = 1024, .max = 1 << 30},
            {.name = "queue_max_message", .type = PF_UINT, .min = 1, .max = 1 << 30},
            {.name = "max_connections", .type = PF_UINT, .min = 1, .max = 1000000},
            {.name = "max_processes", .type = PF_UINT, .min = 1, .max = 10000000},
            {.name = "max_processes_per_uid", .type = PF_UINT, .min = 1, .max = 10000000},
            {.name = "max_waiting", .type = PF_UINT, .min = 1, .max = 1000000},
            {.name = "max_output", .type = PF_UINT, .min = 65536, .max = 1ll << 34},
            {.name = "max_pinned", .type = PF_UINT, .max = 1000000},
            {.name = "grace", .type = PF_SECONDS, .max = 86400},
            {.name = "idle_timeout", .type = PF_SECONDS, .max = 86400},
        };
        uint64_t *unums[] = {&cfg->socket_mode,
                             &cfg->history,
                             &cfg->max_message,
                             &cfg->queue_max_message,
                             &cfg->max_connections,
                             &cfg->max_processes,
                             &cfg->max_processes_per_uid,
                             &cfg->max_waiting,
                             &cfg->max_output,
                             &cfg->max_pinned};
        double *dnums[] = {&cfg->grace, &cfg->idle_timeout};
        bool *has[] = {&cfg->has_socket_mode,
                       &cfg->has_history,
                       &cfg->has_max_message,
                       &cfg->has_queue_max_message,
                       &cfg->has_max_connections,
                       &cfg->has_max_processes,
                       &cfg->has_max_processes_per_uid,
                       &cfg->has_max_waiting,
                       &cfg->has_max_output,
                       &cfg->has_max_pinned,
                       &cfg->has_grace,
                       &cfg->has_idle_timeout};
        struct proto_error err;
        size_t i;

        if (strcmp(key, "socket") == 0 || strcmp(key, "state_dir") == 0) {
                if (value[0] != '/') {
                        config_error(cp, "daemon", key, "an absolute path is needed, not '%s'",
                                     value);
                        return 0;
                }
                *(strcmp(key, "socket") == 0 ? &cfg->socket : &cfg->state_dir) =
                    config_strdup(cfg, value);
                return 1;
        }
        if (strcmp(key, "log_level") == 0) {
                if (log_level_from_name(value) < 0) {
                        config_error(cp, "daemon", key, "error, warn, info or debug, not '%s'",
                                     value);
                        return 0;
                }
                cfg->log_level = config_strdup(cfg, value);
                return 1;
        }
        if (strcmp(key, "socket_group") == 0) {
                cfg->socket_group = config_strdup(cfg, value);
                return 1;
        }
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
                struct proto_field f = fields[i];
                union {
                        uint64_t u;
                        double d;
                } v;

                if (strcmp(key, f.name) != 0)
                        continue;
                f.off = 0;
                if (proto_field_from_text(&f, value, &v, cfg->arena, &err) != 0) {
                        config_error(cp, "daemon", key, "%s", err.message);
                        return 0;
                }
                if (f.type == PF_SECONDS)
                        *dnums[i - sizeof unums / sizeof unums[0]] = v.d;
                else
                        *unums[i] = v.u;
                *has[i] = true;
                return 1;
        }
        config_error(cp, "daemon", key, "unknown key");
        return 0;
}

/* A key of [queue:NAME]: a queue.create parameter. */
static int
config_queue_key(struct config_parse *cp, const char *section, const char *name, const char *key,
                 const char *value)
{
        size_t i = config_queue_index(cp, name);
        struct config_queue *q = &cp->cfg->queues[i];
        const struct proto_field *f = proto_spec_field(&proto_spec_queue_create, key);
        struct proto_error err;

        if (f == NULL || strcmp(key, "name") == 0) {
                config_error(cp, section, key, "unknown key");
                return 0;
        }
        config_place_add(cp, &q->places, &q->nplaces, key);
        if (proto_field_from_text(f, value, &q->pc, cp->cfg->arena, &err) != 0) {
                config_error(cp, section, key, "%s", err.message);
                return 0;
        }
        {
                char canon[256];

                config_canon(f, &q->pc, canon, sizeof canon, value);
                config_append(&cp->qfp[i], key, canon);
        }
        return 1;
}

/* A key of [pool:NAME]: a pool.create parameter, or one of the file's own. */
static int
config_pool_key(struct config_parse *cp, const char *section, const char *name, const char *key,
                const char *value)
{
        size_t i = config_pool_index(cp, name);
        struct config_pool *p = &cp->cfg->pools[i];
        struct pool_extra *x = &cp->extra[i];
        const struct proto_field *f;
        struct proto_error err;
        const char *why;

        config_place_add(cp, &p->places, &p->nplaces, key);
        if (strcmp(key, "replicas") == 0) {
                struct proto_field rf = {.name = "replicas", .type = PF_UINT, .max = 10000};

                if (proto_field_from_text(&rf, value, &p->replicas, cp->cfg->arena, &err) != 0) {
                        config_error(cp, section, key, "%s", err.message);
                        return 0;
                }
                p->has_replicas = true;
                return 1;
        }
        if (strcmp(key, "command") == 0) {
                if (config_words(cp->cfg, value, &x->command, &x->argc, &why) != 0) {
                        config_error(cp, section, key, "%s", why);
                        return 0;
                }
        } else if (strcmp(key, "env") == 0) {
                const char *eq = strchr(value, '=');

                if (eq == NULL || eq == value || x->nenv >= CONFIG_ENV_MAX) {
                        config_error(cp, section, key, "KEY=VALUE is needed, not '%s'", value);
                        return 0;
                }
                x->env = xreallocarray(x->env, x->nenv + 2, sizeof *x->env);
                x->env[x->nenv++] = config_strdup(cp->cfg, value);
                x->env[x->nenv] = NULL;
        } else if (strcmp(key, "cwd") == 0) {
                if (value[0] != '/') {
                        config_error(cp, section, key, "an absolute path is needed, not '%s'",
                                     value);
                        return 0;
                }
                x->cwd = config_strdup(cp->cfg, value);
        } else if (strcmp(key, "consume") == 0) {
                if (!proto_name_valid(value, strlen(value), &why)) {
                        config_error(cp, section, key, "not a queue name: %s", why);
                        return 0;
                }
                x->consume = config_strdup(cp->cfg, value);
        } else if (strcmp(key, "size") == 0 || strcmp(key, "name") == 0 ||
                   (f = proto_spec_field(&proto_spec_pool_create, key)) == NULL ||
                   f->type == PF_STRUCT) {
                if (strcmp(key, "size") != 0) {
                        config_error(cp, section, key, "unknown key");
                        return 0;
                }
                f = proto_spec_field(&proto_spec_pool_create, "size");
                if (proto_field_from_text(f, value, &p->pc, cp->cfg->arena, &err) != 0) {
                        config_error(cp, section, key, "%s", err.message);
                        return 0;
                }
                return 1; /* size is not part of what the members are */
        } else if (proto_field_from_text(f, value, &p->pc, cp->cfg->arena, &err) != 0) {
                config_error(cp, section, key, "%s", err.message);
                return 0;
        } else {
                char canon[256];

                config_canon(f, &p->pc, canon, sizeof canon, value);
                config_append(&x->fp, key, canon);
                return 1;
        }
        if (strcmp(key, "command") == 0) {
                /* Its words, not its spacing. */
                char *words = xstrdup("");

                for (size_t k = 0; k < x->argc; k++) {
                        char *n;

                        xasprintf(&n, "%s%s\x1f", words, x->command[k]);
                        free(words);
                        words = n;
                }
                config_append(&x->fp, key, words);
                free(words);
        } else
                config_append(&x->fp, key, value);
        return 1;
}

static int
config_handler(void *user, const char *section, const char *key, const char *value)
{
        struct config_parse *cp = user;
        const char *name = strchr(section, ':'), *why;

        if (cp->error != NULL)
                return 0;
        if (strcmp(section, "daemon") == 0)
                return config_daemon_key(cp, key, value);
        if (strcmp(section, "access") == 0) {
                struct config *cfg = cp->cfg;

                /* inih splits keys at ':', so the file says user.NAME and group.NAME. */
                if (strncmp(key, "user.", 5) != 0 && strncmp(key, "group.", 6) != 0) {
                        config_error(cp, section, key, "expected user.NAME or group.NAME");
                        return 0;
                }
                cfg->access = xreallocarray(cfg->access, cfg->naccess + 1, sizeof *cfg->access);
                cfg->access[cfg->naccess].who = config_strdup(cfg, key);
                cfg->access[cfg->naccess].what = config_strdup(cfg, value);
                cfg->naccess++;
                return 1;
        }
        if (name == NULL || !proto_name_valid(name + 1, strlen(name + 1), &why)) {
                config_error(cp, section, NULL,
                             "unknown section (expected [daemon], [access], [pool:NAME] or "
                             "[queue:NAME])");
                return 0;
        }
        if (strncmp(section, "queue:", 6) == 0)
                return config_queue_key(cp, section, name + 1, key, value);
        if (strncmp(section, "pool:", 5) == 0)
                return config_pool_key(cp, section, name + 1, key, value);
        config_error(cp, section, NULL,
                     "unknown section (expected [daemon], [pool:NAME] or [queue:NAME])");
        return 0;
}

/* Put a pool's pieces together: command goes to replicas or consume. */
static int
config_finish_pool(struct config_parse *cp, size_t i, char **cause)
{
        struct config_pool *p = &cp->cfg->pools[i];
        struct pool_extra *x = &cp->extra[i];
        const char *problem = NULL, *problem_key = "command";

        if (x->consume != NULL) {
                problem_key = "consume";
                if (x->command == NULL)
                        problem = "consume needs a command to run for each message";
                else if (p->has_replicas) {
                        problem_key = "replicas";
                        problem = "a pool has replicas or consumes a queue, not both";
                }
                p->pc.has_consume = true;
                p->pc.consume.queue = x->consume;
                p->pc.consume.argv = x->command;
                p->pc.consume.argc = x->argc;
                p->pc.consume.env = x->env;
                p->pc.consume.nenv = x->nenv;
                p->pc.consume.cwd = x->cwd;
        } else if (x->command != NULL) {
                /* A program to keep running: one replica unless told. */
                p->pc.has_replicas = true;
                p->pc.replicas.argv = x->command;
                p->pc.replicas.argc = x->argc;
                p->pc.replicas.env = x->env;
                p->pc.replicas.nenv = x->nenv;
                p->pc.replicas.cwd = x->cwd;
                p->pc.replicas.count = p->has_replicas ? p->replicas : 1;
        } else if (p->has_replicas || x->env != NULL || x->cwd != NULL) {
                problem_key = p->has_replicas ? "replicas" : x->env != NULL ? "env" : "cwd";
                problem = "replicas, env and cwd need a command";
        }
        if (problem != NULL) {
                xasprintf(cause, "%s: [pool:%s] %s: %s",
                          config_where(p->places, p->nplaces, problem_key, p->where), p->name,
                          problem_key, problem);
                return -1;
        }
        /* Keep env and the fingerprint in the arena: they outlive this parse. */
        if (x->env != NULL) {
                const char **env = proto_arena_alloc(cp->cfg->arena, (x->nenv + 1) * sizeof *env);

                memcpy(env, x->env, (x->nenv + 1) * sizeof *env);
                if (p->pc.has_consume)
                        p->pc.consume.env = env;
                else
                        p->pc.replicas.env = env;
        }
        {
                char *sorted = config_sorted(x->fp);

                p->fingerprint = config_strdup(cp->cfg, sorted);
                free(sorted);
        }
        return 0;
}

static int
config_queue_finish(struct config_parse *cp, size_t i)
{
        char *sorted = config_sorted(cp->qfp[i]);

        cp->cfg->queues[i].fingerprint = config_strdup(cp->cfg, sorted);
        free(sorted);
        return 0;
}

/* Parse one file; sections are remembered even when empty. */
static int
config_parse_file(struct config_parse *cp, const char *file, char **cause)
{
        char line[8192];
        int r;

        if ((cp->fp = fopen(file, "re")) == NULL) {
                xasprintf(cause, "cannot open %s: %s", file, strerror(errno));
                return -1;
        }
        cp->file = file;
        /*
         * First pass: sections, so that [pool:x] with no keys still makes a
         * pool and an unknown section is an error even when empty.
         */
        cp->line = 0;
        while (fgets(line, sizeof line, cp->fp) != NULL) {
                char *s = line, *e, where[PATH_MAX + 16];
                size_t i;

                cp->line++;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s != '[' || (e = strchr(s, ']')) == NULL)
                        continue;
                *e = '\0';
                snprintf(where, sizeof where, "%s:%d", file, cp->line);
                if (strncmp(s + 1, "pool:", 5) == 0 &&
                    proto_name_valid(s + 6, strlen(s + 6), NULL)) {
                        i = config_pool_index(cp, s + 6);
                        if (cp->cfg->pools[i].where == NULL)
                                cp->cfg->pools[i].where = config_strdup(cp->cfg, where);
                } else if (strncmp(s + 1, "queue:", 6) == 0 &&
                           proto_name_valid(s + 7, strlen(s + 7), NULL)) {
                        i = config_queue_index(cp, s + 7);
                        if (cp->cfg->queues[i].where == NULL)
                                cp->cfg->queues[i].where = config_strdup(cp->cfg, where);
                } else if (strcmp(s + 1, "daemon") != 0 && strcmp(s + 1, "access") != 0) {
                        xasprintf(cause,
                                  "%s: [%s]: unknown section (expected [daemon], [access], "
                                  "[pool:NAME] or [queue:NAME])",
                                  where, s + 1);
                        fclose(cp->fp);
                        cp->fp = NULL;
                        return -1;
                }
        }
        rewind(cp->fp);
        cp->line = 0;
        r = ini_parse_stream(config_reader, cp, config_handler, cp);
        fclose(cp->fp);
        cp->fp = NULL;
        if (cp->error != NULL) {
                *cause = cp->error;
                cp->error = NULL;
                return -1;
        }
        if (r != 0) {
                xasprintf(cause, "%s:%d: not an INI line (expected [section] or key = value)", file,
                          r);
                return -1;
        }
        return 0;
}

static int
config_cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* FILE's directory's conf.d/NAME.conf, sorted. */
static char **
config_dropins(const char *path, size_t *n)
{
        char dir[PATH_MAX], *slash, **v = NULL;
        struct dirent *de;
        DIR *dp;

        *n = 0;
        snprintf(dir, sizeof dir, "%s", path);
        if ((slash = strrchr(dir, '/')) != NULL)
                *slash = '\0';
        else
                snprintf(dir, sizeof dir, ".");
        strncat(dir, "/conf.d", sizeof dir - strlen(dir) - 1);
        if ((dp = opendir(dir)) == NULL)
                return NULL;
        while ((de = readdir(dp)) != NULL) {
                size_t len = strlen(de->d_name);

                if (len <= 5 || de->d_name[0] == '.' || strcmp(de->d_name + len - 5, ".conf") != 0)
                        continue;
                v = xreallocarray(v, *n + 1, sizeof *v);
                xasprintf(&v[(*n)++], "%s/%s", dir, de->d_name);
        }
        closedir(dp);
        qsort(v, *n, sizeof *v, config_cmp_str);
        return v;
}

struct config *
config_load(const char *path, bool required, char **cause)
{
        struct config *cfg = xcalloc(1, sizeof *cfg);
        struct config_parse cp = {.cfg = cfg};
        char **dropins;
        size_t ndropins, i;
        int r = 0;

        if ((cfg->arena = proto_arena_new()) == NULL)
                fatalx("out of memory");
        if (access(path, F_OK) != 0 && !required) {
                cfg->files = xstrdup("(built-in defaults)");
                return cfg;
        }
        cfg->files = xstrdup(path);
        r = config_parse_file(&cp, path, cause);
        dropins = config_dropins(path, &ndropins);
        for (i = 0; i < ndropins; i++) {
                if (r == 0) {
                        char *files;

                        xasprintf(&files, "%s, %s", cfg->files, dropins[i]);
                        free(cfg->files);
                        cfg->files = files;
                        r = config_parse_file(&cp, dropins[i], cause);
                }
        }
        for (i = 0; r == 0 && i < cfg->npools; i++)
                r = config_finish_pool(&cp, i, cause);
        for (i = 0; r == 0 && i < cfg->nqueues; i++)
                r = config_queue_finish(&cp, i);
        for (i = 0; i < cfg->npools && cp.extra != NULL; i++) {
                free(cp.extra[i].env);
                free(cp.extra[i].fp);
        }
        free(cp.extra);
        for (i = 0; i < cfg->nqueues; i++)
                free(cp.qfp[i]);
        free(cp.qfp);
        for (i = 0; i < ndropins; i++)
                free(dropins[i]);
        free(dropins);
        if (r != 0) {
                config_free(cfg);
                return NULL;
        }
        return cfg;
}

void
config_free(struct config *cfg)
{
        if (cfg == NULL)
                return;
        proto_arena_free(cfg->arena);
        for (size_t i = 0; i < cfg->nqueues; i++)
                free(cfg->queues[i].places);
        for (size_t i = 0; i < cfg->npools; i++)
                free(cfg->pools[i].places);
        free(cfg->queues);
        free(cfg->pools);
        free(cfg->access);
        free(cfg->files);
        free(cfg);
}
