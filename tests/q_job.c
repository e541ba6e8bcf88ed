/*
 * q_job.c -- a child program for the queue tests, run by corrald.
 *
 *   q_job hold SOCKET QUEUE READY
 *       Connect to the daemon itself, get one message of QUEUE with ack
 *       (waiting up to 30 s), write its msg_id to READY (via a rename, so
 *       the file appears whole), then sleep until killed (60 s at most).
 *
 *   q_job handle OUTDIR FAIL_EVERY ALWAYS_FAIL_EVERY
 *       A consuming pool's handler. Reads the message from stdin and
 *       $CORRAL_MSG_ID, $CORRAL_ATTEMPT. Fails (exit 1) when
 *       (id + attempt) % FAIL_EVERY == 0 or id % ALWAYS_FAIL_EVERY == 0,
 *       appending "attempt N" to OUTDIR/fail.ID; otherwise appends the
 *       message and a newline to OUTDIR/ok.ID and exits 0. Appends use
 *       O_APPEND, so two runs for one id would both show.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "corral.h"

static void
pk_s(msgpack_packer *pk, const char *s)
{
        msgpack_pack_str(pk, strlen(s));
        msgpack_pack_str_body(pk, s, strlen(s));
}

static int
append(const char *path, const char *buf, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        ssize_t w;

        if (fd == -1)
                return -1;
        w = write(fd, buf, len);
        close(fd);
        return w == (ssize_t)len ? 0 : -1;
}

static int
hold(const char *sock, const char *queue, const char *ready)
{
        struct corral_error err;
        struct corral_result res;
        struct corral *c;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        const msgpack_object *id = NULL;
        char tmp[4096], line[64];
        int fd;

        c = corral_connect(sock, &err);
        if (c == NULL) {
                fprintf(stderr, "q_job: connect %s: %s\n", sock, err.message);
                return 1;
        }
        corral_set_timeout(c, 40);
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        pk_s(&pk, "queue");
        pk_s(&pk, queue);
        pk_s(&pk, "timeout");
        msgpack_pack_double(&pk, 30);
        pk_s(&pk, "ack");
        msgpack_pack_true(&pk);
        if (corral_call(c, "queue.get", sb.data, sb.size, &res, &err) != 0) {
                fprintf(stderr, "q_job: queue.get: %s %s\n", err.code, err.message);
                return 1;
        }
        msgpack_sbuffer_destroy(&sb);
        for (uint32_t i = 0; res.obj.type == MSGPACK_OBJECT_MAP && i < res.obj.via.map.size; i++) {
                const msgpack_object_kv *kv = &res.obj.via.map.ptr[i];

                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 6 &&
                    memcmp(kv->key.via.str.ptr, "msg_id", 6) == 0)
                        id = &kv->val;
        }
        if (id == NULL || id->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                fprintf(stderr, "q_job: queue.get result has no msg_id\n");
                return 1;
        }
        snprintf(line, sizeof line, "%llu\n", (unsigned long long)id->via.u64);
        corral_result_free(&res);
        snprintf(tmp, sizeof tmp, "%s.tmp", ready);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || close(fd) != 0 ||
            rename(tmp, ready) != 0) {
                fprintf(stderr, "q_job: %s: %s\n", ready, strerror(errno));
                return 1;
        }
        /* Hold the reservation (and the connection) until killed. */
        sleep(60);
        corral_close(c);
        return 0;
}

static int
handle(const char *outdir, long fail_every, long always_every)
{
        const char *ids = getenv("CORRAL_MSG_ID"), *atts = getenv("CORRAL_ATTEMPT");
        char data[8192], path[4096], line[64];
        size_t len = 0;
        ssize_t n;
        long id, attempt;

        if (ids == NULL || atts == NULL) {
                fprintf(stderr, "q_job: CORRAL_MSG_ID or CORRAL_ATTEMPT missing\n");
                return 2;
        }
        id = atol(ids);
        attempt = atol(atts);
        while (len < sizeof data - 1 && (n = read(0, data + len, sizeof data - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 2;
                len += (size_t)n;
        }
        if ((fail_every > 0 && (id + attempt) % fail_every == 0) ||
            (always_every > 0 && id % always_every == 0)) {
                snprintf(path, sizeof path, "%s/fail.%ld", outdir, id);
                snprintf(line, sizeof line, "attempt %ld\n", attempt);
                append(path, line, strlen(line));
                return 1;
        }
        snprintf(path, sizeof path, "%s/ok.%ld", outdir, id);
        data[len++] = '\n';
        return append(path, data, len) == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
        if (argc == 5 && strcmp(argv[1], "hold") == 0)
                return hold(argv[2], argv[3], argv[4]);
        if (argc == 5 && strcmp(argv[1], "handle") == 0)
                return handle(argv[2], atol(argv[3]), atol(argv[4]));
        fprintf(stderr, "usage: q_job hold SOCKET QUEUE READY | handle OUTDIR N M\n");
        return 2;
}
