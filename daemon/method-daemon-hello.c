/* method-daemon-hello.c -- daemon.hello: protocol version, build, pid, methods. */
#include <unistd.h>

#include "method.h"
#include "request.h"

static enum method_result
hello_run(struct request *req, const void *params)
{
        msgpack_packer *pk = request_result(req);
        const char *const *names;
        unsigned n, i;

        method_names(&names, &n);
        msgpack_pack_map(pk, 4);
        proto_pack_kv_uint(pk, "protocol", PROTO_VERSION);
        proto_pack_kv_str(pk, "version", CORRAL_VERSION);
        proto_pack_kv_uint(pk, "pid", (uint64_t)getpid());
        proto_pack_str(pk, "methods");
        msgpack_pack_array(pk, n);
        for (i = 0; i < n; i++)
                proto_pack_str(pk, names[i]);
        request_done(req);
        return METHOD_DONE;
}

const struct method method_daemon_hello = {
    .name = PROTO_M_DAEMON_HELLO,
    .params = &proto_spec_daemon_hello,
    .access = METHOD_READ,
    .flags = METHOD_STOPPING_OK,
    .run = hello_run,
};
