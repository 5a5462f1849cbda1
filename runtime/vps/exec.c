/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps exec and vps enter: a command in a running VPS with a login's
 * environment, and exec's own failures kept apart from the command's exit
 * codes as docker and podman do (125: exec itself failed, 126: the command
 * cannot run, 127: no such command). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/process.h"
#include "berth/rootfs.h"
#include "berth/unix_socket.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define PASSWD_MAX (1024 * 1024)

/* Field 7 of root's line in the guest's /etc/passwd, read through the
 * init's root with every path resolved inside it: the file is the guest's,
 * and may be a symlink to a host path or a FIFO. "" when there is none. */
static void guest_root_shell(pid_t pid, char *shell, size_t len)
{
        shell[0] = '\0';
        char root[64];
        snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd =
            root_fd < 0 ? -1 : berth_in_root_open(root_fd, "/etc/passwd", O_RDONLY | O_NONBLOCK);
        struct stat sb;
        _cleanup_free_ char *text = NULL;
        size_t n;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
            berth_read_fd(fd, PASSWD_MAX, &text, &n) < 0)
                return;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, "root:", 5))
                        continue;
                const char *field = line;
                for (int i = 0; i < 6 && field; i++)
                        field = strchr(field, ':') ? strchr(field, ':') + 1 : NULL;
                if (field && field[0] == '/' && strlen(field) < len)
                        snprintf(shell, len, "%s", field);
                return;
        }
}

/* What login(1) gives root, plus TERM on a terminal. */
struct login_env {
        char shell[256 + 6], term[128], *env[8];
};

static char **login_env(struct login_env *l, const char *shell, bool tty)
{
        static char home[] = "HOME=/root", user[] = "USER=root", logname[] = "LOGNAME=root",
                    path[] = "PATH=" BERTH_DEFAULT_PATH;
        snprintf(l->shell, sizeof(l->shell), "SHELL=%s", shell);
        const char *term = getenv("TERM");
        snprintf(l->term, sizeof(l->term), "TERM=%s", term && *term ? term : "linux");
        char **e = l->env;
        *e++ = home, *e++ = user, *e++ = logname, *e++ = l->shell, *e++ = path;
        if (tty)
                *e++ = l->term;
        *e = NULL;
        return l->env;
}

/* Docker's codes for a failed exec: whether the command itself could not run. */
static int exec_failure_code(int errnum)
{
        if (errnum == ENOENT)
                return 127;
        if (errnum == EACCES || errnum == ENOEXEC || errnum == EISDIR || errnum == EPERM)
                return 126;
        return 125;
}

/* A stop or destroy that ran while the exec joined the VPS fails the exec
 * in whatever step it reached (a vanished init, a deleted state): that is
 * the plain "not running" a script can match, not an internal error. */
static bool stopped_meanwhile(const struct berth_vps_ctx *v, const char *name)
{
        struct berth_vps_status st;
        struct berth_err ignore = {0};
        return berth_vps_status_get(v, name, &st, &ignore) >= 0 && !st.running;
}

/* Every process of the VPS hands its sysinfo listener to the console
 * keeper (sysinfo.c): without a keeper that cannot be, so say why rather
 * than how (a refused connect). A VPS started before sysinfo.sock existed
 * has none, and no listener to hand over. */
static int keeper_alive(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        char path[PATH_MAX];
        if (berth_vps_path(v, name, VPS_SYSINFO_SOCK, path, sizeof(path)) < 0 || access(path, F_OK) < 0)
                return 0;
        struct berth_err ignore = {0};
        int fd = berth_connect_unix(path, &ignore);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        /* The keeper closes its sockets once it has reaped the guest's init:
         * a stop between the caller's status and this connect is no killed
         * keeper, just a VPS that is no longer running. */
        if (stopped_meanwhile(v, name))
                return berth_err_set(err, ESRCH, "VPS %s is not running", name);
        return berth_err_set(err, ESRCH,
                             "VPS %s: its console keeper is gone (killed?), so nothing can exec in it; "
                             "`berth vps restart %s` brings it back",
                             name, name);
}

static int run_in_vps(const struct berth_vps_ctx *v, const char *name, char **args, char **env, bool tty,
                      bool command_known, int *exit_code, struct berth_err *err)
{
        *exit_code = 125;
        struct berth_vps_status st;
        int r = berth_vps_status_get(v, name, &st, err);
        if (r < 0)
                return r;
        if (!st.running)
                return berth_err_set(err, ESRCH, "VPS %s is not running", name);
        if ((r = keeper_alive(v, name, err)) < 0)
                return r;
        char shell[256];
        struct login_env login;
        if (!env || !command_known) {
                guest_root_shell(st.pid, shell, sizeof(shell));
                const char *login_shell = shell[0] ? shell : "/bin/sh";
                if (!command_known)
                        args[0] = (char *)login_shell;
                if (!env)
                        env = login_env(&login, login_shell, tty);
        }
        char id[BERTH_VPS_ID_MAX];
        struct berth_exec_opts o = {
            .id = berth_vps_container_id(v, name, id, sizeof(id)),
            .args = args,
            .env = env,
            .cwd = "/",
            .tty = tty,
        };
        vps_trace(v, "VPS %s: exec %s in %s on %s", name, args[0], o.id,
                  tty ? "a pseudo-terminal" : "the caller's stdio");
        r = berth_container_exec(v->ctx, &o, exit_code, err);
        if (r < 0) {
                *exit_code = exec_failure_code(err->code);
                if (stopped_meanwhile(v, name)) {
                        *exit_code = 125;
                        return berth_err_set(err, ESRCH, "VPS %s is not running", name);
                }
                return berth_err_wrap(err, "exec in VPS %s", name);
        }
        return 0;
}

int berth_vps_exec(const struct berth_vps_ctx *v, const char *name, char **args, char **env, bool tty,
                   int *exit_code, struct berth_err *err)
{
        return run_in_vps(v, name, args, env, tty, true, exit_code, err);
}

int berth_vps_enter(const struct berth_vps_ctx *v, const char *name, const char *shell, int *exit_code,
                    struct berth_err *err)
{
        char *args[] = {(char *)shell, "-l", NULL};
        return run_in_vps(v, name, args, NULL, true, shell != NULL, exit_code, err);
}
