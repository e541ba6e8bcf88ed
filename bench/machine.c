/* machine.c -- what the run was measured on, read at run time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif
#ifndef CORRAL_VERSION
#define CORRAL_VERSION "unknown"
#endif

/* Copy the value after "key" up to the end of its line, trimmed. */
static void
machine_field(const char *text, const char *key, char *out, size_t len)
{
        const char *p = strstr(text, key), *end;
        size_t n;

        if (p == NULL)
                return;
        p += strlen(key);
        while (*p == ' ' || *p == '\t' || *p == ':' || *p == '=' || *p == '"')
                p++;
        end = strchr(p, '\n');
        n = end != NULL ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == '"' || p[n - 1] == ' '))
                n--;
        if (n >= len)
                n = len - 1;
        memcpy(out, p, n);
        out[n] = '\0';
}

/* First line of a command's output (for versions); "" if it fails. */
static void
machine_cmd(const char *cmd, char *out, size_t len)
{
        FILE *f = popen(cmd, "r");
        char *nl;

        out[0] = '\0';
        if (f == NULL)
                return;
        if (fgets(out, (int)len, f) == NULL)
                out[0] = '\0';
        pclose(f);
        if ((nl = strchr(out, '\n')) != NULL)
                *nl = '\0';
}

void
machine_read(struct machine *m)
{
        struct utsname u;
        char *text, kb[32] = "";
        time_t now = time(NULL);
        struct tm tm;

        memset(m, 0, sizeof *m);
        snprintf(m->cpu, sizeof m->cpu, "unknown CPU");
        if ((text = file_read("/proc/cpuinfo", NULL)) != NULL) {
                machine_field(text, "model name", m->cpu, sizeof m->cpu);
                free(text);
        }
        m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if ((text = file_read("/proc/meminfo", NULL)) != NULL) {
                machine_field(text, "MemTotal", kb, sizeof kb);
                m->mem_mib = strtol(kb, NULL, 10) / 1024;
                free(text);
        }
        if (uname(&u) == 0)
                snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
        snprintf(m->os, sizeof m->os, "unknown OS");
        if ((text = file_read("/etc/os-release", NULL)) != NULL) {
                machine_field(text, "PRETTY_NAME", m->os, sizeof m->os);
                free(text);
        }
#ifdef __VERSION__
        snprintf(m->compiler, sizeof m->compiler, "cc %s", __VERSION__);
#endif
        snprintf(m->build, sizeof m->build, "%s", BENCH_BUILD_TYPE);
        snprintf(m->version, sizeof m->version, "%s", CORRAL_VERSION);
        gmtime_r(&now, &tm);
        strftime(m->date, sizeof m->date, "%Y-%m-%d %H:%M UTC", &tm);
        machine_cmd("dpkg-query -W -f='${Version}' supervisor 2>/dev/null", m->supervisord,
                    sizeof m->supervisord);
        machine_cmd("dpkg-query -W -f='${Version}' task-spooler 2>/dev/null", m->tsp,
                    sizeof m->tsp);
        machine_cmd("dpkg-query -W -f='${Version}' redis-server 2>/dev/null", m->redis,
                    sizeof m->redis);
        machine_cmd("dpkg-query -W -f='${Version}' beanstalkd 2>/dev/null", m->beanstalkd,
                    sizeof m->beanstalkd);
}
