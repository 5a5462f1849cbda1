/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the escape-regression tests. */
#include "sec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SEC_ROOTFS
#define SEC_ROOTFS "rootfs"
#endif

/* Test-only global: set by sec_suite, inherited by the forked test cases. */
static char sec_cgparent[64];

void sec_begin(void)
{
        snprintf(itest()->cgparent, sizeof(itest()->cgparent), "%s", sec_cgparent);
}

static void rmdir_tree(const char *dir)
{
        char cmd[PATH_MAX + 64];
        /* Depth first: children before parents; only empty cgroups go. */
        snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", dir);
        if (system(cmd) != 0 && access(dir, F_OK) == 0)
                fprintf(stderr, "sec: could not remove cgroup %s\n", dir);
}

/* After the run, in the runner: the cgroup parents the containers left. */
static void remove_cgparents(void)
{
        size_t n;
        char **dirs = itest_cgroup_dirs(sec_cgparent, &n);
        for (size_t i = 0; i < n; i++) {
                if (access(dirs[i], F_OK) == 0)
                        rmdir_tree(dirs[i]);
                free(dirs[i]);
        }
        free(dirs);
}

Suite *sec_suite(const char *name)
{
        snprintf(sec_cgparent, sizeof(sec_cgparent), "berth-sec-%d", (int)getpid());
        setenv("BERTH_ITEST_ROOTFS", SEC_ROOTFS, 0);
        itest_require("bin/attacker");
        check_main_at_end(remove_cgparents);
        return itest_suite(name);
}

json_t *sec_spec(const char *arg0, ...)
{
        json_t *cfg = itest_spec("attacker", NULL);
        json_t *args = json_array();
        va_list ap;
        va_start(ap, arg0);
        json_array_append_new(args, json_string("/bin/attacker"));
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                json_array_append_new(args, json_string(a));
        va_end(ap);
        itest_set(cfg, "process.args", args);
        return cfg;
}

void sec_mount(json_t *cfg, const char *dest, const char *type, const char *src, ...)
{
        json_t *opts = json_array();
        va_list ap;
        va_start(ap, src);
        for (const char *o = va_arg(ap, const char *); o; o = va_arg(ap, const char *))
                json_array_append_new(opts, json_string(o));
        va_end(ap);
        itest_push(cfg, "mounts",
                   json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", src,
                             "options", opts));
}

void sec_add_cap(json_t *cfg, const char *cap)
{
        static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};
        char path[64];
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
                snprintf(path, sizeof(path), "process.capabilities.%s", sets[i]);
                itest_push(cfg, path, json_string(cap));
        }
}

char *sec_slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "re");
        ck_assert_msg(f, "open %s: %s", path, strerror(errno));
        char *buf = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&buf, &n);
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, got, m);
        fclose(f);
        fclose(m);
        if (len)
                *len = n;
        return buf;
}

void sec_copy(const char *src, const char *dst, mode_t mode)
{
        size_t len;
        char *data = sec_slurp(src, &len);
        int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_msg(fd >= 0, "create %s: %s", dst, strerror(errno));
        ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
        free(data);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sec_host_mounts(void)
{
        char *text = sec_slurp("/proc/self/mountinfo", NULL);
        char *lines[4096];
        size_t n = 0;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 4096;
             l = strtok_r(NULL, "\n", &save)) {
                char point[PATH_MAX];
                if (sscanf(l, "%*s %*s %*s %*s %4095s", point) == 1)
                        lines[n++] = strdup(point);
        }
        qsort(lines, n, sizeof(lines[0]), cmp_str);
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < n; i++) {
                fprintf(m, "%s\n", lines[i]);
                free(lines[i]);
        }
        fclose(m);
        free(text);
        return out;
}

static size_t count_line(const char *text, const char *line)
{
        size_t n = 0, len = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += strncmp(p, line, len) == 0 && p[len] == '\n';
        return n;
}

static bool forbidden_point(const char *p, const char *rootfs)
{
        const char *tmp = itest()->tmp;
        size_t tl = strlen(tmp), rl = strlen(rootfs);
        if (!strcmp(p, "/") || !strcmp(p, "/etc") || !strcmp(p, "/tmp"))
                return true;
        bool in_tmp = strncmp(p, tmp, tl) == 0 && (p[tl] == '/' || p[tl] == '\0');
        bool in_root = strncmp(p, rootfs, rl) == 0 && (p[rl] == '/' || p[rl] == '\0');
        return in_tmp && !in_root;
}

const char *sec_escaped_mount(const char *before, const char *after, const char *rootfs)
{
        static char bad[PATH_MAX];
        for (const char *p = after; p && *p;) {
                const char *nl = strchr(p, '\n');
                snprintf(bad, sizeof(bad), "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
                if (count_line(after, bad) > count_line(before, bad) && forbidden_point(bad, rootfs))
                        return bad;
                p = nl ? nl + 1 : NULL;
        }
        return NULL;
}

void sec_assert_clean(const char *id, const char *dir)
{
        itest_assert_clean(id, dir);
}

void sec_delete(const char *id)
{
        struct itest_result r;
        itest_rt(&r, "delete", "--force", id, NULL);
        itest_assert_status(&r, 0);
}
