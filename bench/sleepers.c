/*
 * sleepers.c -- many supervised idle children for the footprint and
 * scale scenarios: `sleep 3600` started through corrald (pipelined), and
 * killed by PID afterwards, waiting until corrald has reaped them all.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SLEEPERS_WINDOW   64
#define SLEEPERS_MARGIN   500 /* processes left for everything else on the machine */
#define SLEEPERS_REAP_MAX 60.0

static const char *const sleeper_argv[] = {"/bin/sleep", "3600", NULL};

size_t
sleepers_fit(size_t want)
{
        long room = proc_headroom() - SLEEPERS_MARGIN;

        if (room < 0)
                room = 0;
        if ((size_t)room < want) {
                bench_note("only %ld processes can be created on this machine (pid_max, "
                           "RLIMIT_NPROC): measured with %ld sleeping children instead of %zu",
                           room, room, want);
                return (size_t)room;
        }
        return want;
}

/*
 * A spawn refused for lack of resources (descriptors, processes) ends the
 * ramp-up instead of the scenario: the figure is then measured with the
 * children that did start, and a note says where the daemon stopped.
 */
static bool
sleepers_exhausted(const char *why)
{
        return why != NULL && (strstr(why, "Too many open files") != NULL ||
                               strstr(why, "Resource temporarily unavailable") != NULL ||
                               strstr(why, "limit_reached") != NULL);
}

int
sleepers_spawn(struct rpc *r, size_t n, pid_t *pids, size_t *spawned, char **cause)
{
        struct spawn_args sa = {sleeper_argv, NULL, NULL};
        struct pollfd pfd = {r->fd, POLLIN, 0};
        size_t sent = 0, done = 0, answered = 0;
        struct proto_msg msg;
        char *refused = NULL;
        int rc = 0, k;

        while (answered < sent || (sent < n && refused == NULL)) {
                while (refused == NULL && sent < n && sent - answered < SLEEPERS_WINDOW) {
                        rpc_queue(r, PROTO_M_PROCESS_SPAWN, rpc_params_spawn, &sa);
                        sent++;
                }
                if ((rc = rpc_write_some(r, cause)) != 0)
                        break;
                pfd.events = POLLIN | (rpc_out_pending(r) > 0 ? POLLOUT : 0);
                if ((k = poll(&pfd, 1, 30000)) == 0) {
                        rc = fail(cause, "spawning stalled at %zu of %zu", done, n);
                        break;
                }
                if (k < 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                if (rpc_read_some(r, cause) < 0) {
                        rc = -1;
                        break;
                }
                while (rc == 0 && (k = rpc_next(r, &msg, cause)) > 0) {
                        answered++;
                        if ((rc = rpc_check(&msg, PROTO_M_PROCESS_SPAWN, cause)) == 0) {
                                pids[done++] = (pid_t)rpc_get_uint(&msg.result, "pid");
                        } else if (sleepers_exhausted(*cause)) {
                                if (refused == NULL)
                                        refused = xstrdup(*cause);
                                rc = 0;
                        }
                        proto_msg_clear(&msg);
                }
                if (k < 0)
                        rc = -1;
                if (rc != 0)
                        break;
        }
        if (rc == 0 && refused != NULL) {
                bench_note("corrald refused to spawn more than %zu sleeping children (%s); "
                           "figures with N use N = %zu",
                           done, refused, done);
                if (done == 0)
                        rc = fail(cause, "%s", refused);
        }
        free(refused);
        *spawned = done;
        if (rc != 0)
                sleepers_kill(r, pids, done, NULL);
        return rc;
}

/* Live processes according to corrald, or -1. */
static long
sleepers_live(struct rpc *r, char **cause)
{
        struct proto_msg msg;
        const msgpack_object *list;
        long n;

        if (rpc_call(r, PROTO_M_PROCESS_LIST, sleepers_params_live, NULL, &msg, cause) != 0)
                return -1;
        list = rpc_get(&msg.result, "processes");
        n = list != NULL && list->type == MSGPACK_OBJECT_ARRAY ? (long)list->via.array.size : -1;
        proto_msg_clear(&msg);
        return n;
}

void
sleepers_params_live(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_map(pk, 1);
        proto_pack_kv_bool(pk, "live", true);
}

int
sleepers_kill(struct rpc *r, const pid_t *pids, size_t n, char **cause)
{
        double deadline = now_mono() + SLEEPERS_REAP_MAX;
        size_t i;
        long live;

        for (i = 0; i < n; i++) {
                if (pids[i] > 0)
                        kill(pids[i], SIGKILL);
        }
        /* corrald reaps them; wait until it says none is left. */
        while ((live = sleepers_live(r, cause)) > 0 && now_mono() < deadline)
                usleep(50000);
        if (live != 0)
                return fail(cause, "corrald still lists %ld live processes", live);
        return 0;
}
