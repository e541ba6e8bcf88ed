/*
 * fault_support.h -- support for the fault and load tests (test_fault.c,
 * test_load.c), on top of harness.h and q_support.h.
 *
 * - a seeded random generator: the seed is printed, and CORRAL_FAULT_SEED
 *   replays a run;
 * - the daemon's resident memory, from /proc;
 * - calls made by forked children and threads, which must never use the
 *   harness's failing checks (a failure there would run the test's cleanup
 *   in the wrong process or thread): they return codes instead;
 * - raw connections and malformed messages for hostile clients;
 * - small file systems in a private mount namespace for the read-only
 *   cases: a tmpfs that is remounted read-only, and an ext4 image on a
 *   loop device that an error turns read-only under the running daemon.
 */
#ifndef CORRAL_TEST_FAULT_SUPPORT_H
#define CORRAL_TEST_FAULT_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "q_support.h"

/* ---- randomness ---------------------------------------------------------- */

/* Seed from CORRAL_FAULT_SEED or the clock; prints "seed N". */
uint64_t fault_seed(void);
/* xorshift64*: the next value of *state (never seeded with 0). */
uint64_t fault_rand(uint64_t *state);
/* A value in [lo, hi]. */
unsigned fault_rand_range(uint64_t *state, unsigned lo, unsigned hi);

/* ---- /proc ----------------------------------------------------------------- */

/* VmRSS of pid in KiB, or -1. */
long fault_rss_kb(pid_t);
/* Poll until proc_fd_count(pid) <= want; returns the last count seen. */
int fault_wait_fds(pid_t, int want, double timeout);
/* Poll until pid has no zombie children; returns the last count seen. */
int fault_wait_no_zombies(pid_t, double timeout);
/* How many times text occurs in the daemon's log. */
int fault_log_count(const struct harness *, const char *text);

/* ---- calls without the harness's checks ----------------------------------- */

/*
 * Connect with a timeout of `timeout` s per call; NULL if the daemon cannot
 * be reached.
 */
struct corral *fault_connect(const char *sock, double timeout);
/* queue.put of len bytes: 0, or -1 with *err. */
int fault_put(struct corral *, const char *queue, const void *data, size_t len,
              struct corral_error *err);
/*
 * queue.get (timeout < 0: none) with or without ack: 0 and *id plus the
 * data copied into buf (at most cap-1 bytes, NUL-terminated), or -1 with
 * *err. A malformed answer is -1 with err->code "protocol".
 */
int fault_get(struct corral *, const char *queue, double timeout, bool ack, uint64_t *id, char *buf,
              size_t cap, struct corral_error *err);
/* queue.ack: 0 or -1 with *err. */
int fault_ack(struct corral *, const char *queue, uint64_t id, struct corral_error *err);

/* Append one line to an O_APPEND file descriptor; false if the write failed. */
bool fault_record(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- hostile clients ------------------------------------------------------- */

/*
 * A non-blocking connection, or -1 with errno. A full listen backlog
 * (EAGAIN: clients that connect in a loop outrun accept()) is waited out,
 * for 5 s at most.
 */
int fault_raw_connect(const char *path);
/* Send all of buf within timeout s; false if the peer closed or did not take it. */
bool fault_raw_send(int fd, const void *buf, size_t len, double timeout);

/* A set of byte strings to send as they are. */
struct fault_msgs {
        msgpack_sbuffer sb[32];
        int n;
};
/*
 * Valid MessagePack that is not a valid request, or a request with
 * parameters of the wrong shape: not an array, wrong lengths and types,
 * a response or a notification from the client, bad parameters, nesting
 * beyond the limit.
 */
void fault_wrong_shapes(struct fault_msgs *);
/*
 * Headers that declare more than the largest message (16 MiB) could hold,
 * alone or inside a request: the daemon must answer and hang up at once.
 */
void fault_huge_headers(struct fault_msgs *);
void fault_msgs_free(struct fault_msgs *);

/* ---- observations --------------------------------------------------------- */

/*
 * A check that does not stop the case: the scenario goes on (so that one
 * report shows every deviation, e.g. of a fault case), and fault_verdict()
 * fails the test at the end if any check failed.
 */
#define FAULT_CHECK(c, ...) fault_check_at(__FILE__, __LINE__, (c), __VA_ARGS__)
void fault_check_at(const char *file, int line, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fail the test (listing what failed) if any FAULT_CHECK failed. */
void fault_verdict(void);

/* ---- file systems in a private mount namespace ---------------------------- */

/*
 * Run fn(mnt, arg) in a child process in a private mount namespace, with
 * an empty directory mnt that fn may mount on; afterwards unmount
 * whatever is left there and remove it. Returns false (after printing
 * "SKIP: reason") without root or without mount namespaces. A failure in
 * fn fails the test.
 */
bool fault_in_mount_ns(void (*fn)(const char *mnt, void *), void *arg);

/* A tmpfs of size bytes at mnt (mode 0700); false with "SKIP: why" printed. */
bool fault_tmpfs(const char *mnt, size_t size);
/* Remount the file system at mnt read-only (ro true) or writable again. */
void fault_remount(const char *mnt, bool ro);

/* An ext4 image on a loop device, mounted with errors=remount-ro. */
struct fault_ext4 {
        char image[512]; /* the image file */
        char mnt[512];
        char loop[64];  /* /dev/loopN while mounted */
        char sysfs[96]; /* /sys/fs/ext4/loopN/trigger_fs_error */
        bool mounted;
};
/*
 * Make an image of size bytes next to mnt, put ext4 on it and mount it at
 * mnt; false with "SKIP: why" printed if any of that is impossible here.
 */
bool fault_ext4_make(struct fault_ext4 *, const char *mnt, size_t size);
/*
 * Report a file system error (the kernel's own trigger_fs_error): with
 * errors=remount-ro the file system turns read-only at once, under every
 * descriptor open on it, until it is unmounted.
 */
void fault_ext4_break(struct fault_ext4 *);
/* Unmount; check (e2fsck -fy) and mount the image again, writable. */
void fault_ext4_repair(struct fault_ext4 *);
/* Unmount (if mounted) and remove the image. */
void fault_ext4_free(struct fault_ext4 *);

#endif
