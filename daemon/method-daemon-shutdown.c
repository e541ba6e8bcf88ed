/* method-daemon-shutdown.c -- daemon.shutdown: answer, then stop as on SIGTERM. */
#include "corrald.h"
#include "method.h"
#include "request.h"

static enum method_result
shutdown_run(struct request *req, const void *params)
{
        struct corrald *d = req->daemon;

        request_ok(req);
        corrald_stop(d, "daemon.shutdown requested");
        return METHOD_DONE;
}

const struct method method_daemon_shutdown = {
    .name = PROTO_M_DAEMON_SHUTDOWN,
    .params = &proto_spec_daemon_shutdown,
    .access = METHOD_ADMIN,
    .flags = METHOD_STOPPING_OK,
    .run = shutdown_run,
};
