/*
 * test_cgroup.c -- corrald in a delegated cgroup v2: each process gets its
 * own sub-cgroup, and terminate kills a grandchild that left the process
 * group (setsid) and ignores TERM, which process groups alone cannot
 * catch. Without a writable cgroup v2 hierarchy the case says why and
 * skips; without delegation corrald must work as before (other tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "harness.h"

#define CG_MAGIC 0x63677270 /* CGROUP2_SUPER_MAGIC */

static char cg_dir[PATH_MAX];  /* the cgroup the test (and its corrald) run in */
static char cg_home[PATH_MAX]; /* where the test process came from */

static bool
cg_v2(const char *path)
{
        struct statfs sf;

        return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == CG_MAGIC;
}

static bool
cg_write(const char *dir, const char *file, const char *text)
{
        char path[PATH_MAX + 64];
        int fd;
        ssize_t n;

        snprintf(path, sizeof path, "%s/%s", dir, file);
        if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
                return false;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text);
}

/* Kill and remove what is left below dir (children first). */
static void
cg_remove_tree(const char *dir)
{
        char cmd[3 * PATH_MAX];

        cg_write(dir, "cgroup.kill", "1");
        snprintf(cmd, sizeof cmd,
                 "find '%s' -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; rmdir '%s' "
                 "2>/dev/null",
                 dir, dir);
        if (system(cmd) == -1)
                fprintf(stderr, "cannot run: %s\n", cmd);
}

/* Move the test into a fresh cgroup, so its corrald finds a delegated one. false: skip. */
static bool
cg_enter(void)
{
        const char *root = cg_v2("/sys/fs/cgroup")           ? "/sys/fs/cgroup"
                           : cg_v2("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified"
                                                             : NULL;
        char line[PATH_MAX / 2], pid[32];
        FILE *fp;

        if (geteuid() != 0 || root == NULL) {
                printf("SKIP: %s\n", geteuid() != 0 ? "not root" : "no cgroup v2 hierarchy");
                return false;
        }
        snprintf(cg_home, sizeof cg_home, "%s", root);
        if ((fp = fopen("/proc/self/cgroup", "re")) != NULL) {
                while (fgets(line, sizeof line, fp) != NULL) {
                        if (strncmp(line, "0::", 3) == 0) {
                                line[strcspn(line, "\n")] = '\0';
                                snprintf(cg_home, sizeof cg_home, "%s%s", root, line + 3);
                        }
                }
                fclose(fp);
        }
        snprintf(cg_dir, sizeof cg_dir, "%s/corral-test-%ld", root, (long)getpid());
        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        if (mkdir(cg_dir, 0755) != 0 || !cg_write(cg_dir, "cgroup.procs", pid)) {
                printf("SKIP: cannot make and enter a cgroup under %s: %s\n", root,
                       strerror(errno));
                rmdir(cg_dir);
                return false;
        }
        return true;
}

static void
cg_leave(void)
{
        char pid[32];

        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        if (!cg_write(cg_home, "cgroup.procs", pid))
                cg_write("/sys/fs/cgroup/unified", "cgroup.procs", pid);
        cg_remove_tree(cg_dir);
}

/* A process's grandchild leaves the process group and ignores TERM: terminate still kills it. */
static void
t_terminate_kills_escaped_grandchild(void)
{
        struct harness *h;
        struct corral *c;
        struct corral_error err;
        struct corral_spawn_opts o;
        struct corral_process p;
        struct corral_terminate_opts to = {.signal = 0, .grace = 0.5, .wait = true};
        char script[2048], *pidtext;
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        long gc;
        uint64_t id;

        if (!cg_enter())
                return;
        h = harness_new();
        harness_launch(h, NULL);
        c = harness_connect(h);
        /* Written aside and renamed: the test must never read a half-written file. */
        snprintf(script, sizeof script,
                 "setsid /bin/sh -c 'trap \"\" TERM; echo $$ > %s.tmp && mv %s.tmp %s; "
                 "exec sleep 60' & exec sleep 60",
                 harness_path(h, "gc.pid"), harness_path(h, "gc.pid"), harness_path(h, "gc.pid"));
        memset(&o, 0, sizeof o);
        o.argv = argv;
        T_OK(corral_spawn(c, &o, &p, &err), &err);
        id = p.id;
        corral_process_clear(&p);
        T_ASSERT(wait_file(harness_path(h, "gc.pid"), 20));
        pidtext = file_read(harness_path(h, "gc.pid"), NULL);
        T_ASSERT(pidtext != NULL && (gc = strtol(pidtext, NULL, 10)) > 1);
        free(pidtext);
        T_OK(corral_terminate(c, (struct corral_target){.id = id}, &to, &p, &err), &err);
        T_EQ_STR(p.state, "stopped");
        /* The grandchild was in the process's cgroup: cgroup.kill took it too. */
        T_ASSERTF(wait_pid_gone((pid_t)gc, h->pid, 10), "the escaped grandchild %ld survived", gc);
        corral_process_clear(&p);
        corral_close(c);
        harness_stop(h);
        harness_free(h);
        cg_leave();
}

static const struct test_case cases[] = {
    TEST_CASE(terminate_kills_escaped_grandchild),
};

int
main(int argc, char **argv)
{
        return harness_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
