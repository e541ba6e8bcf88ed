/*
 * cgroup.c -- pools and processes in cgroup v2 sub-cgroups of corrald's
 * own, when that one is delegated to it. See cgroup.h.
 *
 * Layout under corrald's cgroup B:  B/corrald (corrald itself: a cgroup
 * with children may hold no processes once controllers are enabled),
 * B/pool-NAME (limits), B/pool-NAME/p-ID (one supervised process and
 * everything it starts).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "xmalloc.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct cgroups {
        bool enabled;
        char base[PATH_MAX];
        char reason[256];
        char controllers[64]; /* those we enabled for pools: "+memory +cpu +pids" */
};

static bool
cg_is_v2(const char *path)
{
        struct statfs sf;

        return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* dir/file into path; -1 with ENAMETOOLONG if it does not fit. */
static int
cg_path(char *path, size_t len, const char *dir, const char *file)
{
        if ((size_t)snprintf(path, len, "%s/%s", dir, file) >= len) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return 0;
}

/* Write a short string to a cgroup file; 0 or -1 with errno. */
static int
cg_write(const char *dir, const char *file, const char *text)
{
        char path[PATH_MAX + 64];
        ssize_t n, len = (ssize_t)strlen(text);
        int fd;

        if (cg_path(path, sizeof path, dir, file) != 0)
                return -1;
        if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
                return -1;
        n = write(fd, text, (size_t)len);
        close(fd);
        return n == len ? 0 : -1;
}

static int
cg_read(const char *dir, const char *file, char *buf, size_t len)
{
        char path[PATH_MAX + 64];
        ssize_t n;
        int fd;

        if (cg_path(path, sizeof path, dir, file) != 0)
                return -1;
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
                return -1;
        n = read(fd, buf, len - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

/* Our cgroup v2 path, from /proc/self/cgroup's "0::PATH" line. */
static int
cg_self(char *path, size_t len)
{
        char line[PATH_MAX];
        FILE *fp = fopen("/proc/self/cgroup", "re");
        int found = -1;

        if (fp == NULL)
                return -1;
        while (fgets(line, sizeof line, fp) != NULL) {
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(path, len, "%.*s", (int)(len - 1), line + 3);
                        found = 0;
                }
        }
        fclose(fp);
        return found;
}

static struct cgroups *
cg_disabled(struct cgroups *cg, const char *why)
{
        cg->enabled = false;
        snprintf(cg->reason, sizeof cg->reason, "%s", why);
        log_info("cgroups: %s; process groups alone keep process trees together", why);
        return cg;
}

struct cgroups *
cgroups_new(void)
{
        struct cgroups *cg = xcalloc(1, sizeof *cg);
        const char *root = NULL, *mode = getenv("CORRAL_CGROUPS");
        char self[PATH_MAX / 2], avail[256], leaf[PATH_MAX + 16];
        static const char *const wanted[] = {"memory", "cpu", "pids"};
        size_t i;

        if (mode != NULL && strcmp(mode, "off") == 0)
                return cg_disabled(cg, "turned off by CORRAL_CGROUPS=off");
        if (cg_is_v2("/sys/fs/cgroup"))
                root = "/sys/fs/cgroup";
        else if (cg_is_v2("/sys/fs/cgroup/unified"))
                root = "/sys/fs/cgroup/unified";
        if (root == NULL)
                return cg_disabled(cg, "no cgroup v2 hierarchy is mounted");
        if (cg_self(self, sizeof self) != 0)
                return cg_disabled(cg, "corrald's cgroup is unknown");
        /* The root cgroup is the machine's, never ours to arrange: no delegation. */
        if (strcmp(self, "/") == 0)
                return cg_disabled(cg, "corrald's cgroup was not delegated to it (Delegate=yes)");
        snprintf(cg->base, sizeof cg->base, "%s%s", root, self);
        snprintf(leaf, sizeof leaf, "%s/corrald", cg->base);
        if ((mkdir(leaf, 0755) == -1 && errno != EEXIST) ||
            cg_write(leaf, "cgroup.procs", "0") != 0)
                return cg_disabled(cg, "corrald's cgroup was not delegated to it (Delegate=yes)");
        /* Controllers for the pools' limits, as far as the parent offers them. */
        if (cg_read(cg->base, "cgroup.controllers", avail, sizeof avail) != 0)
                avail[0] = '\0';
        for (i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
                char token[16];

                if (strstr(avail, wanted[i]) == NULL)
                        continue;
                snprintf(token, sizeof token, "+%s", wanted[i]);
                if (cg_write(cg->base, "cgroup.subtree_control", token) == 0) {
                        strncat(cg->controllers, token,
                                sizeof cg->controllers - strlen(cg->controllers) - 2);
                        strcat(cg->controllers, " ");
                }
        }
        cg->enabled = true;
        log_info("cgroups: pools and processes get sub-cgroups of %s (controllers: %s)", cg->base,
                 cg->controllers[0] ? cg->controllers : "none");
        return cg;
}

void
cgroups_free(struct cgroups *cg)
{
        free(cg);
}

bool
cgroups_enabled(const struct cgroups *cg)
{
        return cg != NULL && cg->enabled;
}

const char *
cgroups_reason(const struct cgroups *cg)
{
        return cg != NULL && !cg->enabled ? cg->reason : NULL;
}

static void
cg_pool_dir(const struct cgroups *cg, const char *pool, char *buf, size_t len)
{
        snprintf(buf, len, "%s/pool-%s", cg->base, pool);
}

static void
cg_proc_dir(const struct cgroups *cg, const char *pool, uint64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/pool-%s/p-%llu", cg->base, pool, (unsigned long long)id);
}

int
cgroups_pool(struct cgroups *cg, const char *pool, uint64_t memory_max, const char *cpu_max,
             uint64_t pids_max)
{
        char dir[PATH_MAX + 80], num[32];
        int r = 0;

        if (!cgroups_enabled(cg))
                return 0;
        cg_pool_dir(cg, pool, dir, sizeof dir);
        if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
                log_warn("cgroups: cannot create %s: %s", dir, strerror(errno));
                return -1;
        }
        /* The processes' cgroups below take memory accounting too (OOM kills). */
        if (strstr(cg->controllers, "+memory") != NULL)
                (void)cg_write(dir, "cgroup.subtree_control", "+memory");
        if (memory_max > 0) {
                snprintf(num, sizeof num, "%llu", (unsigned long long)memory_max);
                r |= cg_write(dir, "memory.max", num);
        }
        if (cpu_max != NULL && *cpu_max != '\0')
                r |= cg_write(dir, "cpu.max", cpu_max);
        if (pids_max > 0) {
                snprintf(num, sizeof num, "%llu", (unsigned long long)pids_max);
                r |= cg_write(dir, "pids.max", num);
        }
        if (r != 0)
                log_warn("cgroups: pool %s: a limit could not be set: %s", pool, strerror(errno));
        return r;
}

void
cgroups_pool_remove(struct cgroups *cg, const char *pool)
{
        char dir[PATH_MAX + 80];

        if (!cgroups_enabled(cg))
                return;
        cg_pool_dir(cg, pool, dir, sizeof dir);
        if (rmdir(dir) == -1 && errno != ENOENT)
                log_debug("cgroups: %s stays: %s", dir, strerror(errno));
}

int
cgroups_process_open(struct cgroups *cg, const char *pool, uint64_t id)
{
        char dir[PATH_MAX + 100], path[PATH_MAX + 120];
        int fd = -1;

        if (!cgroups_enabled(cg))
                return -1;
        if (cgroups_pool(cg, pool, 0, NULL, 0) != 0)
                return -1;
        cg_proc_dir(cg, pool, id, dir, sizeof dir);
        if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
                log_warn("cgroups: cannot create %s: %s", dir, strerror(errno));
                return -1;
        }
        if (cg_path(path, sizeof path, dir, "cgroup.procs") != 0 ||
            (fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
                log_warn("cgroups: cannot open %s: %s", path, strerror(errno));
        return fd;
}

void
cgroups_process_kill(struct cgroups *cg, const char *pool, uint64_t id)
{
        char dir[PATH_MAX + 100];

        if (!cgroups_enabled(cg))
                return;
        cg_proc_dir(cg, pool, id, dir, sizeof dir);
        /* Every process in it, at once, however it tried to leave its process group. */
        if (cg_write(dir, "cgroup.kill", "1") != 0 && errno != ENOENT)
                log_warn("cgroups: cannot kill %s: %s", dir, strerror(errno));
}

bool
cgroups_process_done(struct cgroups *cg, const char *pool, uint64_t id)
{
        char dir[PATH_MAX + 100], events[512], *p;
        bool oom = false;

        if (!cgroups_enabled(cg))
                return false;
        cg_proc_dir(cg, pool, id, dir, sizeof dir);
        if (cg_read(dir, "memory.events", events, sizeof events) == 0 &&
            (p = strstr(events, "oom_kill ")) != NULL)
                oom = strtoull(p + 9, NULL, 10) > 0;
        /* Empty now (or its leftovers keep it until they end). */
        if (rmdir(dir) == -1 && errno != ENOENT && errno != EBUSY)
                log_debug("cgroups: %s stays: %s", dir, strerror(errno));
        return oom;
}
