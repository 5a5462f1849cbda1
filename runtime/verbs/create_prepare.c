/* Everything `create` sets up on the host before it clones the init. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/verbs/create_job.h"
#include "runtime/seccomp/cache.h"

static int write_config_copy(const struct create_job *j, struct berth_err *err)
{
        /* exec, delete (poststop hooks) and update need the config later,
         * even if the bundle is gone by then. */
        _cleanup_close_ int fd =
            openat(j->state_fd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, j->config_text, j->config_len) != (ssize_t)j->config_len)
                return berth_err_sys(err, errno, "save config.json in the state directory");
        return 0;
}

static int setup_cgroup(struct create_job *j, const struct berth_ctx *ctx, struct berth_err *err)
{
        if (ctx->cgroup_disabled)
                return 0;
        struct berth_cgroup_opts co = {
            .id = j->setup.id,
            .path = j->spec->cgroups_path,
            .resources = j->spec->has_resources ? &j->spec->resources : NULL,
            .default_devices = true,
            /* Like runc: every v1 controller hierarchy and the named
             * name=systemd one, so that `update` can set any limit later, clients that
             * read the init's cgroups from /proc/<pid>/cgroup (containerd's
             * metrics) find them all, and the container's cgroupfs shows
             * only its own part of each. The init attaches itself, which
             * keeps this cheap. */
            .join_all_v1 = true,
        };
        j->cgroup = berth_cgroup_new(&co, err);
        if (!j->cgroup)
                return -err->code;
        /* Only what the clone needs: the v1 hierarchies are made after it,
         * while the init creates its namespaces (job_spawn). */
        int r = berth_cgroup_create_for_clone(j->cgroup, err);
        if (r < 0) {
                berth_cgroup_free(j->cgroup);
                j->cgroup = NULL;
                return r;
        }
        return 0;
}

/* The seccomp program, from the cache under the state root when this
 * profile was compiled before (~16 ms saved for the default profile): the
 * init only loads it. A NOTIFY profile stays with the init, which must
 * hand the listener fd on. */
static int compile_seccomp(struct create_job *j, struct berth_err *err)
{
        const struct berth_seccomp *s = &j->spec->seccomp;
        if (!j->spec->has_seccomp || berth_seccomp_has_notify(s))
                return 0;
        j->seccomp_filter = berth_seccomp_cached_compile(j->root_fd, s, NULL, err);
        if (!j->seccomp_filter)
                return -err->code;
        j->setup.seccomp_filter = j->seccomp_filter;
        return 0;
}

static int setup_fifo(struct create_job *j, struct berth_err *err)
{
        if (j->run_mode)
                return 0;
        /* 0622: the init may already run as the process's (non-root) user
         * when it opens the fifo; the state dir (0711) keeps others out. */
        if (mkfifoat(j->state_fd, "exec.fifo", 0622) < 0 || fchmodat(j->state_fd, "exec.fifo", 0622, 0) < 0)
                return berth_err_sys(err, errno, "create exec fifo");
        j->setup.fifo_fd = openat(j->state_fd, "exec.fifo", O_PATH | O_CLOEXEC);
        return j->setup.fifo_fd >= 0 ? 0 : berth_err_sys(err, errno, "open exec fifo");
}

static int connect_console(struct create_job *j, const char *path, struct berth_err *err)
{
        if (!path)
                return 0;
        j->setup.console_sock = berth_connect_unix(path, err);
        return j->setup.console_sock < 0 ? j->setup.console_sock : 0;
}

/* The creator's user name for `list`. Read from /etc/passwd directly: a
 * getpwuid() goes through NSS (nscd sockets, nsswitch.conf) on every
 * container start for a cosmetic field. */
static char *owner_name(uid_t uid)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;
        while (f && (pw = fgetpwent(f)))
                if (pw->pw_uid == uid)
                        return strdup(pw->pw_name);
        char num[16];
        snprintf(num, sizeof(num), "%u", (unsigned)uid);
        return strdup(num);
}

static void fill_state(struct create_job *j)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char created[64];
        size_t n = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(created + n, sizeof(created) - n, ".%09ldZ", ts.tv_nsec);
        j->st.id = strdup(j->setup.id);
        j->st.bundle = strdup(j->setup.bundle);
        j->st.rootfs = strdup(j->setup.rootfs);
        j->st.created = strdup(created);
        j->st.annotations = j->spec->annotations;
        j->st.n_annotations = j->spec->n_annotations;
}

int job_record(struct create_job *j, struct berth_err *err)
{
        j->st.owner = owner_name(geteuid());
        return write_config_copy(j, err);
}

int job_prepare(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        const struct berth_ctx *ctx = j->setup.ctx;
        j->root_fd = berth_state_root_open(ctx->state_root, err);
        if (j->root_fd < 0)
                return j->root_fd;
        int r = compile_seccomp(j, err);
        if (r < 0)
                return r;
        j->state_fd = berth_state_dir_create(j->root_fd, j->setup.id, err);
        if (j->state_fd < 0)
                return j->state_fd;
        fill_state(j);
        r = setup_cgroup(j, ctx, err);
        if (r >= 0)
                r = container_plan_namespaces(&j->setup, err);
        if (r >= 0 && j->cgroup && berth_cgroup_layout(j->cgroup) != BERTH_CG_UNIFIED)
                container_defer_namespaces(&j->setup);
        if (r >= 0)
                r = setup_fifo(j, err);
        if (r >= 0)
                r = connect_console(j, o->console_socket, err);
        return r;
}
