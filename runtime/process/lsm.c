// SPDX-License-Identifier: GPL-2.0-or-later
/* AppArmor profile and SELinux labels of the container process.
 *
 * The runtime spec makes a property the runtime cannot apply an error, and
 * runc fails when the host has no AppArmor or SELinux: a profile asked for
 * and silently dropped would run the container unconfined. Where the LSM
 * is there, the label is set for the next execve through
 * /proc/self/attr/.../exec, as runc does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/process.h"

bool berth_lsm_apparmor_enabled(void)
{
        char c = 0;
        _cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
        return access("/sys/kernel/security/apparmor", F_OK) == 0 && fd >= 0 && read(fd, &c, 1) == 1 &&
               c == 'Y';
}

bool berth_lsm_selinux_enabled(void)
{
        return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static bool given(const char *s)
{
        return s && s[0];
}

int berth_lsm_check(const struct berth_process *p, const char *mount_label, struct berth_err *err)
{
        if (given(p->apparmor_profile) && !berth_lsm_apparmor_enabled())
                return berth_err_set(err, EOPNOTSUPP,
                                     "process.apparmorProfile \"%s\": AppArmor is not enabled on this host",
                                     p->apparmor_profile);
        if (given(p->selinux_label) && !berth_lsm_selinux_enabled())
                return berth_err_set(err, EOPNOTSUPP,
                                     "process.selinuxLabel \"%s\": SELinux is not enabled on this host",
                                     p->selinux_label);
        if (given(mount_label) && !berth_lsm_selinux_enabled())
                return berth_err_set(err, EOPNOTSUPP,
                                     "linux.mountLabel \"%s\": SELinux is not enabled on this host",
                                     mount_label);
        return 0;
}

static int write_attr(const char *const *paths, size_t n, const char *text, struct berth_err *err)
{
        int e = ENOENT;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                        e = errno;
                        continue;
                }
                if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
                        return 0;
                return berth_err_sys(err, errno, "write \"%s\" to %s", text, paths[i]);
        }
        return berth_err_sys(err, e, "open %s", paths[0]);
}

int berth_lsm_apply_exec(const struct berth_process *p, struct berth_err *err)
{
        int r = 0;
        if (given(p->apparmor_profile)) {
                /* The AppArmor-specific file first: with several LSMs stacked
                 * the generic one belongs to the first of them. */
                static const char *const aa[] = {"/proc/self/attr/apparmor/exec", "/proc/self/attr/exec"};
                char text[4096];
                snprintf(text, sizeof(text), "exec %s", p->apparmor_profile);
                r = write_attr(aa, 2, text, err);
                if (r < 0)
                        return berth_err_wrap(err, "apply AppArmor profile %s", p->apparmor_profile);
        }
        if (given(p->selinux_label)) {
                static const char *const se[] = {"/proc/self/attr/exec"};
                r = write_attr(se, 1, p->selinux_label, err);
                if (r < 0)
                        return berth_err_wrap(err, "apply SELinux label %s", p->selinux_label);
        }
        return 0;
}
