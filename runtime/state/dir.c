/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listing and removing state directories; liveness of a recorded init. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/state.h"

int berth_state_dir_remove(int root_fd, const char *id, struct berth_err *err)
{
        int dfd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "remove state of %s", id);
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return berth_err_sys(err, errno, "remove state of %s", id);
        }
        /* state.json first: a delete killed halfway leaves a directory the
         * next command sees as damaged (no state.json) and repairs; the
         * cgroup record stays until the directory goes. */
        if (unlinkat(dfd, "state.json", 0) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "remove state file %s/state.json", id);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    !strcmp(de->d_name, BERTH_STATE_CGROUP_FILE))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT)
                        return berth_err_sys(err, errno, "remove state file %s/%s", id, de->d_name);
        }
        if (unlinkat(dfd, BERTH_STATE_CGROUP_FILE, 0) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "remove state file %s/%s", id, BERTH_STATE_CGROUP_FILE);
        if (unlinkat(root_fd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "remove state directory of %s", id);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_state_list(int root_fd, char ***ids, struct berth_err *err)
{
        int dfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return berth_err_sys(err, errno, "list containers");
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return berth_err_sys(err, errno, "list containers");
        }
        rewinddir(d);
        size_t n = 0, cap = 16;
        _cleanup_strv_ char **v = calloc(cap + 1, sizeof(char *));
        struct dirent *de;
        while (v && (de = readdir(d))) {
                if (de->d_name[0] == '.' || !berth_id_valid(de->d_name))
                        continue;
                if (n == cap) {
                        char **nv = realloc(v, (2 * cap + 1) * sizeof(char *));
                        if (!nv)
                                return berth_err_sys(err, ENOMEM, "list containers");
                        v = nv;
                        cap *= 2;
                }
                v[n] = strdup(de->d_name);
                if (!v[n])
                        return berth_err_sys(err, ENOMEM, "list containers");
                v[++n] = NULL;
        }
        if (!v)
                return berth_err_sys(err, ENOMEM, "list containers");
        qsort(v, n, sizeof(char *), cmp_str);
        *ids = TAKE_PTR(v);
        return (int)n;
}

/* Field n (1-based, n >= 3) of a /proc/<pid>/stat line, or NULL. The
 * command name (field 2) may hold spaces and parentheses: fields are
 * counted from the last ')'. */
static const char *stat_field(const char *line, int n)
{
        const char *p = strrchr(line, ')');
        if (!p || p[1] != ' ')
                return NULL;
        p += 2;
        for (int field = 3; field < n; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return NULL;
                p++;
        }
        return *p ? p : NULL;
}

uint64_t berth_proc_stat_start_time(const char *line)
{
        const char *p = stat_field(line, 22);
        if (!p)
                return 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        return (errno || end == p) ? 0 : (uint64_t)v;
}

/* PF_EXITING of the kernel's task flags (field 9), set as do_exit begins. */
#define TASK_PF_EXITING 0x4u

bool berth_proc_stat_exited(const char *line)
{
        const char *state = stat_field(line, 3), *flags = stat_field(line, 9);
        if (!state || !flags)
                return true;
        if (*state == 'Z' || *state == 'X')
                return true;
        return (strtoul(flags, NULL, 10) & TASK_PF_EXITING) != 0;
}

uint64_t berth_proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* An init in its exit is not running any more, even before it is a
         * zombie: the init of a pid namespace has left its namespaces (its
         * /proc/<pid>/ns links are gone) while it waits in its exit for the
         * rest of the namespace to die. */
        return berth_proc_stat_exited(buf) ? 0 : berth_proc_stat_start_time(buf);
}

bool berth_state_init_alive(const struct berth_state *st)
{
        return st->pid > 0 && st->pid_start_time != 0 && berth_proc_start_time(st->pid) == st->pid_start_time;
}

const char *berth_status_name(enum berth_status s)
{
        switch (s) {
        case BERTH_STATUS_CREATING:
                return "creating";
        case BERTH_STATUS_CREATED:
                return "created";
        case BERTH_STATUS_RUNNING:
                return "running";
        case BERTH_STATUS_PAUSED:
                return "paused";
        case BERTH_STATUS_STOPPED:
                return "stopped";
        case BERTH_STATUS_UNKNOWN:
                return "unknown";
        }
        return "unknown";
}
