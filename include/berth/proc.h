/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers of the kernel's process files, on caller buffers (testable
 * without root or /proc, and fuzzed): /proc/<pid>/mountinfo, and what a
 * cgroup hierarchy looks like once mountinfo and /proc/<pid>/cgroup are
 * read, and the signal masks of /proc/<pid>/status. */
#ifndef BERTH_PROC_H
#define BERTH_PROC_H

#include <stdbool.h>
#include <stdint.h>

/* One parsed line of /proc/<pid>/mountinfo; pointers into the caller's
 * (modified) line buffer, octal escapes decoded. */
struct berth_mountinfo_entry {
        unsigned id, parent;
        char *root, *mount_point, *options, *fstype, *source, *super_options;
};

/* Parses one mountinfo line in place; returns 0 or -EINVAL. */
int berth_mountinfo_parse_line(char *line, struct berth_mountinfo_entry *e);

/* The next well-formed line of mountinfo text from *cursor on, parsed in
 * place (the caller's buffer is modified); malformed lines are skipped.
 * Returns false at the end of the text. */
bool berth_mountinfo_next(char **cursor, struct berth_mountinfo_entry *e);

/* One entry of /proc/<pid>/cgroup, "ID:CONTROLLERS:PATH"; pointers into
 * the caller's buffer, which is not modified (hence the lengths). */
struct berth_proc_cgroup_entry {
        bool v2;                 /* the cgroup2 entry, "0::PATH" */
        const char *controllers; /* "cpu,cpuacct", "name=systemd"; empty for cgroup2 */
        size_t controllers_len;
        const char *path; /* " (deleted)" stays part of it */
        size_t path_len;
};

/* The next entry of /proc/<pid>/cgroup text from *cursor on (lines
 * without two colons are skipped); advances *cursor past its line.
 * Returns false at the end of the text. */
bool berth_proc_cgroup_next(const char **cursor, struct berth_proc_cgroup_entry *e);

/* A signal mask line of /proc/<pid>/status: key is "SigCgt" (the signals
 * the process has a handler for), "SigIgn", "SigBlk" or "SigPnd"; bit
 * sig - 1 stands for signal sig. 0 and *mask set, -ENOENT without that
 * line, -EINVAL when it is not 1 to 16 hex digits. */
int berth_proc_status_sigmask(const char *buf, const char *key, uint64_t *mask);

/* A host hierarchy as the container's init sees it once it has joined
 * its cgroups, for the container's /sys/fs/cgroup (rootfs), so that the
 * init need not read mountinfo and /proc/self/cgroup again. */
struct berth_cgroup_mount {
        bool v2;
        char *mount_point; /* on the host: /sys/fs/cgroup/memory */
        char *root;        /* the part of the hierarchy that mount shows */
        char *controllers; /* v1: as in /proc/self/cgroup ("cpu,cpuacct", "name=systemd"); v2: "" */
        char *path;        /* the init's cgroup there: the container's, else the caller's */
};

#endif
