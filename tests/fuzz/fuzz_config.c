/*
 * fuzz_config.c -- libFuzzer target for the configuration file parser
 * (daemon/config.c over libinih, the protocol's field tables for values,
 * the shell-like command splitter) and the [access] rules parser
 * (daemon/access.c, access_rules_new()).
 *
 * Input: the whole configuration file. It is written to corrald.conf in a
 * private temporary directory (made once per process, with no conf.d) and
 * loaded as corrald does at start-up; what loads is checked for
 * consistency and every string and vector is touched, so that ASan sees
 * them; its [access] rules are then parsed as config_apply_access() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * access.c's check and scopes need the daemon's connections and process
 * table; only its rule parser is fuzzed here, which uses neither.
 */
struct conn;
struct process;
struct process_table;
struct proto_target;
const struct access_grant *conn_grant(const struct conn *);
uid_t conn_peer_uid(const struct conn *);
struct process *process_find_id(struct process_table *, uint64_t);
struct process *process_find_name(struct process_table *, const char *);

const struct access_grant *
conn_grant(const struct conn *c)
{
        abort();
}

uid_t
conn_peer_uid(const struct conn *c)
{
        abort();
}

struct process *
process_find_id(struct process_table *t, uint64_t id)
{
        abort();
}

struct process *
process_find_name(struct process_table *t, const char *name)
{
        abort();
}

/* Touch a NULL-terminated vector of n strings. */
static void
touch_strv(const char *const *v, size_t n)
{
        volatile size_t sum = 0;

        if (n > 0 && v == NULL)
                abort();
        for (size_t i = 0; i < n; i++)
                sum += strlen(v[i]);
        if (v != NULL && v[n] != NULL)
                abort();
        (void)sum;
}

static void
check_name(const char *name)
{
        if (name == NULL || !proto_name_valid(name, strlen(name), NULL))
                abort(); /* a section name the parser should have refused */
}

static void
check(const struct config *cfg)
{
        volatile size_t sum = strlen(cfg->files);

        for (size_t i = 0; i < cfg->npools; i++) {
                const struct config_pool *p = &cfg->pools[i];

                check_name(p->name);
                sum += strlen(p->fingerprint);
                if (p->pc.has_replicas && p->pc.has_consume)
                        abort(); /* config_finish_pool() refuses both */
                if (p->pc.has_replicas) {
                        if (p->pc.replicas.argc == 0)
                                abort();
                        touch_strv(p->pc.replicas.argv, p->pc.replicas.argc);
                        touch_strv(p->pc.replicas.env, p->pc.replicas.nenv);
                        for (size_t j = 0; j < p->pc.replicas.nenv; j++) {
                                if (strchr(p->pc.replicas.env[j], '=') == NULL)
                                        abort();
                        }
                }
                if (p->pc.has_consume) {
                        check_name(p->pc.consume.queue);
                        if (p->pc.consume.argc == 0)
                                abort();
                        touch_strv(p->pc.consume.argv, p->pc.consume.argc);
                        touch_strv(p->pc.consume.env, p->pc.consume.nenv);
                }
                if (p->pc.privs.user != NULL)
                        sum += strlen(p->pc.privs.user);
        }
        for (size_t i = 0; i < cfg->nqueues; i++) {
                check_name(cfg->queues[i].name);
                sum += strlen(cfg->queues[i].fingerprint);
                if (cfg->queues[i].pc.dead_letter != NULL)
                        sum += strlen(cfg->queues[i].pc.dead_letter);
        }
        for (size_t i = 0; i < cfg->naccess; i++)
                sum += strlen(cfg->access[i].who) + strlen(cfg->access[i].what);
        if (cfg->socket != NULL && cfg->socket[0] != '/')
                abort();
        if (cfg->state_dir != NULL && cfg->state_dir[0] != '/')
                abort();
        (void)sum;
}

static char path[256], dir[64];

/* Leave nothing in /tmp. */
static void
cleanup(void)
{
        unlink(path);
        rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct access_rules *rules;
        struct config *cfg;
        char *cause = NULL;
        int fd;

        if (path[0] == '\0') {
                snprintf(dir, sizeof dir, "/tmp/corral-fuzz-config.XXXXXX");
                if (mkdtemp(dir) == NULL)
                        abort();
                snprintf(path, sizeof path, "%s/corrald.conf", dir);
                atexit(cleanup);
                log_set_level(LOG_LEVEL_ERROR);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
                abort();
        cfg = config_load(path, true, &cause);
        if (cfg == NULL) {
                /* Refused: with a message naming the file. */
                if (cause == NULL || cause[0] == '\0')
                        abort();
                free(cause);
                return 0;
        }
        check(cfg);
        cause = NULL;
        rules = access_rules_new(cfg->access, cfg->naccess, &cause);
        if (rules == NULL && (cause == NULL || cause[0] == '\0'))
                abort();
        access_rules_free(rules);
        free(cause);
        config_free(cfg);
        return 0;
}
