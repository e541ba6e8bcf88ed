/*
 * fault_support.c -- randomness, /proc, calls without the harness's
 * checks, hostile clients' connections and messages, deferred checks, and
 * small file systems for the read-only cases. See fault_support.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/loop.h>

#include "fault_support.h"

/* ---- randomness ---------------------------------------------------------- */

uint64_t
fault_seed(void)
{
        const char *env = getenv("CORRAL_FAULT_SEED");
        struct timespec ts;
        uint64_t seed;

        if (env != NULL && *env != '\0')
                seed = strtoull(env, NULL, 0);
        else {
                clock_gettime(CLOCK_REALTIME, &ts);
                seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^
                       (uint64_t)getpid() << 32;
        }
        if (seed == 0)
                seed = 1;
        printf("seed %llu (CORRAL_FAULT_SEED=%llu replays this run)\n", (unsigned long long)seed,
               (unsigned long long)seed);
        return seed;
}

uint64_t
fault_rand(uint64_t *s)
{
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * 0x2545F4914F6CDD1DULL;
}

unsigned
fault_rand_range(uint64_t *s, unsigned lo, unsigned hi)
{
        return lo + (unsigned)(fault_rand(s) % (uint64_t)(hi - lo + 1));
}

/* ---- /proc ----------------------------------------------------------------- */

long
fault_rss_kb(pid_t pid)
{
        char path[64], *s, *p;
        long kb = -1;

        snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
        s = file_read(path, NULL);
        if (s == NULL)
                return -1;
        p = strstr(s, "\nVmRSS:");
        if (p != NULL)
                kb = strtol(p + 7, NULL, 10);
        free(s);
        return kb;
}

int
fault_wait_fds(pid_t pid, int want, double timeout)
{
        double deadline = now_mono() + timeout;
        int n;

        for (;;) {
                n = proc_fd_count(pid);
                if (n <= want || now_mono() > deadline)
                        return n;
                usleep(20000);
        }
}

int
fault_wait_no_zombies(pid_t pid, double timeout)
{
        double deadline = now_mono() + timeout;
        int n;

        for (;;) {
                n = proc_zombie_children(pid);
                if (n == 0 || now_mono() > deadline)
                        return n;
                usleep(20000);
        }
}

int
fault_log_count(const struct harness *h, const char *text)
{
        size_t len = 0, tlen = strlen(text);
        char *log = file_read(h->log, &len), *p = log, *end = log + len;
        int n = 0;

        /* memmem with lengths: linear in the log's size, however often text occurs. */
        while (p != NULL && (p = memmem(p, (size_t)(end - p), text, tlen)) != NULL) {
                n++;
                p += tlen;
        }
        free(log);
        return n;
}

/* ---- calls without the harness's checks ----------------------------------- */

struct corral *
fault_connect(const char *sock, double timeout)
{
        struct corral_error err;
        struct corral *c = corral_connect(sock, &err);

        if (c != NULL)
                corral_set_timeout(c, timeout);
        return c;
}

static void
fault_pk_str(msgpack_packer *pk, const char *s)
{
        size_t n = strlen(s);

        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
}

int
fault_put(struct corral *c, const char *queue, const void *data, size_t len,
          struct corral_error *err)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        int rc;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        fault_pk_str(&pk, "queue");
        fault_pk_str(&pk, queue);
        fault_pk_str(&pk, "data");
        msgpack_pack_bin(&pk, len);
        msgpack_pack_bin_body(&pk, data, len);
        rc = corral_call(c, "queue.put", sb.data, sb.size, NULL, err);
        msgpack_sbuffer_destroy(&sb);
        return rc;
}

/* map[key] without the harness's checks. */
static const msgpack_object *
fault_get_key(const msgpack_object *map, const char *key)
{
        size_t klen = strlen(key);

        if (map->type != MSGPACK_OBJECT_MAP)
                return NULL;
        for (uint32_t i = 0; i < map->via.map.size; i++) {
                const msgpack_object_kv *kv = &map->via.map.ptr[i];

                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
                    memcmp(kv->key.via.str.ptr, key, klen) == 0)
                        return &kv->val;
        }
        return NULL;
}

int
fault_get(struct corral *c, const char *queue, double timeout, bool ack, uint64_t *id, char *buf,
          size_t cap, struct corral_error *err)
{
        struct corral_result res;
        const msgpack_object *vid, *vdata;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        int rc;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1 + (timeout >= 0) + ack);
        fault_pk_str(&pk, "queue");
        fault_pk_str(&pk, queue);
        if (timeout >= 0) {
                fault_pk_str(&pk, "timeout");
                msgpack_pack_double(&pk, timeout);
        }
        if (ack) {
                fault_pk_str(&pk, "ack");
                msgpack_pack_true(&pk);
        }
        rc = corral_call(c, "queue.get", sb.data, sb.size, &res, err);
        msgpack_sbuffer_destroy(&sb);
        if (rc != 0)
                return -1;
        vid = fault_get_key(&res.obj, "msg_id");
        vdata = fault_get_key(&res.obj, "data");
        if (vid == NULL || vid->type != MSGPACK_OBJECT_POSITIVE_INTEGER || vdata == NULL ||
            (vdata->type != MSGPACK_OBJECT_BIN && vdata->type != MSGPACK_OBJECT_STR)) {
                corral_result_free(&res);
                snprintf(err->code, sizeof err->code, "protocol");
                snprintf(err->message, sizeof err->message, "malformed queue.get result");
                return -1;
        }
        *id = vid->via.u64;
        if (buf != NULL && cap > 0) {
                size_t n = vdata->via.bin.size < cap - 1 ? vdata->via.bin.size : cap - 1;

                memcpy(buf, vdata->via.bin.ptr, n);
                buf[n] = '\0';
        }
        corral_result_free(&res);
        return 0;
}

int
fault_ack(struct corral *c, const char *queue, uint64_t id, struct corral_error *err)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        int rc;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        fault_pk_str(&pk, "queue");
        fault_pk_str(&pk, queue);
        fault_pk_str(&pk, "msg_id");
        msgpack_pack_uint64(&pk, id);
        rc = corral_call(c, "queue.ack", sb.data, sb.size, NULL, err);
        msgpack_sbuffer_destroy(&sb);
        return rc;
}

bool
fault_record(int fd, const char *fmt, ...)
{
        char line[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof line)
                return false;
        /* One write per line on an O_APPEND descriptor: lines never interleave. */
        return write(fd, line, (size_t)n) == n;
}

/* ---- hostile clients ------------------------------------------------------- */

int
fault_raw_connect(const char *path)
{
        double deadline = now_mono() + 5;
        struct sockaddr_un sun;

        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), saved;

                if (fd == -1)
                        return -1;
                if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
                        return fd;
                saved = errno;
                close(fd);
                errno = saved;
                if (saved != EAGAIN || now_mono() > deadline)
                        return -1;
                usleep(1000);
        }
}

bool
fault_raw_send(int fd, const void *buf, size_t len, double timeout)
{
        const char *p = buf;
        double deadline = now_mono() + timeout;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
                        struct pollfd pfd = {fd, POLLOUT, 0};

                        if (now_mono() > deadline)
                                return false;
                        poll(&pfd, 1, 20);
                        continue;
                }
                return false;
        }
        return true;
}

/* The next message of the set, packed by pk. */
static msgpack_packer *
msgs_next(struct fault_msgs *s, msgpack_packer *pk)
{
        T_ASSERT(s->n < (int)(sizeof s->sb / sizeof s->sb[0]));
        msgpack_sbuffer_init(&s->sb[s->n]);
        msgpack_packer_init(pk, &s->sb[s->n], msgpack_sbuffer_write);
        s->n++;
        return pk;
}

/* Raw bytes appended to the current message. */
static void
msgs_raw(msgpack_packer *pk, const char *bytes, size_t len)
{
        msgpack_sbuffer_write(pk->data, bytes, len);
}

/* [0, 1, method, ...]: the head of a request; its params follow. */
static void
msgs_request(msgpack_packer *pk, const char *method)
{
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint8(pk, 0);
        msgpack_pack_uint8(pk, 1);
        pk_str(pk, method);
}

/* [0, 1, method, [{ nkeys pairs follow }]] */
static void
msgs_request_map(msgpack_packer *pk, const char *method, unsigned nkeys)
{
        msgs_request(pk, method);
        msgpack_pack_array(pk, 1);
        msgpack_pack_map(pk, nkeys);
}

void
fault_wrong_shapes(struct fault_msgs *s)
{
        msgpack_packer pk;

        memset(s, 0, sizeof *s);
        /* Not an array. */
        msgpack_pack_map(msgs_next(s, &pk), 0);
        msgpack_pack_nil(msgs_next(s, &pk));
        msgpack_pack_double(msgs_next(s, &pk), 1.5);
        pk_str(msgs_next(s, &pk), "daemon.ping");
        /* Arrays of the wrong length. */
        msgpack_pack_array(msgs_next(s, &pk), 0);
        msgpack_pack_array(msgs_next(s, &pk), 3);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint8(&pk, 1);
        pk_str(&pk, "daemon.ping");
        /* A negative msgid; one beyond 32 bits. */
        msgpack_pack_array(msgs_next(s, &pk), 4);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_int8(&pk, -1);
        pk_str(&pk, "daemon.ping");
        msgpack_pack_array(&pk, 0);
        msgpack_pack_array(msgs_next(s, &pk), 4);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint64(&pk, 1ull << 40);
        pk_str(&pk, "daemon.ping");
        msgpack_pack_array(&pk, 0);
        /* The method not a string. */
        msgpack_pack_array(msgs_next(s, &pk), 4);
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_uint8(&pk, 5);
        msgpack_pack_array(&pk, 0);
        /* Params a map; two params. */
        msgs_request(msgs_next(s, &pk), "daemon.ping");
        msgpack_pack_map(&pk, 0);
        msgs_request(msgs_next(s, &pk), "daemon.ping");
        msgpack_pack_array(&pk, 2);
        msgpack_pack_nil(&pk);
        msgpack_pack_nil(&pk);
        /* Type code 5; a response and a notification sent to the server. */
        msgpack_pack_array(msgs_next(s, &pk), 4);
        msgpack_pack_uint8(&pk, 5);
        msgpack_pack_uint8(&pk, 1);
        pk_str(&pk, "daemon.ping");
        msgpack_pack_array(&pk, 0);
        msgpack_pack_array(msgs_next(s, &pk), 4);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_nil(&pk);
        msgpack_pack_nil(&pk);
        msgpack_pack_array(msgs_next(s, &pk), 3);
        msgpack_pack_uint8(&pk, 2);
        pk_str(&pk, "event");
        msgpack_pack_array(&pk, 0);
        /* An unknown method; an unknown parameter. */
        msgs_request(msgs_next(s, &pk), "no.such.method");
        msgpack_pack_array(&pk, 0);
        msgs_request_map(msgs_next(s, &pk), "daemon.ping", 1);
        pk_kv_uint(&pk, "x", 1);
        /* Parameters of the wrong types and values. */
        msgs_request_map(msgs_next(s, &pk), "queue.put", 2);
        pk_kv_uint(&pk, "queue", 5);
        pk_str(&pk, "data");
        msgpack_pack_nil(&pk);
        msgs_request_map(msgs_next(s, &pk), "process.spawn", 1);
        pk_str(&pk, "argv");
        msgpack_pack_array(&pk, 0);
        msgs_request_map(msgs_next(s, &pk), "process.spawn", 1);
        pk_str(&pk, "argv");
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_uint8(&pk, 2);
        msgs_request_map(msgs_next(s, &pk), "process.spawn", 1);
        pk_str(&pk, "argv");
        msgpack_pack_array(&pk, 1);
        msgpack_pack_str(&pk, 3);
        msgpack_pack_str_body(&pk, "a\0b", 3);
        msgs_request_map(msgs_next(s, &pk), "queue.create", 2);
        pk_kv_str(&pk, "name", "../../etc");
        pk_kv_bool(&pk, "durable", true);
        msgs_request_map(msgs_next(s, &pk), "queue.get", 2);
        pk_kv_str(&pk, "queue", "nope");
        pk_kv_double(&pk, "timeout", -1);
        msgs_request_map(msgs_next(s, &pk), "process.join", 2);
        pk_kv_uint(&pk, "id", UINT64_MAX);
        pk_kv_double(&pk, "timeout", 0);
        msgs_request_map(msgs_next(s, &pk), "process.signal", 2);
        pk_kv_uint(&pk, "id", 1);
        pk_kv_str(&pk, "signal", "SIGNOPE");
        /* Nested 100 deep (the limit is 32), alone and as params. */
        msgs_next(s, &pk);
        for (int i = 0; i < 100; i++)
                msgpack_pack_array(&pk, 1);
        msgpack_pack_nil(&pk);
        msgs_request(msgs_next(s, &pk), "daemon.ping");
        msgpack_pack_array(&pk, 1);
        for (int i = 0; i < 40; i++) {
                msgpack_pack_map(&pk, 1);
                pk_str(&pk, "k");
        }
        msgpack_pack_nil(&pk);
}

void
fault_huge_headers(struct fault_msgs *s)
{
        msgpack_packer pk;

        memset(s, 0, sizeof *s);
        /* array32 and map32 of 4 G. */
        msgs_raw(msgs_next(s, &pk), "\xdd\xff\xff\xff\xff\x00\x00", 7);
        msgs_raw(msgs_next(s, &pk), "\xdf\xff\xff\xff\xff\x00\x00", 7);
        /* str32, bin32, ext32 of almost 4 GB, three bytes given. */
        msgs_raw(msgs_next(s, &pk), "\xdb\xff\xff\xff\xf0\x01\x02\x03", 8);
        msgs_raw(msgs_next(s, &pk), "\xc6\xff\xff\xff\xf0\x01\x02\x03", 8);
        msgs_raw(msgs_next(s, &pk), "\xc9\xff\xff\xff\xf0\x01\x02\x03", 8);
        /* A map32 of 8 M pairs: just over what 16 MiB can hold. */
        msgs_raw(msgs_next(s, &pk), "\xdf\x00\x80\x00\x01", 5);
        /* Nested arrays, each of 16 M elements. */
        msgs_raw(msgs_next(s, &pk), "\xdd\x01\x00\x00\x01\xdd\x01\x00\x00\x01", 10);
        /* A ping whose params array holds 2 G. */
        msgs_request(msgs_next(s, &pk), "daemon.ping");
        msgs_raw(&pk, "\xdd\x7f\xff\xff\xff", 5);
        /* A spawn whose argv holds 16 M strings, one given. */
        msgs_request_map(msgs_next(s, &pk), "process.spawn", 1);
        pk_str(&pk, "argv");
        msgs_raw(&pk, "\xdd\x01\x00\x00\x01", 5);
        pk_str(&pk, "x");
        /* A put whose data is a bin32 of 4 GB. */
        msgs_request_map(msgs_next(s, &pk), "queue.put", 2);
        pk_kv_str(&pk, "queue", "mem");
        pk_str(&pk, "data");
        msgs_raw(&pk, "\xc6\xff\xff\xff\xf0", 5);
}

void
fault_msgs_free(struct fault_msgs *s)
{
        for (int i = 0; i < s->n; i++)
                msgpack_sbuffer_destroy(&s->sb[i]);
        s->n = 0;
}

/* ---- observations --------------------------------------------------------- */

static int fault_failed;

void
fault_check_at(const char *file, int line, bool ok, const char *fmt, ...)
{
        va_list ap;

        if (ok)
                return;
        fault_failed++;
        fprintf(stderr, "CHECK FAILED %s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void
fault_verdict(void)
{
        if (fault_failed > 0)
                t_fail(__FILE__, __LINE__, "%d check(s) failed (CHECK FAILED lines above)",
                       fault_failed);
}

/* ---- file systems in a private mount namespace ---------------------------- */

bool
fault_in_mount_ns(void (*fn)(const char *, void *), void *arg)
{
        const char *tmp = getenv("TMPDIR");
        char mnt[256], img[300];
        int status = 0;
        pid_t pid;
        double deadline;

        if (geteuid() != 0) {
                printf("SKIP: not root: cannot mount the file systems of the read-only case\n");
                return false;
        }
        if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60)
                tmp = "/tmp";
        /* A private namespace: our mounts are invisible to others and die with us. */
        if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
                printf("SKIP: no private mount namespace: %s\n", strerror(errno));
                return false;
        }
        snprintf(mnt, sizeof mnt, "%s/corral-fault.XXXXXX", tmp);
        T_ASSERTF(mkdtemp(mnt) != NULL, "mkdtemp %s: %s", mnt, strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid == -1) {
                rmdir(mnt);
                t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                /* The case proper; its own harness cleanup runs at its exit. */
                prctl(PR_SET_CHILD_SUBREAPER, 1);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(90);
                fn(mnt, arg);
                exit(0);
        }
        deadline = now_mono() + 95;
        while (waitpid(pid, &status, WNOHANG) != pid) {
                if (now_mono() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        break;
                }
                usleep(20000);
        }
        /* Whatever fn left mounted (a loop device detaches itself once unmounted). */
        while (umount2(mnt, 0) == 0)
                ;
        if (errno != EINVAL && umount2(mnt, MNT_DETACH) == -1 && errno != EINVAL)
                fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
        if (rmdir(mnt) == -1)
                fprintf(stderr, "rmdir %s: %s\n", mnt, strerror(errno));
        snprintf(img, sizeof img, "%s.img", mnt);
        unlink(img);
        T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the case's process in its mount namespace failed (status 0x%x)", status);
        return true;
}

bool
fault_tmpfs(const char *mnt, size_t size)
{
        char opts[64];

        snprintf(opts, sizeof opts, "size=%zu,mode=0700", size);
        if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) == -1) {
                printf("SKIP: cannot mount a tmpfs at %s: %s\n", mnt, strerror(errno));
                return false;
        }
        return true;
}

void
fault_remount(const char *mnt, bool ro)
{
        unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0);

        /* The kernel refuses (EBUSY) while a file there is open for writing. */
        T_ASSERTF(mount(NULL, mnt, NULL, flags, NULL) == 0, "remount %s %s: %s", mnt,
                  ro ? "read-only" : "writable", strerror(errno));
}

/* The first of the paths that exists, or NULL. */
static const char *
fault_which(const char *a, const char *b)
{
        if (access(a, X_OK) == 0)
                return a;
        if (access(b, X_OK) == 0)
                return b;
        return NULL;
}

/*
 * Attach the image to a free loop device that detaches itself once
 * nothing uses it; returns the loop device's descriptor (close it once
 * mounted) or -1 with errno.
 */
static int
fault_loop_attach(const char *image, char *dev, size_t len)
{
        int ctl, lfd = -1, ifd, n, saved = 0;

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl == -1)
                return -1;
        ifd = open(image, O_RDWR | O_CLOEXEC);
        if (ifd == -1) {
                saved = errno;
                close(ctl);
                errno = saved;
                return -1;
        }
        /* Another program may take the same free device first: try again. */
        for (int tries = 0; tries < 20 && lfd == -1; tries++) {
                struct loop_info64 info;

                n = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (n < 0)
                        break;
                snprintf(dev, len, "/dev/loop%d", n);
                for (int wait = 0; wait < 50; wait++) {
                        lfd = open(dev, O_RDWR | O_CLOEXEC);
                        if (lfd != -1 || errno != ENOENT)
                                break;
                        usleep(10000); /* devtmpfs makes the node a moment later */
                }
                if (lfd == -1)
                        break;
                if (ioctl(lfd, LOOP_SET_FD, ifd) == -1) {
                        saved = errno;
                        close(lfd);
                        lfd = -1;
                        if (saved == EBUSY)
                                continue;
                        break;
                }
                memset(&info, 0, sizeof info);
                info.lo_flags = LO_FLAGS_AUTOCLEAR;
                if (ioctl(lfd, LOOP_SET_STATUS64, &info) == -1) {
                        saved = errno;
                        ioctl(lfd, LOOP_CLR_FD, 0);
                        close(lfd);
                        lfd = -1;
                        break;
                }
        }
        if (lfd == -1 && saved == 0)
                saved = errno;
        close(ifd);
        close(ctl);
        errno = saved;
        return lfd;
}

/* Attach and mount; false with errno (the loop device is released either way). */
static bool
fault_ext4_mount(struct fault_ext4 *f)
{
        int lfd = fault_loop_attach(f->image, f->loop, sizeof f->loop), saved;

        if (lfd == -1)
                return false;
        if (mount(f->loop, f->mnt, "ext4", MS_NOSUID | MS_NODEV, "errors=remount-ro") == -1) {
                saved = errno;
                ioctl(lfd, LOOP_CLR_FD, 0);
                close(lfd);
                errno = saved;
                return false;
        }
        /* Mounted: the mount holds the device, which detaches at the unmount. */
        close(lfd);
        f->mounted = true;
        snprintf(f->sysfs, sizeof f->sysfs, "/sys/fs/ext4/%s/trigger_fs_error", f->loop + 5);
        return true;
}

bool
fault_ext4_make(struct fault_ext4 *f, const char *mnt, size_t size)
{
        const char *mkfs = fault_which("/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4");
        struct run_result r;
        int fd;

        memset(f, 0, sizeof *f);
        snprintf(f->mnt, sizeof f->mnt, "%s", mnt);
        snprintf(f->image, sizeof f->image, "%s.img", mnt);
        if (mkfs == NULL || access("/dev/loop-control", F_OK) != 0) {
                printf("SKIP: no mkfs.ext4 or no loop devices here\n");
                return false;
        }
        fd = open(f->image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        T_ASSERTF(fd != -1, "create %s: %s", f->image, strerror(errno));
        T_ASSERT(ftruncate(fd, (off_t)size) == 0);
        close(fd);
        /* No journal: what fdatasync wrote is on the image, whatever happens after. */
        {
                const char *argv[] = {mkfs, "-q", "-F", "-O", "^has_journal", f->image, NULL};

                run_cmd(&r, 30, argv, NULL);
        }
        if (r.status != 0) {
                printf("SKIP: mkfs.ext4 failed (%d): %s\n", r.status, r.err);
                run_result_clear(&r);
                unlink(f->image);
                return false;
        }
        run_result_clear(&r);
        if (!fault_ext4_mount(f)) {
                printf("SKIP: cannot mount an ext4 image on a loop device: %s\n", strerror(errno));
                unlink(f->image);
                return false;
        }
        if (access(f->sysfs, W_OK) != 0) {
                printf("SKIP: %s is missing: this kernel cannot report an ext4 error on demand\n",
                       f->sysfs);
                fault_ext4_free(f);
                return false;
        }
        return true;
}

void
fault_ext4_break(struct fault_ext4 *f)
{
        static const char why[] = "corral fault test: read-only from here";
        int fd = open(f->sysfs, O_WRONLY | O_CLOEXEC);

        T_ASSERTF(fd != -1, "open %s: %s", f->sysfs, strerror(errno));
        T_ASSERTF(write(fd, why, sizeof why - 1) == (ssize_t)(sizeof why - 1), "write %s: %s",
                  f->sysfs, strerror(errno));
        close(fd);
}

void
fault_ext4_repair(struct fault_ext4 *f)
{
        const char *fsck = fault_which("/usr/sbin/e2fsck", "/sbin/e2fsck");
        struct run_result r;

        T_ASSERT(f->mounted);
        T_ASSERTF(umount2(f->mnt, 0) == 0, "umount %s: %s", f->mnt, strerror(errno));
        f->mounted = false;
        if (fsck != NULL) {
                const char *argv[] = {fsck, "-f", "-y", f->image, NULL};

                /* 0: clean, 1: errors corrected (the error we reported is one). */
                run_cmd(&r, 60, argv, NULL);
                T_ASSERTF(r.status == 0 || r.status == 1, "e2fsck %s: %d %s%s", f->image, r.status,
                          r.out, r.err);
                run_result_clear(&r);
        }
        /* The device detaches itself after the unmount, a moment later. */
        for (int tries = 0; !fault_ext4_mount(f); tries++) {
                T_ASSERTF(tries < 100, "mount %s again: %s", f->image, strerror(errno));
                usleep(20000);
        }
}

void
fault_ext4_free(struct fault_ext4 *f)
{
        if (f->mounted && umount2(f->mnt, 0) == -1)
                umount2(f->mnt, MNT_DETACH);
        f->mounted = false;
        unlink(f->image);
}
