/*
 * method-daemon-reload.c -- daemon.reload: reread the configuration file
 * and apply the difference (as SIGHUP does); an invalid file changes
 * nothing and the answer says why.
 */
#include <stdlib.h>

#include "config-apply.h"
#include "corrald.h"
#include "method.h"
#include "request.h"

static enum method_result
reload_run(struct request *req, const void *params)
{
        char *cause = NULL;

        if (config_reload(req->daemon, &cause) != 0) {
                request_error(req, PROTO_E_BAD_CONFIG, NULL, "%s", cause);
                free(cause);
                return METHOD_DONE;
        }
        request_ok(req);
        return METHOD_DONE;
}

const struct method method_daemon_reload = {
    .name = PROTO_M_DAEMON_RELOAD,
    .params = &proto_spec_daemon_reload,
    .access = METHOD_ADMIN,
    .run = reload_run,
};
