/* method-daemon-ping.c -- daemon.ping: answers at once, for liveness and latency. */
#include "method.h"
#include "request.h"

static enum method_result
ping_run(struct request *req, const void *params)
{
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_daemon_ping = {
    .name = PROTO_M_DAEMON_PING,
    .params = &proto_spec_daemon_ping,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = ping_run,
};
