/* method-daemon-reopen-logs.c -- daemon.reopen_logs: reopen every file:PATH (as SIGUSR1). */
#include "corrald.h"
#include "method.h"
#include "output.h"
#include "request.h"

static enum method_result
reopen_run(struct request *req, const void *params)
{
        output_reopen_files(req->daemon);
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_daemon_reopen_logs = {
    .name = PROTO_M_DAEMON_REOPEN_LOGS,
    .params = &proto_spec_daemon_reopen_logs,
    .access = METHOD_ADMIN,
    .flags = METHOD_STOPPING_OK,
    .run = reopen_run,
};
