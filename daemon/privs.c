/* privs.c -- resolving who a pool's processes run as. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"
#include "xmalloc.h"

/* A user by name or number. */
static int
privs_user(const char *name, struct passwd *out, char **buf, struct proto_error *err)
{
        struct passwd *res = NULL;
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        char *end;
        unsigned long id;
        int r;

        *buf = xmalloc(size > 0 ? (size_t)size : 16384);
        errno = 0;
        id = strtoul(name, &end, 10);
        if (*name != '\0' && *end == '\0')
                r = getpwuid_r((uid_t)id, out, *buf, size > 0 ? (size_t)size : 16384, &res);
        else
                r = getpwnam_r(name, out, *buf, size > 0 ? (size_t)size : 16384, &res);
        if (res == NULL) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "user", "no user '%s'%s%s", name,
                                r != 0 ? ": " : "", r != 0 ? strerror(r) : "");
                return -1;
        }
        return 0;
}

static int
privs_group(const char *name, gid_t *gid, struct proto_error *err)
{
        struct group gr, *res = NULL;
        char buf[16384], *end;
        unsigned long id = strtoul(name, &end, 10);

        if (*name != '\0' && *end == '\0') {
                *gid = (gid_t)id;
                return 0;
        }
        if (getgrnam_r(name, &gr, buf, sizeof buf, &res) != 0 || res == NULL) {
                proto_error_set(err, PROTO_E_INVALID_PARAMS, "group", "no group '%s'", name);
                return -1;
        }
        *gid = gr.gr_gid;
        return 0;
}

static void
privs_limit(struct spawn_privs *pv, int resource, bool has, uint64_t value)
{
        if (!has || pv->nlimits >= SPAWN_LIMITS_MAX)
                return;
        pv->limits[pv->nlimits].resource = resource;
        pv->limits[pv->nlimits].lim.rlim_cur = value;
        pv->limits[pv->nlimits].lim.rlim_max = value;
        pv->nlimits++;
}

int
privs_resolve(const struct proto_privs *pp, struct spawn_privs **out, struct proto_error *err)
{
        struct spawn_privs *pv;
        bool any = pp->user != NULL || pp->group != NULL || pp->has_umask || pp->has_nice ||
                   pp->has_oom_score_adjust || pp->has_nofile || pp->has_nproc || pp->has_core ||
                   pp->has_as || pp->has_cpu;

        *out = NULL;
        if (!any)
                return 0;
        if ((pp->user != NULL || pp->group != NULL) && geteuid() != 0) {
                proto_error_set(err, PROTO_E_PERMISSION_DENIED, pp->user != NULL ? "user" : "group",
                                "user and group need corrald to run as root");
                return -1;
        }
        pv = xcalloc(1, sizeof *pv);
        if (pp->user != NULL) {
                struct passwd pw;
                char *buf;
                int n = 64;
                gid_t *groups;

                if (privs_user(pp->user, &pw, &buf, err) != 0) {
                        free(buf);
                        free(pv);
                        return -1;
                }
                pv->set_ids = true;
                pv->user_set = true;
                pv->uid = pw.pw_uid;
                pv->gid = pw.pw_gid;
                /* The user's supplementary groups, as login would give them. */
                groups = xcalloc((size_t)n, sizeof *groups);
                if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1) {
                        groups = xreallocarray(groups, (size_t)n, sizeof *groups);
                        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1)
                                n = 0;
                }
                pv->groups = groups;
                pv->ngroups = (size_t)n;
                free(buf);
        }
        if (pp->group != NULL) {
                gid_t gid;

                if (privs_group(pp->group, &gid, err) != 0) {
                        privs_free(pv);
                        return -1;
                }
                if (!pv->set_ids) { /* only a group: keep corrald's user */
                        pv->set_ids = true;
                        pv->uid = geteuid();
                        pv->groups = xcalloc(1, sizeof *pv->groups);
                        pv->ngroups = 0;
                }
                pv->gid = gid;
        }
        pv->set_umask = pp->has_umask;
        pv->umask = (mode_t)pp->umask;
        pv->set_nice = pp->has_nice;
        pv->nice = (int)pp->nice;
        if (pp->has_oom_score_adjust) {
                pv->set_oom = true;
                snprintf(pv->oom, sizeof pv->oom, "%d", (int)pp->oom_score_adjust);
        }
        privs_limit(pv, RLIMIT_NOFILE, pp->has_nofile, pp->nofile);
        privs_limit(pv, RLIMIT_NPROC, pp->has_nproc, pp->nproc);
        privs_limit(pv, RLIMIT_CORE, pp->has_core, pp->core);
        privs_limit(pv, RLIMIT_AS, pp->has_as, pp->as);
        privs_limit(pv, RLIMIT_CPU, pp->has_cpu, pp->cpu);
        *out = pv;
        return 0;
}

void
privs_free(struct spawn_privs *pv)
{
        if (pv == NULL)
                return;
        free((void *)pv->groups);
        free(pv);
}

void
privs_pack_pairs(const struct spawn_privs *pv, msgpack_packer *pk)
{
        if (pv != NULL && pv->set_ids) {
                proto_pack_kv_uint(pk, "uid", pv->uid);
                proto_pack_kv_uint(pk, "gid", pv->gid);
        } else {
                proto_pack_kv_nil(pk, "uid");
                proto_pack_kv_nil(pk, "gid");
        }
        if (pv != NULL && pv->set_umask)
                proto_pack_kv_uint(pk, "umask", pv->umask);
        else
                proto_pack_kv_nil(pk, "umask");
}

struct spawn_privs *
privs_for_peer(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
               const struct spawn_privs *base)
{
        struct spawn_privs *pv = xcalloc(1, sizeof *pv);
        gid_t *copy = xcalloc(ngroups + 1, sizeof *copy);

        if (base != NULL)
                *pv = *base;
        memcpy(copy, groups, ngroups * sizeof *copy);
        pv->set_ids = true;
        pv->user_set = true;
        pv->uid = uid;
        pv->gid = gid;
        pv->groups = copy;
        pv->ngroups = ngroups;
        return pv;
}
