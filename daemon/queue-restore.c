/*
 * queue-restore.c -- durable queues at start-up: each log in the state
 * directory is read (config first, then every record) and its queue
 * rebuilt; reservations do not survive a restart, so every message comes
 * back ready (or delayed, if its delay has not passed).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "log.h"
#include "process-table.h"
#include "queue-internal.h"
#include "queue-log.h"
#include "queue.h"
#include "xmalloc.h"

/* Replay: apply one record of a durable queue's log. */
static void
queue_replay(struct queue *q, const struct queue_log_rec *r)
{
        struct qmsg *m;

        /* Ids we never hand out: a record naming one is damaged, not a message. */
        if (r->id == 0 || r->id >= QUEUE_ID_END)
                return;

        switch (r->type) {
        case QLOG_PUT:
                if (queue_lookup(q, r->id) != NULL)
                        return;
                m = qmsg_new(r->id, r->data, r->len);
                m->priority = r->priority;
                m->attempts = r->attempts;
                m->visible_wall = r->visible_wall;
                queue_index(q, m);
                q->count++;
                q->bytes += m->len;
                if (r->id >= q->next_id)
                        q->next_id = r->id + 1;
                break;
        case QLOG_ACK:
                if ((m = queue_lookup(q, r->id)) != NULL)
                        queue_drop(q, m);
                if (r->id >= q->next_id)
                        q->next_id = r->id + 1;
                break;
        case QLOG_ATTEMPT:
                if ((m = queue_lookup(q, r->id)) != NULL)
                        m->attempts = r->attempts;
                break;
        case QLOG_DELAY:
                if ((m = queue_lookup(q, r->id)) != NULL)
                        m->visible_wall = r->visible_wall;
                break;
        default:
                break;
        }
}

static int
queue_restore_one(struct queue_table *qt, const char *dir, const char *file, char **cause)
{
        char path[PATH_MAX], name[PROTO_NAME_MAX + 1];
        struct queue_config cfg;
        size_t len = strlen(file);
        const char *why;
        struct queue *q;

        if (len <= 4 || strcmp(file + len - 4, ".log") != 0 || len - 4 > PROTO_NAME_MAX)
                return 0;
        memcpy(name, file, len - 4);
        name[len - 4] = '\0';
        if (!proto_name_valid(name, len - 4, &why))
                return 0;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
                xasprintf(cause, "path too long: %s/%s", dir, file);
                return -1;
        }
        if (queue_log_read_config(path, &cfg, cause) != 0)
                return -1;
        q = queue_alloc(qt, name, &cfg);
        if ((q->log = queue_log_open(qt->daemon->base, qt->daemon->syncer, q, path, queue_replay,
                                     cause)) == NULL) {
                TAILQ_REMOVE(&qt->queues, q, entry);
                qt->count--;
                queue_free(q);
                return -1;
        }
        queue_replay_done(q);
        queue_arm_timers(q);
        log_info("queue %s restored: %llu messages", q->name, (unsigned long long)q->count);
        return 0;
}

int
queue_table_restore(struct queue_table *qt, char **cause)
{
        char dir[PATH_MAX];
        struct dirent *de;
        DIR *dp;

        if (queue_dir(qt, dir, sizeof dir, false, cause) != 0)
                return -1;
        if ((dp = opendir(dir)) == NULL) {
                if (errno == ENOENT)
                        return 0;
                xasprintf(cause, "cannot read %s: %s", dir, strerror(errno));
                return -1;
        }
        while ((de = readdir(dp)) != NULL) {
                char *one = NULL;

                if (queue_restore_one(qt, dir, de->d_name, &one) != 0) {
                        /* One bad log must not keep the others (or the daemon) down. */
                        log_error("queue log %s/%s not restored: %s", dir, de->d_name, one);
                        free(one);
                }
        }
        closedir(dp);
        return 0;
}
