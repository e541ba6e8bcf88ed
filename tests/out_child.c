/*
 * out_child.c -- the child program of the output tests (test_output.c).
 *
 * Its arguments are a little script of commands run in order, so that a
 * test can say exactly what a child writes, to which stream, and when:
 *
 *   out TEXT               "TEXT\n" to stdout, in one write
 *   err TEXT               "TEXT\n" to stderr, in one write
 *   raw FD TEXT            TEXT without a newline to FD
 *   lines FD N PREFIX W    N lines "PREFIX%06u", padded with '.' to W bytes
 *                          (W 0: no padding), one write per line
 *   alt N                  "out %06u" to stdout and "err %06u" to stderr, alternately
 *   flood FD BYTES         sequence lines (see below) until BYTES are written,
 *                          in writes of up to 64 KiB, as fast as it can
 *   trickle FD SECS FILE   sequence lines, one write each, with FD non-blocking:
 *                          when FD stays full for SECS, write the number of
 *                          complete lines to FILE and go on
 *   wait PATH              until PATH exists (60 s at most, then exit 98)
 *   touch PATH             create PATH
 *   echo PREFIX            each stdin line back to stdout as "PREFIX<line>\n";
 *                          a line "stop" stops reading for good (touches
 *                          $OUT_STOPPED if set, then sleeps); EOF goes on
 *   sum                    read stdin to EOF, print "len=N fnv=HEX"
 *   sleep MS
 *   exit CODE
 *
 * A sequence line is "S%010u L%05u " followed by filler up to its length L
 * (without the newline): a reader checks the number, the length and the
 * filler ('a' + seq % 26) of every line it gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEQ_LINE_MAX 4000 /* below PIPE_BUF: one line per write is atomic */

static void
die(const char *what)
{
        dprintf(2, "out_child: %s: %s\n", what, strerror(errno));
        exit(97);
}

static void
sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
}

/* Write all of buf, blocking. */
static void
write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("write");
                buf += n;
                len -= (size_t)n;
        }
}

static void
write_line(int fd, const char *text)
{
        size_t n = strlen(text);
        char *b = malloc(n + 1);

        if (b == NULL)
                die("malloc");
        memcpy(b, text, n);
        b[n] = '\n';
        write_all(fd, b, n + 1);
        free(b);
}

/* Length (without newline) of sequence line seq: 20 .. SEQ_LINE_MAX-1, varied. */
static size_t
seq_len(uint32_t seq)
{
        return 20 + (size_t)((seq * 2654435761u) >> 8) % (SEQ_LINE_MAX - 20);
}

/* Sequence line seq with its newline into buf (SEQ_LINE_MAX + 1 bytes); returns its size. */
static size_t
seq_line(char *buf, uint32_t seq)
{
        size_t len = seq_len(seq);
        int n = snprintf(buf, SEQ_LINE_MAX + 1, "S%010u L%05zu ", seq, len);

        memset(buf + n, 'a' + (int)(seq % 26), len - (size_t)n);
        buf[len] = '\n';
        return len + 1;
}

static void
cmd_flood(int fd, unsigned long long bytes)
{
        static char chunk[65536];
        char line[SEQ_LINE_MAX + 1];
        unsigned long long total = 0;
        size_t used = 0;
        uint32_t seq = 0;

        while (total < bytes) {
                size_t n = seq_line(line, seq++);

                if (used + n > sizeof chunk) {
                        /* Fill the chunk to its end: lines are cut across writes. */
                        size_t part = sizeof chunk - used;

                        memcpy(chunk + used, line, part);
                        write_all(fd, chunk, sizeof chunk);
                        memcpy(chunk, line + part, n - part);
                        used = n - part;
                } else {
                        memcpy(chunk + used, line, n);
                        used += n;
                }
                total += n;
        }
        write_all(fd, chunk, used);
}

static void
cmd_trickle(int fd, int secs, const char *file)
{
        char line[SEQ_LINE_MAX + 1], num[32];
        uint32_t seq = 0;
        int flags = fcntl(fd, F_GETFL), out;

        if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
                die("fcntl");
        for (;;) {
                size_t n = seq_line(line, seq);
                ssize_t w = write(fd, line, n);

                if (w == (ssize_t)n) {
                        seq++;
                        continue;
                }
                if (w >= 0)
                        die("short write to a pipe (not atomic?)");
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        die("write");
                struct pollfd p = {fd, POLLOUT, 0};
                int r = poll(&p, 1, secs * 1000);

                if (r == 0)
                        break; /* nobody reads: done */
                if (r < 0 && errno != EINTR)
                        die("poll");
        }
        fcntl(fd, F_SETFL, flags);
        snprintf(num, sizeof num, "%u\n", seq);
        out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out == -1)
                die("open");
        write_all(out, num, strlen(num));
        close(out);
}

static void
cmd_touch(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        if (fd == -1)
                die(path);
        close(fd);
}

static void
cmd_wait(const char *path)
{
        for (int i = 0; i < 60000; i++) {
                if (access(path, F_OK) == 0)
                        return;
                sleep_ms(1);
        }
        dprintf(2, "out_child: %s never appeared\n", path);
        exit(98);
}

/* Read one stdin line into *line (malloc'd, no newline); false at EOF. */
static bool
read_line(char **line, size_t *len)
{
        static char buf[65536];
        static size_t have, off;
        size_t cap = 256, n = 0;
        char *l = malloc(cap);

        if (l == NULL)
                die("malloc");
        for (;;) {
                if (off == have) {
                        ssize_t r = read(0, buf, sizeof buf);

                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0)
                                die("read");
                        if (r == 0) {
                                if (n == 0) {
                                        free(l);
                                        return false;
                                }
                                break;
                        }
                        have = (size_t)r;
                        off = 0;
                }
                char c = buf[off++];

                if (c == '\n')
                        break;
                if (n + 1 >= cap) {
                        cap *= 2;
                        l = realloc(l, cap);
                        if (l == NULL)
                                die("realloc");
                }
                l[n++] = c;
        }
        l[n] = '\0';
        *line = l;
        *len = n;
        return true;
}

static void
cmd_echo(const char *prefix)
{
        size_t plen = strlen(prefix), len;
        char *line;

        while (read_line(&line, &len)) {
                if (strcmp(line, "stop") == 0) {
                        const char *f = getenv("OUT_STOPPED");

                        free(line);
                        if (f != NULL)
                                cmd_touch(f);
                        for (;;)
                                pause();
                }
                char *b = malloc(plen + len + 1);

                if (b == NULL)
                        die("malloc");
                memcpy(b, prefix, plen);
                memcpy(b + plen, line, len);
                b[plen + len] = '\n';
                write_all(1, b, plen + len + 1);
                free(b);
                free(line);
        }
}

static void
cmd_sum(void)
{
        static char buf[65536];
        uint64_t h = 14695981039346656037ull;
        size_t total = 0;
        char out[96];

        for (;;) {
                ssize_t r = read(0, buf, sizeof buf);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        die("read");
                if (r == 0)
                        break;
                for (ssize_t i = 0; i < r; i++) {
                        h ^= (unsigned char)buf[i];
                        h *= 1099511628211ull;
                }
                total += (size_t)r;
        }
        snprintf(out, sizeof out, "len=%zu fnv=%016llx", total, (unsigned long long)h);
        write_line(1, out);
}

/* Arguments a command needs after its name. */
static int
need(int argc, int i, int n, const char *cmd)
{
        if (i + n >= argc) {
                dprintf(2, "out_child: %s needs %d arguments\n", cmd, n);
                exit(96);
        }
        return i + 1;
}

int
main(int argc, char **argv)
{
        char buf[SEQ_LINE_MAX + 64];

        for (int i = 1; i < argc; i++) {
                const char *c = argv[i];
                int a;

                if (strcmp(c, "out") == 0 || strcmp(c, "err") == 0) {
                        a = need(argc, i, 1, c);
                        write_line(c[0] == 'o' ? 1 : 2, argv[a]);
                        i = a;
                } else if (strcmp(c, "raw") == 0) {
                        a = need(argc, i, 2, c);
                        write_all(atoi(argv[a]), argv[a + 1], strlen(argv[a + 1]));
                        i = a + 1;
                } else if (strcmp(c, "lines") == 0) {
                        a = need(argc, i, 4, c);
                        int fd = atoi(argv[a]);
                        unsigned n = (unsigned)strtoul(argv[a + 1], NULL, 10);
                        size_t w = strtoul(argv[a + 3], NULL, 10);

                        if (w > SEQ_LINE_MAX)
                                w = SEQ_LINE_MAX;
                        for (unsigned k = 0; k < n; k++) {
                                int len = snprintf(buf, sizeof buf, "%s%06u", argv[a + 2], k);

                                while ((size_t)len < w)
                                        buf[len++] = '.';
                                buf[len++] = '\n';
                                write_all(fd, buf, (size_t)len);
                        }
                        i = a + 3;
                } else if (strcmp(c, "alt") == 0) {
                        a = need(argc, i, 1, c);
                        unsigned n = (unsigned)strtoul(argv[a], NULL, 10);

                        for (unsigned k = 0; k < n; k++) {
                                int len = snprintf(buf, sizeof buf, "out %06u\n", k);

                                write_all(1, buf, (size_t)len);
                                len = snprintf(buf, sizeof buf, "err %06u\n", k);
                                write_all(2, buf, (size_t)len);
                        }
                        i = a;
                } else if (strcmp(c, "flood") == 0) {
                        a = need(argc, i, 2, c);
                        cmd_flood(atoi(argv[a]), strtoull(argv[a + 1], NULL, 10));
                        i = a + 1;
                } else if (strcmp(c, "trickle") == 0) {
                        a = need(argc, i, 3, c);
                        cmd_trickle(atoi(argv[a]), atoi(argv[a + 1]), argv[a + 2]);
                        i = a + 2;
                } else if (strcmp(c, "wait") == 0) {
                        a = need(argc, i, 1, c);
                        cmd_wait(argv[a]);
                        i = a;
                } else if (strcmp(c, "touch") == 0) {
                        a = need(argc, i, 1, c);
                        cmd_touch(argv[a]);
                        i = a;
                } else if (strcmp(c, "echo") == 0) {
                        a = need(argc, i, 1, c);
                        cmd_echo(argv[a]);
                        i = a;
                } else if (strcmp(c, "sum") == 0) {
                        cmd_sum();
                } else if (strcmp(c, "sleep") == 0) {
                        a = need(argc, i, 1, c);
                        sleep_ms(atol(argv[a]));
                        i = a;
                } else if (strcmp(c, "exit") == 0) {
                        a = need(argc, i, 1, c);
                        return atoi(argv[a]);
                } else {
                        dprintf(2, "out_child: unknown command %s\n", c);
                        return 95;
                }
        }
        return 0;
}
