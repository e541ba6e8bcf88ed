/*
 * test_output.c -- integration tests of what happens to a child's stdout
 * and stderr: capture (attribution, ring buffer, join's output), files
 * (rotation, reopening), journald, queues (back-pressure), null, inherit,
 * merging, stdin (bytes and queues), process.logs (tail, streams, pools)
 * and followers (a 100 MB flood, a follower that does not read).
 *
 * Each case starts its own corrald with a private state directory;
 * `test_output CASE` runs one. Nothing depends on timing: every wait is
 * for a condition, bounded, and children wait for trigger files.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "out_support.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static struct harness *h;
static struct corral *c;

static void
setup(void)
{
        h = q_daemon(NULL, NULL);
        c = harness_connect(h);
}

static void
teardown(void)
{
        corral_close(c);
        c = NULL;
        harness_stop(h);
        harness_free(h);
        h = NULL;
}

/* process.terminate {id} (the default signal and grace). */
static void
o_terminate(uint64_t id)
{
        struct qparams p;

        qp_init(&p, 1);
        qp_uint(&p, "id", id);
        o_call(c, "process.terminate", &p, NULL);
}

static void
touch(const char *path)
{
        FILE *f = fopen(path, "a");

        T_ASSERTF(f != NULL, "touch %s: %s", path, strerror(errno));
        fclose(f);
}

static double
wall_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What out_child's "lines" writes: PREFIX%06u padded with '.' to w bytes. */
static const char *
padded(const char *prefix, unsigned k, size_t w)
{
        static char bufs[4][4096];
        static int next;
        char *b = bufs[next++ % 4];
        size_t n = (size_t)snprintf(b, sizeof bufs[0], "%s%06u", prefix, k);

        while (n < w && n < sizeof bufs[0] - 1)
                b[n++] = '.';
        b[n] = '\0';
        return b;
}

static void
expect_line(const struct o_line *l, int stream, const char *text, const char *what, size_t i)
{
        T_ASSERTF(o_line_is(l, text), "%s line %zu is '%.*s', expected '%s'", what, i,
                  (int)(l->len > 200 ? 200 : l->len), l->data, text);
        T_ASSERTF(l->stream == stream, "%s line %zu ('%s') is on %s, expected %s", what, i, text,
                  l->stream == O_STDOUT ? "stdout" : "stderr",
                  stream == O_STDOUT ? "stdout" : "stderr");
}

static void
expect_error(int rc, const struct corral_error *err, const char *code, const char *field,
             const char *what)
{
        T_ASSERTF(rc != 0, "%s succeeded, expected %s [%s]", what, code, field);
        T_ASSERTF(strcmp(err->code, code) == 0 && strcmp(err->field, field) == 0,
                  "%s failed with %s [%s] %s, expected %s [%s]", what, err->code, err->field,
                  err->message, code, field);
}

/* ---- capture -------------------------------------------------------------- */

/* Both streams captured, each line attributed to its stream, in order within it. */
static void
t_capture_streams(void)
{
        struct o_joined j;
        struct o_logs l;
        struct o_logs_req req;
        unsigned nout = 0, nerr = 0;
        double t0 = wall_now();
        const char *go;
        uint64_t id;
        char want[32];

        setup();
        go = strdup(harness_path(h, "go"));
        /* 400 lines: more than an ended process keeps (16 KiB), so read them while it runs. */
        id = o_spawn(c, &(struct o_spawn){.name = "both"},
                     O_ARGS("alt", "200", "wait", go, "exit", "0"), NULL);
        req = o_req_id(id);
        T_ASSERTF(o_wait_lines(c, &req, 400, O_WAIT), "the 400 lines were never captured");
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 400);
        T_EQ_INT(l.lost, 0);
        T_ASSERT(!l.ended && !l.truncated);
        for (size_t i = 0; i < l.n; i++) {
                const struct o_line *ln = &l.lines[i];

                T_EQ_INT(ln->id, id);
                T_EQ_STR(ln->name, "both");
                T_ASSERTF(ln->ts > t0 - 5 && ln->ts < wall_now() + 5, "line %zu: ts %.3f", i,
                          ln->ts);
                if (ln->len > 0 && ln->data[0] == 'o') {
                        snprintf(want, sizeof want, "out %06u", nout++);
                        expect_line(ln, O_STDOUT, want, "stdout", i);
                } else {
                        snprintf(want, sizeof want, "err %06u", nerr++);
                        expect_line(ln, O_STDERR, want, "stderr", i);
                }
        }
        T_EQ_INT(nout, 200);
        T_EQ_INT(nerr, 200);
        o_logs_free(&l);
        touch(go);
        o_join(c, id, false, &j);
        T_EQ_STR(j.state, "exited");
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        free((void *)go);
        teardown();
}

/* stderr "stdout" merges in write order; null discards; inherit is the daemon's own. */
static void
t_capture_merge_null_inherit(void)
{
        struct o_joined j;
        struct o_logs l;
        struct o_logs_req req;
        char want[32], mark[64], mark2[64];
        uint64_t id;

        setup();
        /* Merged: one pipe, so the order across streams is the order of the writes. */
        id =
            o_spawn(c, &(struct o_spawn){.err = "stdout"}, O_ARGS("alt", "100", "exit", "0"), NULL);
        o_join(c, id, false, &j);
        o_joined_free(&j);
        req = o_req_id(id);
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 200);
        for (size_t i = 0; i < l.n; i++) {
                snprintf(want, sizeof want, "%s %06zu", i % 2 == 0 ? "out" : "err", i / 2);
                expect_line(&l.lines[i], O_STDOUT, want, "merged", i);
        }
        o_logs_free(&l);

        /* null: stdout is gone, stderr still captured. */
        id = o_spawn(c, &(struct o_spawn){.out = "null"},
                     O_ARGS("out", "hidden", "err", "visible", "exit", "0"), NULL);
        o_join(c, id, true, &j);
        T_EQ_INT(j.out_len, 0);
        T_ASSERT(j.err_len == 8 && memcmp(j.err, "visible\n", 8) == 0);
        o_joined_free(&j);
        req = o_req_id(id);
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 1);
        expect_line(&l.lines[0], O_STDERR, "visible", "null stdout", 0);
        o_logs_free(&l);

        /* inherit: the daemon's own stdout, which the harness sends to its log file. */
        snprintf(mark, sizeof mark, "inherit-marker-%ld", (long)getpid());
        id = o_spawn(c, &(struct o_spawn){.out = "inherit", .err = "null"},
                     O_ARGS("out", mark, "err", "never-seen-1", "exit", "0"), NULL);
        o_join(c, id, false, &j);
        o_joined_free(&j);
        T_ASSERTF(q_daemon_log_has(h, mark), "inherited stdout did not reach corrald's stdout");
        T_ASSERT(!q_daemon_log_has(h, "never-seen-1"));
        req = o_req_id(id);
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 0);
        o_logs_free(&l);

        /* stdout null with stderr merged into it: both discarded, nothing leaks anywhere. */
        snprintf(mark2, sizeof mark2, "merged-into-null-%ld", (long)getpid());
        id = o_spawn(c, &(struct o_spawn){.out = "null", .err = "stdout"},
                     O_ARGS("out", mark2, "err", mark2, "exit", "0"), NULL);
        o_join(c, id, true, &j);
        T_EQ_INT(j.out_len + j.err_len, 0);
        o_joined_free(&j);
        T_ASSERT(!q_daemon_log_has(h, mark2));
        teardown();
}

/* A small log_buffer wraps: the newest lines stay, the reader is told the bytes lost. */
static void
t_ring_wrap(void)
{
        const char *ready = NULL, *go = NULL;
        struct o_joined j;
        struct o_logs l;
        struct o_logs_req req;
        size_t kept, bytes = 0;
        uint64_t id;

        setup();
        ready = strdup(harness_path(h, "ready"));
        go = strdup(harness_path(h, "go"));
        id = o_spawn(
            c, &(struct o_spawn){.log_buffer = 4096},
            O_ARGS("lines", "1", "1000", "w", "100", "touch", ready, "wait", go, "exit", "0"),
            NULL);
        T_ASSERT(wait_file(ready, O_WAIT));
        /* The child has written everything; wait until corrald has read the last line. */
        req = o_req_id(id);
        req.tail = 1;
        for (double deadline = now_mono() + O_WAIT;;) {
                bool last;

                o_logs(c, &req, &l);
                last = l.n == 1 && o_line_is(&l.lines[0], padded("w", 999, 100));
                o_logs_free(&l);
                if (last)
                        break;
                T_ASSERTF(now_mono() < deadline, "corrald never captured the last line");
                usleep(2000);
        }

        req.tail = -1;
        o_logs(c, &req, &l);
        kept = l.n;
        T_ASSERTF(kept >= 20 && kept < 1000, "%zu lines kept in a 4096-byte buffer", kept);
        for (size_t i = 0; i < kept; i++) {
                expect_line(&l.lines[i], O_STDOUT, padded("w", (unsigned)(1000 - kept + i), 100),
                            "wrapped", i);
                bytes += l.lines[i].len;
        }
        T_ASSERTF(bytes <= 4096, "%zu bytes of lines kept in a 4096-byte buffer", bytes);
        T_EQ_INT(l.lost, (1000 - kept) * 100);
        T_ASSERT(!l.ended);
        o_logs_free(&l);

        /* Once it has ended, join's output tells the same. */
        touch(go);
        o_join(c, id, true, &j);
        T_EQ_INT(j.exit_code, 0);
        T_EQ_INT(o_count_lines(j.out, j.out_len), kept);
        T_EQ_INT(j.lost, (1000 - kept) * 100);
        T_ASSERT(j.out_len >= 101 &&
                 memcmp(j.out + j.out_len - 101, padded("w", 999, 100), 100) == 0);
        o_joined_free(&j);
        free((void *)ready);
        free((void *)go);
        teardown();
}

/* ---- followers ------------------------------------------------------------- */

#define FLOOD_BYTES    (100ull * 1024 * 1024)
#define FLOOD_RSS_KB   (64l * 1024) /* allowed growth of corrald's RSS */
#define FLOOD_SAMPLING 512          /* lines between RSS samples */

/*
 * A child writes 100 MB as fast as it can; a follower reads as fast as it
 * can. Every line arrives, in order, intact (a follower pauses the pipe,
 * it never loses lines), and corrald's RSS stays bounded.
 */
static void
t_flood_follow(void)
{
        const char *go;
        struct o_logs_req req;
        struct o_logs init;
        struct o_line ln;
        struct o_end e;
        struct o_logs l;
        msgpack_unpacked hold, u;
        struct raw *r;
        unsigned long long total = 0;
        uint32_t expect = 0, seq;
        size_t last_len = 0;
        long rss0, rss, rss_max;
        double t0;
        uint64_t id;
        int rc;

        harness_small_quarantine();
        setup();
        go = strdup(harness_path(h, "go"));
        char bytes[32];
        snprintf(bytes, sizeof bytes, "%llu", FLOOD_BYTES);
        id = o_spawn(c, &(struct o_spawn){.name = "flood", .err = "null"},
                     O_ARGS("wait", go, "flood", "1", bytes, "exit", "0"), NULL);

        r = raw_connect(h->sock);
        msgpack_unpacked_init(&hold);
        msgpack_unpacked_init(&u);
        req = o_req_id(id);
        req.stream = "stdout";
        req.follow = true;
        o_follow_start(r, &req, &hold, &init);
        T_EQ_INT(init.n, 0);
        T_ASSERT(!init.ended);
        free(init.lines);
        msgpack_unpacked_destroy(&hold);

        rss0 = rss_max = o_rss_kb(h->pid);
        T_ASSERT(rss0 > 0);
        t0 = now_mono();
        touch(go);
        for (;;) {
                const char *why = "";

                rc = o_follow_next(r, O_WAIT, &u, &ln, &e);
                T_ASSERTF(rc != -1, "no notification for %.0f s after line %u", O_WAIT, expect);
                T_ASSERTF(rc != 0, "the daemon closed the follower after line %u", expect);
                if (rc == 2)
                        break;
                T_EQ_INT(ln.id, id);
                T_ASSERT(ln.stream == O_STDOUT);
                T_ASSERTF(o_seq_check(ln.data, ln.len, &seq, &why),
                          "line after seq %u (%zu bytes): %s", expect, ln.len, why);
                T_ASSERTF(seq == expect, "got line %u, expected %u (%s)", seq, expect,
                          seq > expect ? "a gap: lines were lost" : "a duplicate");
                expect++;
                total += ln.len + 1;
                last_len = ln.len + 1;
                if (expect % FLOOD_SAMPLING == 0 && (rss = o_rss_kb(h->pid)) > rss_max)
                        rss_max = rss;
        }
        printf("flood: %u lines, %.1f MB in %.2f s; corrald RSS %ld kB -> max %ld kB\n", expect,
               (double)total / 1e6, now_mono() - t0, rss0, rss_max);
        T_EQ_INT(e.id, id);
        T_EQ_STR(e.state, "exited");
        T_EQ_INT(e.exit_code, 0);
        /* Complete: the child stops at the first line that reaches FLOOD_BYTES. */
        T_ASSERTF(total >= FLOOD_BYTES && total - last_len < FLOOD_BYTES,
                  "log.end after %u lines (%llu bytes): the child wrote %llu bytes", expect, total,
                  FLOOD_BYTES);
        T_ASSERTF(rss_max - rss0 < FLOOD_RSS_KB, "corrald's RSS grew by %ld kB (limit %ld kB)",
                  rss_max - rss0, FLOOD_RSS_KB);
        msgpack_unpacked_destroy(&u);
        raw_close(r);

        /* The buffer kept only its newest lines, and says how many bytes it dropped. */
        req = o_req_id(id);
        req.tail = 1;
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 1);
        T_ASSERT(o_seq_check(l.lines[0].data, l.lines[0].len, &seq, &(const char *){NULL}));
        T_EQ_INT(seq, expect - 1);
        T_ASSERT(l.lost > 0 && l.ended);
        o_logs_free(&l);
        free((void *)go);
        teardown();
}

/*
 * A follower that reads nothing: corrald stops reading the child's pipe,
 * the child's writes stop, it ends. Then the follower reads: it must get
 * every line the child wrote, then log.end -- also the lines still in the
 * pipe when the child ended.
 */
static void
t_follow_slow_reader(void)
{
        const char *go, *count;
        struct o_logs_req req;
        struct o_logs init;
        struct o_line ln;
        struct o_end e;
        struct o_joined j;
        msgpack_unpacked hold, u;
        struct raw *r;
        uint32_t expect = 0, seq;
        unsigned long written;
        char *text;
        uint64_t id;
        int rc;

        setup();
        go = strdup(harness_path(h, "go"));
        count = strdup(harness_path(h, "count"));
        /* trickle: one line per write; when the pipe stays full for 2 s, record the count. */
        id = o_spawn(c, &(struct o_spawn){.err = "null"},
                     O_ARGS("wait", go, "trickle", "1", "2", count, "exit", "0"), NULL);
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&hold);
        msgpack_unpacked_init(&u);
        req = o_req_id(id);
        req.follow = true;
        o_follow_start(r, &req, &hold, &init);
        T_EQ_INT(init.n, 0);
        free(init.lines);
        msgpack_unpacked_destroy(&hold);

        touch(go);
        T_ASSERTF(wait_file(count, 60), "the child never stalled: corrald kept reading its pipe "
                                        "although the follower reads nothing");
        text = o_read_file(count, NULL);
        written = strtoul(text, NULL, 10);
        free(text);
        T_ASSERT(written > 0);
        o_join(c, id, false, &j);
        T_EQ_STR(j.state, "exited");
        o_joined_free(&j);

        for (;;) {
                const char *why = "";

                rc = o_follow_next(r, O_WAIT, &u, &ln, &e);
                T_ASSERTF(rc == 1 || rc == 2, "follower: %s after line %u",
                          rc == 0 ? "connection closed" : "nothing more", expect);
                if (rc == 2)
                        break;
                T_ASSERTF(o_seq_check(ln.data, ln.len, &seq, &why), "line after %u: %s", expect,
                          why);
                T_ASSERTF(seq == expect, "got line %u, expected %u", seq, expect);
                expect++;
        }
        printf("slow follower: the child wrote %lu lines, the follower got %u\n", written, expect);
        if (expect != written) {
                /* Diagnosis: were the missing lines captured at all (later, into the buffer)? */
                struct o_logs l;
                uint32_t last = 0;
                const char *why;

                req = o_req_id(id);
                req.tail = 1;
                for (double deadline = now_mono() + 5; now_mono() < deadline; usleep(10000)) {
                        o_logs(c, &req, &l);
                        if (l.n == 1 && !o_seq_check(l.lines[0].data, l.lines[0].len, &last, &why))
                                last = 0;
                        o_logs_free(&l);
                        if (last + 1 == written)
                                break;
                }
                printf("slow follower: the last line in the process's buffer is %u\n", last);
        }
        T_ASSERTF(expect == written,
                  "log.end came after %u lines, but the child wrote %lu: the %lu lines still in "
                  "the pipe when it ended never reached the follower",
                  expect, written, written - expect);
        T_EQ_STR(e.state, "exited");
        msgpack_unpacked_destroy(&u);
        raw_close(r);
        free((void *)go);
        free((void *)count);
        teardown();
}

/* ---- files ---------------------------------------------------------------- */

#define ROT_MAX   65536
#define ROT_CHUNK 65536 /* corrald writes what one read of the pipe gave */

/* log_max_bytes: PATH.1..N appear, their sizes are bounded, the content continues. */
static void
t_file_rotation(void)
{
        char spec[600], name[600], *expected, *got;
        const char *path;
        size_t elen = 0, glen = 0, cap;
        long long sz;
        struct o_joined j;
        uint64_t id;

        setup();
        path = harness_path(h, "rot.log");
        snprintf(spec, sizeof spec, "file:%s", path);
        id = o_spawn(c,
                     &(struct o_spawn){.out = spec,
                                       .err = "null",
                                       .log_max_bytes = ROT_MAX,
                                       .log_backups = 3,
                                       .has_log_backups = true},
                     O_ARGS("lines", "1", "20000", "r", "50", "exit", "0"), NULL);
        o_join(c, id, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);

        path = harness_path(h, "rot.log");
        sz = q_file_size(path);
        T_ASSERTF(sz >= 0 && sz < ROT_MAX, "%s is %lld bytes (log_max_bytes %d)", path, sz,
                  ROT_MAX);
        for (int i = 1; i <= 3; i++) {
                snprintf(name, sizeof name, "%s.%d", path, i);
                sz = q_file_size(name);
                T_ASSERTF(sz >= ROT_MAX && sz < ROT_MAX + ROT_CHUNK,
                          "%s is %lld bytes: expected log_max_bytes (%d) plus at most one read",
                          name, sz, ROT_MAX);
        }
        snprintf(name, sizeof name, "%s.4", path);
        T_ASSERTF(!file_exists(name), "%s exists with log_backups 3", name);

        /* PATH.3 PATH.2 PATH.1 PATH is the end of what the child wrote, byte for byte. */
        cap = 20000 * 51 + 1;
        expected = malloc(cap);
        got = malloc(cap + 4 * (ROT_MAX + ROT_CHUNK));
        T_ASSERT(expected != NULL && got != NULL);
        for (unsigned k = 0; k < 20000; k++)
                elen += (size_t)snprintf(expected + elen, cap - elen, "%s\n", padded("r", k, 50));
        for (int i = 3; i >= 0; i--) {
                size_t n;
                char *d;

                if (i > 0)
                        snprintf(name, sizeof name, "%s.%d", path, i);
                else
                        snprintf(name, sizeof name, "%s", path);
                d = o_read_file(name, &n);
                memcpy(got + glen, d, n);
                glen += n;
                free(d);
        }
        T_ASSERTF(glen >= 3 * ROT_MAX && glen <= elen, "%zu bytes in the files", glen);
        T_ASSERTF(memcmp(got, expected + elen - glen, glen) == 0,
                  "the rotated files are not the end of the child's output in order");
        free(expected);
        free(got);
        teardown();
}

static void
expect_file_lines(const char *path, const char *prefix, unsigned n, size_t w)
{
        size_t len, off = 0;
        char *d = o_read_file(path, &len);

        for (unsigned k = 0; k < n; k++) {
                const char *want = padded(prefix, k, w);
                size_t wl = strlen(want);

                T_ASSERTF(off + wl + 1 <= len && memcmp(d + off, want, wl) == 0 &&
                              d[off + wl] == '\n',
                          "%s: line %u is not '%s'", path, k, want);
                off += wl + 1;
        }
        T_ASSERTF(off == len, "%s: %zu bytes after the %u expected lines", path, len - off, n);
        free(d);
}

/* Rename the file away, SIGUSR1 or daemon.reopen_logs: new lines land in a new PATH. */
static void
t_file_reopen(void)
{
        char spec[600], path[512], old1[520], old2[520], r1[512], r2[512], g1[512], g2[512];
        struct o_joined j;
        uint64_t id;

        setup();
        snprintf(path, sizeof path, "%s", harness_path(h, "reo.log"));
        snprintf(old1, sizeof old1, "%s.old1", path);
        snprintf(old2, sizeof old2, "%s.old2", path);
        snprintf(r1, sizeof r1, "%s", harness_path(h, "r1"));
        snprintf(r2, sizeof r2, "%s", harness_path(h, "r2"));
        snprintf(g1, sizeof g1, "%s", harness_path(h, "g1"));
        snprintf(g2, sizeof g2, "%s", harness_path(h, "g2"));
        snprintf(spec, sizeof spec, "file:%s", path);
        id = o_spawn(c, &(struct o_spawn){.out = spec, .err = "null"},
                     O_ARGS("lines", "1", "100", "a", "40", "touch", r1, "wait", g1, "lines", "1",
                            "100", "b", "40", "touch", r2, "wait", g2, "lines", "1", "100", "c",
                            "40", "exit", "0"),
                     NULL);
        T_ASSERT(wait_file(r1, O_WAIT));
        T_ASSERTF(o_wait_size(path, 100 * 41, O_WAIT), "%s never got the first 100 lines", path);
        T_ASSERT(rename(path, old1) == 0);
        /* SIGUSR1: the reopen creates PATH, which tells the test it happened. */
        T_ASSERT(kill(h->pid, SIGUSR1) == 0);
        T_ASSERTF(wait_file(path, O_WAIT), "SIGUSR1 did not reopen %s", path);
        touch(g1);
        T_ASSERT(wait_file(r2, O_WAIT));
        T_ASSERTF(o_wait_size(path, 100 * 41, O_WAIT), "%s never got the second 100 lines", path);
        T_ASSERT(rename(path, old2) == 0);
        /* daemon.reopen_logs answers after reopening. */
        o_call(c, "daemon.reopen_logs", NULL, NULL);
        T_ASSERTF(file_exists(path), "daemon.reopen_logs answered before reopening %s", path);
        touch(g2);
        o_join(c, id, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        expect_file_lines(old1, "a", 100, 40);
        expect_file_lines(old2, "b", 100, 40);
        expect_file_lines(path, "c", 100, 40);
        teardown();
}

/* Several processes, and both streams of one, append to one file: every line, each in order. */
static void
t_file_shared(void)
{
        static const char *const prefixes[] = {"a", "e", "b"};
        char spec[600], *d, *line, *save = NULL;
        const char *path;
        unsigned next[3] = {0, 0, 0}, total = 0;
        struct o_joined j;
        uint64_t a, b;
        size_t len;

        setup();
        path = harness_path(h, "shared.log");
        snprintf(spec, sizeof spec, "file:%s", path);
        /* One line per write, under PIPE_BUF: each arrives whole in what corrald reads. */
        a = o_spawn(
            c, &(struct o_spawn){.out = spec, .err = spec},
            O_ARGS("lines", "1", "300", "a", "30", "lines", "2", "300", "e", "30", "exit", "0"),
            NULL);
        b = o_spawn(c, &(struct o_spawn){.out = spec, .err = "null"},
                    O_ARGS("lines", "1", "300", "b", "30", "exit", "0"), NULL);
        o_join(c, a, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        o_join(c, b, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        d = o_read_file(harness_path(h, "shared.log"), &len);
        T_ASSERTF(len == 900 * 31 && len > 0 && d[len - 1] == '\n', "%zu bytes, expected %d", len,
                  900 * 31);
        for (line = strtok_r(d, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                int k;

                for (k = 0; k < 3; k++) {
                        if (line[0] == prefixes[k][0])
                                break;
                }
                T_ASSERTF(k < 3 && next[k] < 300 &&
                              strcmp(line, padded(prefixes[k], next[k], 30)) == 0,
                          "line %u of the shared file is '%s'", total, line);
                next[k]++;
                total++;
        }
        T_EQ_INT(total, 900);
        free(d);
        teardown();
}

/* ---- journald ------------------------------------------------------------- */

/* No journald: "journal" fails the spawn naming the field, and the daemon carries on. */
static void
t_journal_unreachable(void)
{
        struct corral_error err;
        struct corral_result res;
        struct qparams p;
        struct o_joined j;
        uint64_t id;
        int rc;

        if (file_exists(JOURNAL_SOCKET)) {
                printf("SKIP: %s exists: journald is reachable (journal_entry tests it)\n",
                       JOURNAL_SOCKET);
                return;
        }
        setup();
        rc = o_spawn_try(c, &(struct o_spawn){.name = "jr", .out = "journal"},
                         O_ARGS("out", "x", "exit", "0"), NULL, NULL, &err);
        expect_error(rc, &err, "spawn_failed", "stdout", "stdout journal");
        T_ASSERTF(strstr(err.message, "journal") != NULL, "message: %s", err.message);
        rc = o_spawn_try(c, &(struct o_spawn){.name = "jr", .err = "journal"},
                         O_ARGS("out", "x", "exit", "0"), NULL, NULL, &err);
        expect_error(rc, &err, "spawn_failed", "stderr", "stderr journal");
        /* Nothing was recorded. */
        qp_init(&p, 1);
        qp_str(&p, "name", "jr");
        T_ERR(q_call(c, "process.info", &p, NULL, &err), &err, "not_found");

        /* A pool's default: each spawn into it fails the same way. */
        qp_init(&p, 2);
        qp_str(&p, "name", "jp");
        qp_str(&p, "stdout", "journal");
        o_call(c, "pool.create", &p, NULL);
        rc = o_spawn_try(c, &(struct o_spawn){.pool = "jp"}, O_ARGS("exit", "0"), NULL, NULL, &err);
        expect_error(rc, &err, "spawn_failed", "stdout", "spawn into a journal pool");

        /* The daemon carries on. */
        T_OK(corral_ping(c, &err), &err);
        id = o_spawn(c, NULL, O_ARGS("out", "still-here", "exit", "0"), NULL);
        o_join(c, id, true, &j);
        T_ASSERT(j.out_len == 11 && memcmp(j.out, "still-here\n", 11) == 0);
        o_joined_free(&j);
        qp_init(&p, 0);
        o_call(c, "process.list", &p, &res);
        T_EQ_INT(obj_get(&res.obj, "processes")->via.array.size, 1);
        corral_result_free(&res);
        teardown();
}

/* With journald: an entry lands under the process name. */
static void
t_journal_entry(void)
{
        struct run_result rr;
        struct o_joined j;
        char name[64], mark[96];
        bool found = false;
        uint64_t id;

        if (!file_exists(JOURNAL_SOCKET) || !file_exists("/usr/bin/journalctl")) {
                printf("SKIP: no journald here (%s absent or no journalctl); "
                       "journal_unreachable covers this case\n",
                       JOURNAL_SOCKET);
                return;
        }
        setup();
        snprintf(name, sizeof name, "corral-jt-%ld", (long)getpid());
        snprintf(mark, sizeof mark, "journal-marker-%ld-%ld", (long)getpid(), (long)time(NULL));
        id = o_spawn(c, &(struct o_spawn){.name = name, .out = "journal"},
                     O_ARGS("out", mark, "exit", "0"), NULL);
        o_join(c, id, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        for (double deadline = now_mono() + 15; !found && now_mono() < deadline;) {
                const char *argv[] = {"/usr/bin/journalctl", "-t", name, "-o", "cat",
                                      "--no-pager",          NULL};

                run_cmd(&rr, 10, argv, NULL);
                found = strstr(rr.out, mark) != NULL;
                run_result_clear(&rr);
                if (!found)
                        usleep(200000);
        }
        T_ASSERTF(found, "no journal entry '%s' for identifier %s within 15 s", mark, name);
        teardown();
}

/* ---- queues ---------------------------------------------------------------- */

/*
 * stdout queue:NAME with maxsize 5: the writer of 200 lines (more than the
 * pipe and corrald's read hold) blocks until a consumer takes messages;
 * all 200 arrive in order.
 */
static void
t_queue_backpressure(void)
{
        struct corral_result res;
        struct qparams p;
        struct o_joined j;
        struct q_msg m;
        const char *done;
        uint64_t id;
        pid_t pid;

        setup();
        done = strdup(harness_path(h, "done"));
        q_create(c, "outq", &(struct q_opts){.maxsize = 5});
        id = o_spawn(c, &(struct o_spawn){.out = "queue:outq", .err = "null"},
                     O_ARGS("lines", "1", "200", "m", "2000", "touch", done, "exit", "0"), &pid);
        T_ASSERTF(q_wait_info(c, "outq", "count", 5, O_WAIT), "the queue never filled up");
        /* 400 KB cannot fit in the pipe and corrald's one held read: the writer blocks. */
        double deadline = now_mono() + O_WAIT;
        while (!o_in_write(pid, 1)) {
                T_ASSERTF(now_mono() < deadline,
                          "the writer never blocked in write(1) (done: %d, queue count %lld)",
                          file_exists(done), (long long)q_info(c, "outq", "count"));
                usleep(2000);
        }
        T_ASSERTF(!file_exists(done), "the writer finished although the queue is full");
        T_EQ_INT(q_info(c, "outq", "count"), 5);
        qp_init(&p, 1);
        qp_uint(&p, "id", id);
        o_call(c, "process.info", &p, &res);
        T_EQ_STR(obj_str(obj_get(&res.obj, "state")), "running");
        corral_result_free(&res);

        for (unsigned k = 0; k < 200; k++) {
                const char *want = padded("m", k, 2000);

                q_get(c, "outq", O_WAIT, false, &m);
                T_ASSERTF(m.len == 2000 && memcmp(m.data, want, 2000) == 0,
                          "message %u is '%.12s...' (%zu bytes), expected '%.12s...'", k, m.data,
                          m.len, want);
        }
        o_join(c, id, false, &j);
        T_EQ_INT(j.exit_code, 0);
        o_joined_free(&j);
        T_ASSERT(file_exists(done));
        q_expect_empty(c, "outq");
        T_EQ_INT(q_info(c, "outq", "total_put"), 200);
        free((void *)done);
        teardown();
}

/* ---- stdin ----------------------------------------------------------------- */

#define STDIN_BYTES (3u * 1024 * 1024)

/* Large stdin with NUL bytes arrives whole, then EOF; empty stdin is just EOF. */
static void
t_stdin_bytes(void)
{
        unsigned char *data = malloc(STDIN_BYTES);
        uint64_t fnv = 14695981039346656037ull, id;
        struct o_joined j;
        char want[96];
        size_t zeros = 0;

        T_ASSERT(data != NULL);
        for (size_t i = 0; i < STDIN_BYTES; i++) {
                data[i] = i % 3 == 0 ? 0 : (unsigned char)(i * 131 + (i >> 11));
                zeros += data[i] == 0;
                fnv ^= data[i];
                fnv *= 1099511628211ull;
        }
        T_ASSERT(zeros > STDIN_BYTES / 3);
        setup();
        id = o_spawn(
            c, &(struct o_spawn){.stdin_data = data, .stdin_len = STDIN_BYTES, .has_stdin = true},
            O_ARGS("sum", "exit", "0"), NULL);
        o_join(c, id, true, &j);
        T_EQ_INT(j.exit_code, 0);
        snprintf(want, sizeof want, "len=%u fnv=%016llx\n", STDIN_BYTES, (unsigned long long)fnv);
        T_ASSERTF(j.out_len == strlen(want) && memcmp(j.out, want, j.out_len) == 0,
                  "the child read '%.*s', expected '%s'", (int)j.out_len, j.out, want);
        o_joined_free(&j);

        id = o_spawn(c, &(struct o_spawn){.stdin_data = "", .stdin_len = 0, .has_stdin = true},
                     O_ARGS("sum", "exit", "0"), NULL);
        o_join(c, id, true, &j);
        T_ASSERTF(j.out_len == 27 && memcmp(j.out, "len=0 fnv=cbf29ce484222325\n", 27) == 0,
                  "empty stdin: '%.*s'", (int)j.out_len, j.out);
        o_joined_free(&j);
        free(data);
        teardown();
}

static void
expect_echoed(const struct o_logs *l, size_t from, size_t n, unsigned first)
{
        char want[64];

        T_ASSERTF(l->n >= from + n, "%zu lines, expected at least %zu", l->n, from + n);
        for (size_t i = 0; i < n; i++) {
                snprintf(want, sizeof want, "got:msg %06zu", first + i);
                expect_line(&l->lines[from + i], O_STDOUT, want, "echoed", from + i);
        }
}

/* stdin_queue: messages reach the running child one per line, in order, and are acked. */
static void
t_stdin_queue(void)
{
        struct o_logs_req req;
        struct o_logs l;
        struct o_joined j;
        char msg[64];
        uint64_t id;

        setup();
        q_create(c, "in", NULL);
        id = o_spawn(c, &(struct o_spawn){.stdin_queue = "in"}, O_ARGS("echo", "got:"), NULL);
        req = o_req_id(id);
        /* One at a time: each is delivered while the process runs. */
        for (unsigned i = 0; i < 20; i++) {
                snprintf(msg, sizeof msg, "msg %06u", i);
                q_put(c, "in", msg);
                T_ASSERTF(o_wait_lines(c, &req, i + 1, O_WAIT), "message %u never echoed", i);
        }
        /* Then a burst. */
        for (unsigned i = 20; i < 220; i++) {
                snprintf(msg, sizeof msg, "msg %06u", i);
                q_put(c, "in", msg);
        }
        T_ASSERTF(o_wait_lines(c, &req, 220, O_WAIT), "the burst was not echoed");
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 220);
        expect_echoed(&l, 0, 220, 0);
        o_logs_free(&l);
        /* Written means acked: nothing is left in the queue, nothing reserved. */
        T_ASSERT(q_wait_info(c, "in", "count", 0, O_WAIT));
        T_EQ_INT(q_info(c, "in", "total_acked"), 220);

        o_terminate(id);
        o_join(c, id, false, &j);
        T_ASSERTF(strcmp(j.state, "stopped") == 0 || strcmp(j.state, "killed") == 0,
                  "terminated: state %s", j.state);
        o_joined_free(&j);
        T_EQ_INT(q_info(c, "in", "count"), 0);
        teardown();
}

#define BIG_MSG (2u * 1024 * 1024) /* far more than a pipe holds */

/* The message being written when the child dies goes back to the queue. */
static void
t_stdin_queue_returned(void)
{
        struct corral_error err;
        struct corral_result res;
        struct o_logs_req req;
        struct o_joined j;
        struct qparams p;
        char env[600], *big;
        const char *stopped;
        bool got_big = false, got_after = false;
        uint64_t id;

        setup();
        stopped = strdup(harness_path(h, "stopped"));
        snprintf(env, sizeof env, "OUT_STOPPED=%s", stopped);
        q_create(c, "in2", NULL);
        id = o_spawn(c, &(struct o_spawn){.stdin_queue = "in2", .env = O_ARGS(env)},
                     O_ARGS("echo", "got:"), NULL);
        req = o_req_id(id);
        q_put(c, "in2", "first");
        T_ASSERT(o_wait_lines(c, &req, 1, O_WAIT));
        /* "stop": the child stops reading its stdin for good. */
        q_put(c, "in2", "stop");
        T_ASSERT(wait_file(stopped, O_WAIT));
        T_ASSERT(q_wait_info(c, "in2", "count", 0, O_WAIT));

        big = malloc(BIG_MSG);
        T_ASSERT(big != NULL);
        for (size_t i = 0; i < BIG_MSG; i++)
                big[i] = (char)('A' + i % 26);
        T_OK(q_put_try(c, "in2", big, BIG_MSG, 0, 0, -1, NULL, &err), &err);
        /* The feed takes it and is stuck writing it: reserved, not acked. */
        T_ASSERTF(q_wait_info(c, "in2", "reserved", 1, O_WAIT),
                  "the big message was never taken by the stdin feed");
        q_put(c, "in2", "after");
        T_EQ_INT(q_info(c, "in2", "ready"), 1);

        o_terminate(id);
        o_join(c, id, false, &j);
        o_joined_free(&j);
        T_ASSERTF(q_wait_info(c, "in2", "ready", 2, O_WAIT),
                  "the message being written did not go back (ready %lld, reserved %lld)",
                  (long long)q_info(c, "in2", "ready"), (long long)q_info(c, "in2", "reserved"));
        T_EQ_INT(q_info(c, "in2", "reserved"), 0);
        for (int i = 0; i < 2; i++) {
                const msgpack_object *data, *att;

                qp_init(&p, 2);
                qp_str(&p, "queue", "in2");
                qp_double(&p, "timeout", 0);
                o_call(c, "queue.get", &p, &res);
                data = obj_get(&res.obj, "data");
                att = obj_get(&res.obj, "attempt");
                T_ASSERT(data != NULL && att != NULL);
                if (data->via.bin.size == BIG_MSG) {
                        T_ASSERT(memcmp(data->via.bin.ptr, big, BIG_MSG) == 0);
                        T_EQ_INT(obj_int(att), 2);
                        got_big = true;
                } else {
                        T_ASSERT(data->via.bin.size == 5 &&
                                 memcmp(data->via.bin.ptr, "after", 5) == 0);
                        T_EQ_INT(obj_int(att), 1);
                        got_after = true;
                }
                corral_result_free(&res);
        }
        T_ASSERT(got_big && got_after);
        q_expect_empty(c, "in2");
        free(big);
        free((void *)stopped);
        teardown();
}

/* ---- join with output ------------------------------------------------------- */

static void
pk_join_output(msgpack_packer *pk, void *arg)
{
        msgpack_pack_map(pk, 2);
        pk_kv_uint(pk, "id", *(uint64_t *)arg);
        pk_kv_bool(pk, "output", true);
}

static void
expect_hello(const struct o_joined *j)
{
        static const char out[] = "hello\ntail-no-newline\n", err[] = "oops\n";

        T_EQ_STR(j->state, "exited");
        T_EQ_INT(j->exit_code, 3);
        T_ASSERT(j->has_output);
        T_ASSERTF(j->out_len == sizeof out - 1 && memcmp(j->out, out, j->out_len) == 0,
                  "stdout '%.*s'", (int)j->out_len, j->out);
        T_ASSERTF(j->err_len == sizeof err - 1 && memcmp(j->err, err, j->err_len) == 0,
                  "stderr '%.*s'", (int)j->err_len, j->err);
        T_EQ_INT(j->lost, 0);
}

/* join {output: true}: a waiting join and a later one get what the process printed. */
static void
t_join_output(void)
{
        msgpack_unpacked u;
        struct o_joined j;
        struct raw *r;
        const char *go;
        uint64_t id;

        setup();
        go = strdup(harness_path(h, "go"));
        id = o_spawn(c, NULL,
                     O_ARGS("wait", go, "out", "hello", "err", "oops", "raw", "1",
                            "tail-no-newline", "exit", "3"),
                     NULL);
        r = raw_connect(h->sock);
        raw_request(r, 1, "process.join", pk_join_output, &id);
        T_ASSERTF(q_raw_quiet(r, 0.2), "join answered before the process ended");
        touch(go);
        msgpack_unpacked_init(&u);
        raw_response(r, O_WAIT, &u);
        T_ASSERTF(resp_error(&u.data) == NULL, "join: %s", resp_error_str(&u.data, "code"));
        memset(&j, 0, sizeof j);
        o_joined_decode(resp_result(&u.data), &j);
        expect_hello(&j);
        msgpack_unpacked_destroy(&u);
        raw_close(r);

        o_join(c, id, true, &j);
        expect_hello(&j);
        o_joined_free(&j);
        o_join(c, id, false, &j);
        T_ASSERT(!j.has_output);
        T_EQ_INT(j.exit_code, 3);
        o_joined_free(&j);
        free((void *)go);
        teardown();
}

/* An ended process keeps the newest 16 KiB; join tells the bytes lost. */
static void
t_join_output_tail(void)
{
        struct o_joined j;
        struct o_logs l;
        struct o_logs_req req;
        size_t kept;
        uint64_t id;

        setup();
        id = o_spawn(c, NULL, O_ARGS("lines", "1", "1000", "t", "40", "err", "E", "exit", "0"),
                     NULL);
        o_join(c, id, true, &j);
        T_EQ_INT(j.exit_code, 0);
        T_ASSERT(j.err_len == 2 && memcmp(j.err, "E\n", 2) == 0);
        T_ASSERTF(j.out_len % 41 == 0, "stdout of %zu bytes is not whole lines", j.out_len);
        kept = j.out_len / 41;
        T_ASSERTF(kept >= 100 && kept < 1000 && j.out_len - kept <= 16384,
                  "%zu lines (%zu bytes) kept with the record", kept, j.out_len);
        for (size_t i = 0; i < kept; i++) {
                const char *want = padded("t", (unsigned)(1000 - kept + i), 40);

                T_ASSERTF(memcmp(j.out + i * 41, want, 40) == 0 && j.out[i * 41 + 40] == '\n',
                          "kept line %zu is not '%s'", i, want);
        }
        T_EQ_INT(j.lost, (1000 - kept) * 40);
        o_joined_free(&j);
        /* process.logs shows the same lines. */
        req = o_req_id(id);
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, kept + 1);
        T_EQ_INT(l.lost, (1000 - kept) * 40);
        T_ASSERT(l.ended);
        o_logs_free(&l);
        teardown();
}

/* ---- process.logs ------------------------------------------------------------ */

struct pool_step {
        int proc; /* 0, 1, 2: pa, pb, pc */
        int stream;
        const char *text;
};

static const char *const pool_names[] = {"pa", "pb", "pc"};
static const struct pool_step pool_steps[] = {
    {0, O_STDOUT, "A0"}, {1, O_STDERR, "B0"}, {0, O_STDOUT, "A1"}, {2, O_STDOUT, "C0"},
    {1, O_STDERR, "B1"}, {2, O_STDOUT, "C1"}, {0, O_STDERR, "A2"},
};
#define NSTEPS (sizeof pool_steps / sizeof pool_steps[0])

/* A pool's logs: its members' lines interleaved in time order, with their names. */
static void
t_pool_logs(void)
{
        static char gopath[NSTEPS][512];
        uint64_t ids[3];
        size_t have[3] = {0, 0, 0};
        struct o_logs_req req;
        struct o_logs l;
        struct o_joined j;
        double prev = 0;

        setup();
        for (int p = 0; p < 3; p++) {
                const char *argv[4 * NSTEPS + 4];
                size_t n = 0;

                for (size_t s = 0; s < NSTEPS; s++) {
                        snprintf(gopath[s], sizeof gopath[s], "%s", harness_path(h, "go"));
                        snprintf(gopath[s] + strlen(gopath[s]), 16, ".%zu", s);
                        if (pool_steps[s].proc != p)
                                continue;
                        argv[n++] = "wait";
                        argv[n++] = gopath[s];
                        argv[n++] = pool_steps[s].stream == O_STDOUT ? "out" : "err";
                        argv[n++] = pool_steps[s].text;
                }
                argv[n++] = "exit";
                argv[n++] = "0";
                argv[n] = NULL;
                ids[p] =
                    o_spawn(c, &(struct o_spawn){.name = pool_names[p], .pool = "pl"}, argv, NULL);
        }
        /* One line at a time, each captured before the next is written. */
        for (size_t s = 0; s < NSTEPS; s++) {
                int p = pool_steps[s].proc;

                touch(gopath[s]);
                req = o_req_id(ids[p]);
                have[p]++;
                T_ASSERTF(o_wait_lines(c, &req, have[p], O_WAIT), "step %zu (%s) not captured", s,
                          pool_steps[s].text);
        }
        memset(&req, 0, sizeof req);
        req.tail = -1;
        req.pool = "pl";
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, NSTEPS);
        for (size_t i = 0; i < l.n; i++) {
                const struct pool_step *st = &pool_steps[i];

                expect_line(&l.lines[i], st->stream, st->text, "pool", i);
                T_EQ_STR(l.lines[i].name, pool_names[st->proc]);
                T_EQ_INT(l.lines[i].id, ids[st->proc]);
                T_ASSERTF(l.lines[i].ts >= prev, "pool line %zu: ts goes back", i);
                prev = l.lines[i].ts;
        }
        o_logs_free(&l);

        /* With a stream and a tail. */
        req.stream = "stderr";
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 3);
        expect_line(&l.lines[0], O_STDERR, "B0", "pool stderr", 0);
        expect_line(&l.lines[1], O_STDERR, "B1", "pool stderr", 1);
        expect_line(&l.lines[2], O_STDERR, "A2", "pool stderr", 2);
        o_logs_free(&l);
        req.stream = NULL;
        req.tail = 3;
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 3);
        expect_line(&l.lines[0], O_STDERR, "B1", "pool tail", 0);
        expect_line(&l.lines[1], O_STDOUT, "C1", "pool tail", 1);
        expect_line(&l.lines[2], O_STDERR, "A2", "pool tail", 2);
        T_EQ_STR(l.lines[1].name, "pc");
        o_logs_free(&l);

        for (int p = 0; p < 3; p++) {
                o_join(c, ids[p], false, &j);
                T_EQ_INT(j.exit_code, 0);
                o_joined_free(&j);
        }
        /* Ended members' lines stay. */
        req.tail = -1;
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, NSTEPS);
        o_logs_free(&l);
        teardown();
}

static void
expect_followed(struct raw *r, msgpack_unpacked *u, const char *name, int stream, const char *text)
{
        struct o_line ln;
        struct o_end e;
        int rc = o_follow_next(r, O_WAIT, u, &ln, &e);

        T_ASSERTF(rc == 1, "waiting for '%s' of %s: %s", text, name,
                  rc == 2   ? "log.end"
                  : rc == 0 ? "closed"
                            : "timeout");
        expect_line(&ln, stream, text, "followed", 0);
        T_EQ_STR(ln.name, name);
        T_EQ_STR(ln.pool, "pf");
}

/* Following a pool: lines of every member, new ones included, with names; no end. */
static void
t_pool_follow(void)
{
        struct o_logs_req req;
        struct o_logs init;
        struct o_joined j;
        struct qparams p;
        msgpack_unpacked hold, u;
        struct raw *r, *r2;
        const char *go;
        uint64_t a, b, cc;

        setup();
        go = strdup(harness_path(h, "go"));
        qp_init(&p, 1);
        qp_str(&p, "name", "pf");
        o_call(c, "pool.create", &p, NULL);
        memset(&req, 0, sizeof req);
        req.tail = -1;
        req.pool = "pf";
        req.follow = true;
        msgpack_unpacked_init(&hold);
        msgpack_unpacked_init(&u);
        r = raw_connect(h->sock);
        o_follow_start(r, &req, &hold, &init);
        T_EQ_INT(init.n, 0);
        free(init.lines);
        r2 = raw_connect(h->sock);
        req.stream = "stderr";
        o_follow_start(r2, &req, &hold, &init);
        T_EQ_INT(init.n, 0);
        free(init.lines);
        msgpack_unpacked_destroy(&hold);

        a = o_spawn(c, &(struct o_spawn){.name = "pa", .pool = "pf"},
                    O_ARGS("out", "A0", "wait", go, "err", "A1", "exit", "0"), NULL);
        expect_followed(r, &u, "pa", O_STDOUT, "A0");
        b = o_spawn(c, &(struct o_spawn){.name = "pb", .pool = "pf"},
                    O_ARGS("out", "B0", "exit", "0"), NULL);
        expect_followed(r, &u, "pb", O_STDOUT, "B0");
        touch(go);
        expect_followed(r, &u, "pa", O_STDERR, "A1");
        o_join(c, a, false, &j);
        o_joined_free(&j);
        o_join(c, b, false, &j);
        o_joined_free(&j);
        /* Members ended, the pool is still followed: the next item is a new member's line. */
        cc = o_spawn(c, &(struct o_spawn){.name = "pc", .pool = "pf"},
                     O_ARGS("out", "C0", "err", "C1", "exit", "0"), NULL);
        expect_followed(r, &u, "pc", O_STDOUT, "C0");
        expect_followed(r, &u, "pc", O_STDERR, "C1");
        /* The stderr follower saw only stderr. */
        expect_followed(r2, &u, "pa", O_STDERR, "A1");
        expect_followed(r2, &u, "pc", O_STDERR, "C1");
        o_join(c, cc, false, &j);
        o_joined_free(&j);
        msgpack_unpacked_destroy(&u);
        raw_close(r);
        raw_close(r2);
        free((void *)go);
        teardown();
}

/* tail N: the last N lines (0: none; more than there are: all), by id or name. */
static void
t_logs_tail(void)
{
        static const long tails[] = {0, 1, 5, 49, 50, 51, 1000};
        struct o_logs_req req;
        struct o_logs l;
        struct o_joined j;
        char want[32];
        uint64_t id;

        setup();
        id = o_spawn(c, &(struct o_spawn){.name = "tailer"},
                     O_ARGS("lines", "1", "50", "x", "0", "exit", "0"), NULL);
        o_join(c, id, false, &j);
        o_joined_free(&j);
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                size_t expect = tails[t] < 50 ? (size_t)tails[t] : 50;

                req = o_req_id(id);
                req.tail = tails[t];
                o_logs(c, &req, &l);
                T_ASSERTF(l.n == expect, "tail %ld: %zu lines", tails[t], l.n);
                for (size_t i = 0; i < l.n; i++) {
                        snprintf(want, sizeof want, "x%06zu", 50 - expect + i);
                        expect_line(&l.lines[i], O_STDOUT, want, "tail", i);
                }
                o_logs_free(&l);
        }
        memset(&req, 0, sizeof req);
        req.name = "tailer";
        req.tail = 2;
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 2);
        expect_line(&l.lines[1], O_STDOUT, "x000049", "tail by name", 1);
        o_logs_free(&l);
        teardown();
}

/* stream: stdout or stderr only, with tail, and for a follower. */
static void
t_logs_stream_filter(void)
{
        struct o_logs_req req;
        struct o_logs l, init;
        struct o_line ln;
        struct o_end e;
        struct o_joined j;
        msgpack_unpacked hold, u;
        struct raw *r;
        const char *go;
        char want[32];
        uint64_t id;
        int rc;

        setup();
        go = strdup(harness_path(h, "go"));
        id = o_spawn(c, NULL, O_ARGS("alt", "50", "exit", "0"), NULL);
        o_join(c, id, false, &j);
        o_joined_free(&j);
        req = o_req_id(id);
        for (int s = O_STDOUT; s <= O_STDERR; s++) {
                req.stream = s == O_STDOUT ? "stdout" : "stderr";
                req.tail = -1;
                o_logs(c, &req, &l);
                T_EQ_INT(l.n, 50);
                for (size_t i = 0; i < l.n; i++) {
                        snprintf(want, sizeof want, "%s %06zu", s == O_STDOUT ? "out" : "err", i);
                        expect_line(&l.lines[i], s, want, req.stream, i);
                }
                o_logs_free(&l);
                req.tail = 3;
                o_logs(c, &req, &l);
                T_EQ_INT(l.n, 3);
                snprintf(want, sizeof want, "%s %06u", s == O_STDOUT ? "out" : "err", 47);
                expect_line(&l.lines[0], s, want, "stream tail", 0);
                o_logs_free(&l);
        }
        req.stream = "both";
        req.tail = -1;
        o_logs(c, &req, &l);
        T_EQ_INT(l.n, 100);
        o_logs_free(&l);

        /* A follower of stderr only: 20 stderr lines, then the end. */
        id = o_spawn(c, NULL, O_ARGS("wait", go, "alt", "20", "exit", "0"), NULL);
        r = raw_connect(h->sock);
        msgpack_unpacked_init(&hold);
        msgpack_unpacked_init(&u);
        req = o_req_id(id);
        req.stream = "stderr";
        req.follow = true;
        o_follow_start(r, &req, &hold, &init);
        T_EQ_INT(init.n, 0);
        free(init.lines);
        msgpack_unpacked_destroy(&hold);
        touch(go);
        for (unsigned i = 0;; i++) {
                rc = o_follow_next(r, O_WAIT, &u, &ln, &e);
                T_ASSERTF(rc == 1 || rc == 2, "follower: nothing after %u lines", i);
                if (rc == 2) {
                        T_EQ_INT(i, 20);
                        break;
                }
                snprintf(want, sizeof want, "err %06u", i);
                expect_line(&ln, O_STDERR, want, "followed stderr", i);
        }
        T_EQ_INT(e.id, id);
        T_EQ_STR(e.state, "exited");
        msgpack_unpacked_destroy(&u);
        raw_close(r);
        free((void *)go);
        teardown();
}

/* ---- invalid specifications ---------------------------------------------------- */

static void
spawn_bad(const struct o_spawn *o, const char *code, const char *field, const char *what)
{
        struct corral_error err;
        int rc = o_spawn_try(c, o, O_ARGS("exit", "0"), NULL, NULL, &err);

        expect_error(rc, &err, code, field, what);
}

/* Bad destinations and parameters are refused naming the field; the daemon carries on. */
static void
t_invalid_specs(void)
{
        struct corral_error err;
        struct corral_result res;
        struct qparams p;
        struct o_logs_req req;
        struct o_logs l;
        struct o_joined j;
        uint64_t id;
        int rc;

        setup();
        q_create(c, "exists", NULL);
        spawn_bad(&(struct o_spawn){.out = "bogus"}, "invalid_params", "stdout", "stdout bogus");
        spawn_bad(&(struct o_spawn){.err = "bogus"}, "invalid_params", "stderr", "stderr bogus");
        spawn_bad(&(struct o_spawn){.out = "stdout"}, "invalid_params", "stdout",
                  "stdout to stdout");
        spawn_bad(&(struct o_spawn){.out = ""}, "invalid_params", "stdout", "stdout empty");
        spawn_bad(&(struct o_spawn){.out = "file:relative/x.log"}, "invalid_params", "stdout",
                  "file: relative");
        spawn_bad(&(struct o_spawn){.err = "file:"}, "invalid_params", "stderr", "file: empty");
        spawn_bad(&(struct o_spawn){.out = "queue:"}, "invalid_params", "stdout", "queue: empty");
        spawn_bad(&(struct o_spawn){.err = "queue:bad name"}, "invalid_params", "stderr",
                  "queue: bad name");
        spawn_bad(&(struct o_spawn){.out = "CAPTURE"}, "invalid_params", "stdout",
                  "stdout CAPTURE");
        spawn_bad(&(struct o_spawn){.out = "file:/nonexistent-corral-dir/x.log"}, "spawn_failed",
                  "stdout", "file: in a missing directory");
        spawn_bad(&(struct o_spawn){.err = "file:/nonexistent-corral-dir/x.log"}, "spawn_failed",
                  "stderr", "stderr file: in a missing directory");
        spawn_bad(&(struct o_spawn){.log_backups = 1001, .has_log_backups = true}, "invalid_params",
                  "log_backups", "log_backups 1001");
        spawn_bad(
            &(struct o_spawn){
                .has_stdin = true, .stdin_data = "x", .stdin_len = 1, .stdin_queue = "exists"},
            "invalid_params", "stdin_queue", "stdin with stdin_queue");
        spawn_bad(&(struct o_spawn){.stdin_queue = "nosuch"}, "not_found", "stdin_queue",
                  "stdin_queue missing");
        /* A queue that does not exist: refused naming the stream. */
        rc = o_spawn_try(c, &(struct o_spawn){.out = "queue:nosuch"}, O_ARGS("exit", "0"), NULL,
                         NULL, &err);
        T_ASSERTF(
            rc != 0 && strcmp(err.field, "stdout") == 0 &&
                (strcmp(err.code, "not_found") == 0 || strcmp(err.code, "invalid_params") == 0),
            "queue:nosuch: rc %d, %s [%s] %s", rc, err.code, err.field, err.message);

        /* Wrong types. */
        qp_init(&p, 2);
        qp_key(&p, "argv");
        qp_strv(&p, O_ARGS(OUT_CHILD_PATH));
        qp_str(&p, "log_buffer", "big");
        expect_error(q_call(c, "process.spawn", &p, NULL, &err), &err, "invalid_params",
                     "log_buffer", "log_buffer as a string");
        qp_init(&p, 2);
        qp_key(&p, "argv");
        qp_strv(&p, O_ARGS(OUT_CHILD_PATH));
        qp_uint(&p, "stdout", 1);
        expect_error(q_call(c, "process.spawn", &p, NULL, &err), &err, "invalid_params", "stdout",
                     "stdout as an integer");

        /* pool.create checks them too. */
        qp_init(&p, 2);
        qp_str(&p, "name", "bp");
        qp_str(&p, "stdout", "bogus");
        expect_error(q_call(c, "pool.create", &p, NULL, &err), &err, "invalid_params", "stdout",
                     "pool stdout bogus");
        qp_init(&p, 2);
        qp_str(&p, "name", "bp");
        qp_str(&p, "stderr", "file:x");
        expect_error(q_call(c, "pool.create", &p, NULL, &err), &err, "invalid_params", "stderr",
                     "pool stderr relative file");

        /* process.logs's own parameters. */
        id = o_spawn(c, NULL, O_ARGS("out", "ok", "exit", "0"), NULL);
        req = o_req_id(id);
        req.stream = "bogus";
        expect_error(o_logs_try(c, &req, &l, &err), &err, "invalid_params", "stream",
                     "logs stream bogus");
        req = o_req_id(id);
        req.pool = "default";
        rc = o_logs_try(c, &req, &l, &err);
        T_ASSERTF(rc != 0 && strcmp(err.code, "invalid_params") == 0, "logs id and pool: %s",
                  rc == 0 ? "accepted" : err.code);
        memset(&req, 0, sizeof req);
        req.tail = -1;
        rc = o_logs_try(c, &req, &l, &err);
        T_ASSERTF(rc != 0 && strcmp(err.code, "invalid_params") == 0, "logs without target: %s",
                  rc == 0 ? "accepted" : err.code);
        req = o_req_id(999999);
        T_ERR(o_logs_try(c, &req, &l, &err), &err, "not_found");
        memset(&req, 0, sizeof req);
        req.tail = -1;
        req.pool = "nosuchpool";
        T_ERR(o_logs_try(c, &req, &l, &err), &err, "not_found");

        /* The daemon carries on, and none of the refused spawns left a record. */
        T_OK(corral_ping(c, &err), &err);
        o_join(c, id, true, &j);
        T_ASSERT(j.out_len == 3 && memcmp(j.out, "ok\n", 3) == 0);
        o_joined_free(&j);
        qp_init(&p, 0);
        o_call(c, "process.list", &p, &res);
        T_EQ_INT(obj_get(&res.obj, "processes")->via.array.size, 1);
        corral_result_free(&res);
        teardown();
}

static const struct test_case cases[] = {
    TEST_CASE(capture_streams),     TEST_CASE(capture_merge_null_inherit),
    TEST_CASE(ring_wrap),           TEST_CASE(flood_follow),
    TEST_CASE(follow_slow_reader),  TEST_CASE(file_rotation),
    TEST_CASE(file_reopen),         TEST_CASE(file_shared),
    TEST_CASE(journal_unreachable), TEST_CASE(journal_entry),
    TEST_CASE(queue_backpressure),  TEST_CASE(stdin_bytes),
    TEST_CASE(stdin_queue),         TEST_CASE(stdin_queue_returned),
    TEST_CASE(join_output),         TEST_CASE(join_output_tail),
    TEST_CASE(pool_logs),           TEST_CASE(pool_follow),
    TEST_CASE(logs_tail),           TEST_CASE(logs_stream_filter),
    TEST_CASE(invalid_specs),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
