/*
 * signal.c -- signal names on the wire: "TERM", "SIGTERM", "term", "15",
 * "RTMIN+3", "RTMAX-1". Names are reported in upper case without "SIG".
 * Real-time signal numbers come from SIGRTMIN/SIGRTMAX at run time (glibc
 * reserves a few for itself); their names come from constant tables, so
 * nothing here is mutable state.
 */
#include <ctype.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

struct signame {
        const char *name;
        int sig;
};

/* Canonical names first: proto_signal_name() returns the first match. */
static const struct signame signames[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"PWR", SIGPWR},
    {"SYS", SIGSYS},
    /* Aliases, accepted but never reported. */
    {"IOT", SIGIOT},
    {"POLL", SIGPOLL},
    {"CLD", SIGCHLD},
};

/* Linux has at most 33 real-time signals (kernel 32..64). */
#define RT_NAMES 33
static const char *const rtmin_names[RT_NAMES] = {
    "RTMIN",    "RTMIN+1",  "RTMIN+2",  "RTMIN+3",  "RTMIN+4",  "RTMIN+5",  "RTMIN+6",
    "RTMIN+7",  "RTMIN+8",  "RTMIN+9",  "RTMIN+10", "RTMIN+11", "RTMIN+12", "RTMIN+13",
    "RTMIN+14", "RTMIN+15", "RTMIN+16", "RTMIN+17", "RTMIN+18", "RTMIN+19", "RTMIN+20",
    "RTMIN+21", "RTMIN+22", "RTMIN+23", "RTMIN+24", "RTMIN+25", "RTMIN+26", "RTMIN+27",
    "RTMIN+28", "RTMIN+29", "RTMIN+30", "RTMIN+31", "RTMIN+32",
};
static const char *const rtmax_names[RT_NAMES] = {
    "RTMAX",    "RTMAX-1",  "RTMAX-2",  "RTMAX-3",  "RTMAX-4",  "RTMAX-5",  "RTMAX-6",
    "RTMAX-7",  "RTMAX-8",  "RTMAX-9",  "RTMAX-10", "RTMAX-11", "RTMAX-12", "RTMAX-13",
    "RTMAX-14", "RTMAX-15", "RTMAX-16", "RTMAX-17", "RTMAX-18", "RTMAX-19", "RTMAX-20",
    "RTMAX-21", "RTMAX-22", "RTMAX-23", "RTMAX-24", "RTMAX-25", "RTMAX-26", "RTMAX-27",
    "RTMAX-28", "RTMAX-29", "RTMAX-30", "RTMAX-31", "RTMAX-32",
};

/* A small decimal number (at most 3 digits, so no overflow); -1 if not. */
static int
parse_small_uint(const char *s)
{
        int n = 0;
        size_t len = strlen(s);

        if (len == 0 || len > 3)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return -1;
                n = n * 10 + (s[i] - '0');
        }
        return n;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (s without "SIG"); -1 if not. */
static int
rt_from_name(const char *s)
{
        int base, dir, n = 0, sig;

        if (strncasecmp(s, "RTMIN", 5) == 0) {
                base = SIGRTMIN;
                dir = 1;
        } else if (strncasecmp(s, "RTMAX", 5) == 0) {
                base = SIGRTMAX;
                dir = -1;
        } else
                return -1;
        s += 5;
        if (*s != '\0') {
                if (*s != (dir > 0 ? '+' : '-'))
                        return -1;
                if ((n = parse_small_uint(s + 1)) < 0)
                        return -1;
        }
        sig = base + dir * n;
        if (sig < SIGRTMIN || sig > SIGRTMAX)
                return -1;
        return sig;
}

int
proto_signal_from_name(const char *s)
{
        int sig;

        if (s == NULL)
                return -1;
        if (isdigit((unsigned char)s[0])) {
                sig = parse_small_uint(s);
                return sig >= 1 && sig <= SIGRTMAX ? sig : -1;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++) {
                if (strcasecmp(s, signames[i].name) == 0)
                        return signames[i].sig;
        }
        return rt_from_name(s);
}

/* Real-time signals in the lower half count up from RTMIN, like kill -l. */
const char *
proto_signal_name(int sig)
{
        int span = SIGRTMAX - SIGRTMIN;

        for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++) {
                if (signames[i].sig == sig)
                        return signames[i].name;
        }
        if (sig < SIGRTMIN || sig > SIGRTMAX || span >= RT_NAMES)
                return NULL;
        if (sig - SIGRTMIN <= span / 2)
                return rtmin_names[sig - SIGRTMIN];
        return rtmax_names[SIGRTMAX - sig];
}
