/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A directory of its own under /tmp for each test, and small file helpers
 * on it (tests/unit/test_base.c, tests/component/test_rmtree.c). */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rmtree.h"
#include "tmpdir_util.h"

char dir[64]; /* test-only state: this test's directory */

void tmpdir_setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/prim-base-XXXXXX");
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                exit(1);
        }
}

void tmpdir_teardown(void)
{
        _cleanup_close_ int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct berth_err err = {0};
        if (berth_rmtree_at(fd, dir + 5, &err) < 0)
                fprintf(stderr, "cannot remove %s: %s\n", dir, err.msg);
}

void pathf(char *buf, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        ck_assert_int_lt(n, (int)len);
}

void put(const char *rel, const char *text)
{
        char p[256];
        pathf(p, sizeof(p), "%s/%s", dir, rel);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(berth_write_all(fd, text, strlen(text)), 0);
}

void mkd(const char *rel)
{
        char p[256];
        pathf(p, sizeof(p), "%s/%s", dir, rel);
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

bool exists(const char *rel)
{
        char p[256];
        struct stat st;
        pathf(p, sizeof(p), "%s/%s", dir, rel);
        return lstat(p, &st) == 0;
}

int open_dir(void)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}
