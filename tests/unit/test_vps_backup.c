/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pieces of vps backup that need no root (runtime/vps/backup*.c,
 * restore_read.c): SHA-256, the template checksum, id shifts of owners,
 * file capabilities and POSIX ACLs, and a tree through the archive and
 * back (hard link, sparse file, user xattr, symlink, fifo). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check_main.h"
#include "runtime/vps/backup.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        return remove(path);
}

/* A directory of its own under /tmp, removed with the variable. */
static char *make_tmpdir(void)
{
        char *t = strdup("/tmp/berth-test-backup.XXXXXX");
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_nonnull(mkdtemp(t));
        return t;
}

static void tmpdir_freep(char **t)
{
        if (*t)
                nftw(*t, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(*t);
}
#define _cleanup_tmpdir_ __attribute__((cleanup(tmpdir_freep)))

static void hex(const unsigned char *d, size_t n, char *out)
{
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(test_sha256)
{
        static const struct {
                const char *in, *want;
        } v[] = {
            {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        };
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                struct vps_sha256 c;
                unsigned char d[32];
                char got[65];
                vps_sha256_init(&c);
                /* Fed one byte at a time: the buffering is exercised too. */
                for (const char *p = v[i].in; *p; p++)
                        vps_sha256_update(&c, p, 1);
                vps_sha256_final(&c, d);
                hex(d, 32, got);
                ck_assert_str_eq(got, v[i].want);
        }
        /* A million 'a' in uneven pieces. */
        struct vps_sha256 c;
        unsigned char d[32];
        char got[65], buf[997];
        memset(buf, 'a', sizeof(buf));
        vps_sha256_init(&c);
        size_t left = 1000000;
        while (left) {
                size_t k = left < sizeof(buf) ? left : sizeof(buf);
                vps_sha256_update(&c, buf, k);
                left -= k;
        }
        vps_sha256_final(&c, d);
        hex(d, 32, got);
        ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_ids)
{
        struct vps_idshift s = {.enabled = true, .base = 0x40000000u, .size = 65536};
        ck_assert_uint_eq(vps_id_to_guest(&s, 0x40000000u), 0);
        ck_assert_uint_eq(vps_id_to_guest(&s, 0x40000000u + 1234), 1234);
        ck_assert_uint_eq(vps_id_to_guest(&s, 0), 65534);           /* outside: nobody */
        ck_assert_uint_eq(vps_id_to_guest(&s, 0x40010000u), 65534); /* just past the range */
        ck_assert_uint_eq(vps_id_to_host(&s, 1234), 0x40000000u + 1234);
        struct vps_idshift none = {0};
        ck_assert_uint_eq(vps_id_to_guest(&none, 1234), 1234);
        ck_assert_uint_eq(vps_id_to_host(&none, 1234), 1234);
        ck_assert_uint_eq(vps_id_to_guest(NULL, 7), 7);
}
END_TEST

START_TEST(test_caps)
{
        struct vps_idshift from = {.enabled = true, .base = 0x40000000u, .size = 65536};
        struct vps_idshift to = {.enabled = true, .base = 0x40020000u, .size = 65536};
        /* v3 with the host uid of the guest's root, as the kernel stores it. */
        unsigned char cap[24] = {0x01, 0, 0, 0x03, 0, 0x20, 0, 0};
        cap[20] = 0x00, cap[21] = 0x00, cap[22] = 0x00, cap[23] = 0x40;
        size_t len = 24;
        ck_assert_int_eq(vps_xattr_shift(&from, true, "security.capability", cap, &len, sizeof(cap)), 0);
        ck_assert_uint_eq(len, 24);
        ck_assert(cap[20] == 0 && cap[21] == 0 && cap[22] == 0 && cap[23] == 0); /* guest root */
        ck_assert_int_eq(vps_xattr_shift(&to, false, "security.capability", cap, &len, sizeof(cap)), 0);
        ck_assert(cap[20] == 0 && cap[21] == 0 && cap[22] == 0x02 && cap[23] == 0x40);
        ck_assert(cap[3] == 0x03 && cap[5] == 0x20); /* still v3, the set unchanged */
        /* v2 becomes v3 (room needed). */
        unsigned char v2[24] = {0x01, 0, 0, 0x02, 0, 0x20};
        len = 20;
        ck_assert_int_eq(vps_xattr_shift(&to, false, "security.capability", v2, &len, sizeof(v2)), 0);
        ck_assert_uint_eq(len, 24);
        ck_assert(v2[3] == 0x03 && v2[22] == 0x02 && v2[23] == 0x40);
        v2[3] = 0x02;
        len = 20;
        ck_assert_int_eq(vps_xattr_shift(&to, false, "security.capability", v2, &len, 20), -ENOSPC);
        /* Malformed: wrong size for its revision. */
        len = 23;
        ck_assert_int_eq(vps_xattr_shift(&to, false, "security.capability", cap, &len, sizeof(cap)), -EINVAL);
        /* Privileged VPS: untouched. */
        struct vps_idshift none = {0};
        unsigned char keep[20] = {0x01, 0, 0, 0x02};
        len = 20;
        ck_assert_int_eq(vps_xattr_shift(&none, false, "security.capability", keep, &len, sizeof(keep)), 0);
        ck_assert_uint_eq(len, 20);
        ck_assert_int_eq(keep[3], 0x02);
}
END_TEST

START_TEST(test_acl)
{
        struct vps_idshift s = {.enabled = true, .base = 0x40000000u, .size = 65536};
        /* version 2; USER_OBJ; USER 0x40000000+1234; GROUP 0x40000000+5678; OTHER */
        unsigned char acl[4 + 4 * 8] = {2, 0, 0, 0};
        unsigned char *e = acl + 4;
        e[0] = 1, e[4] = 0xff, e[5] = 0xff, e[6] = 0xff, e[7] = 0xff;
        e += 8;
        e[0] = 2, e[4] = 0xd2, e[5] = 0x04, e[6] = 0, e[7] = 0x40;
        e += 8;
        e[0] = 8, e[4] = 0x2e, e[5] = 0x16, e[6] = 0, e[7] = 0x40;
        e += 8;
        e[0] = 0x20, e[4] = 0xff, e[5] = 0xff, e[6] = 0xff, e[7] = 0xff;
        size_t len = sizeof(acl);
        ck_assert_int_eq(vps_xattr_shift(&s, true, "system.posix_acl_access", acl, &len, sizeof(acl)), 0);
        ck_assert(acl[12 + 4] == 0xd2 && acl[12 + 5] == 0x04 && acl[12 + 7] == 0); /* 1234 */
        ck_assert(acl[20 + 4] == 0x2e && acl[20 + 5] == 0x16 && acl[20 + 7] == 0); /* 5678 */
        ck_assert(acl[4 + 4] == 0xff && acl[28 + 7] == 0xff);                      /* no ids: as they were */
        len = 7;
        ck_assert_int_eq(vps_xattr_shift(&s, true, "system.posix_acl_default", acl, &len, sizeof(acl)),
                         -EINVAL);
        /* Other names are not touched. */
        unsigned char other[4] = {1, 2, 3, 4};
        len = 4;
        ck_assert_int_eq(vps_xattr_shift(&s, true, "user.x", other, &len, sizeof(other)), 0);
        ck_assert_int_eq(other[0], 1);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

START_TEST(test_checksum)
{
        _cleanup_tmpdir_ char *t = make_tmpdir();
        char a[4096], b[4096], s1[VPS_BACKUP_SUM_LEN], s2[VPS_BACKUP_SUM_LEN];
        struct berth_err err = {0};
        snprintf(a, sizeof(a), "%s/a", t);
        ck_assert_int_eq(mkdir(a, 0755), 0);
        put(a, "one", "1");
        put(a, "two", "2");
        ck_assert_int_eq(vps_tree_checksum(a, s1, &err), 0);
        ck_assert(!strncmp(s1, "sha256:", 7) && strlen(s1) == 71);
        /* Times do not count. */
        snprintf(b, sizeof(b), "%s/a/one", t);
        struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
        ck_assert_int_eq(utimensat(AT_FDCWD, b, old, 0), 0);
        ck_assert_int_eq(vps_tree_checksum(a, s2, &err), 0);
        ck_assert_str_eq(s1, s2);
        /* Content, names and modes do. */
        put(a, "two", "3");
        ck_assert_int_eq(vps_tree_checksum(a, s2, &err), 0);
        ck_assert_str_ne(s1, s2);
        put(a, "two", "2");
        ck_assert_int_eq(vps_tree_checksum(a, s2, &err), 0);
        ck_assert_str_eq(s1, s2);
        ck_assert_int_eq(chmod(b, 0600), 0);
        ck_assert_int_eq(vps_tree_checksum(a, s2, &err), 0);
        ck_assert_str_ne(s1, s2);
        ck_assert_int_lt(vps_tree_checksum("/nonexistent/berth", s2, &err), 0);

        /* The template's checksum is cached, and a change (same size)
         * is seen all the same. */
        char tdir[4096], root[4096], cache[4096], s3[VPS_BACKUP_SUM_LEN];
        snprintf(tdir, sizeof(tdir), "%s/tmpl", t);
        snprintf(root, sizeof(root), "%s/tmpl/rootfs", t);
        snprintf(cache, sizeof(cache), "%s/tmpl/.checksum", t);
        ck_assert_int_eq(mkdir(tdir, 0755), 0);
        ck_assert_int_eq(rename(a, root), 0);
        ck_assert_int_eq(vps_tree_checksum(root, s1, &err), 0);
        ck_assert_msg(vps_template_checksum(tdir, s2, &err) == 0, "%s", err.msg);
        ck_assert_str_eq(s1, s2);
        ck_assert_int_eq(access(cache, F_OK), 0);
        ck_assert_int_eq(vps_template_checksum(tdir, s3, &err), 0);
        ck_assert_str_eq(s1, s3);
        put(root, "two", "9");
        ck_assert_int_eq(vps_template_checksum(tdir, s3, &err), 0);
        ck_assert_str_ne(s1, s3);
        ck_assert_int_eq(vps_tree_checksum(root, s2, &err), 0);
        ck_assert_str_eq(s2, s3);
}
END_TEST

/* A tree through the archive and back, ids as they are. */
START_TEST(test_archive_round_trip)
{
        _cleanup_tmpdir_ char *t = make_tmpdir();
        char src[4096], dst[4096], p[4096], q[4096], arc[4096];
        struct berth_err err = {0};
        snprintf(src, sizeof(src), "%s/src", t);
        snprintf(dst, sizeof(dst), "%s/dst", t);
        snprintf(arc, sizeof(arc), "%s/a.tar.zst", t);
        ck_assert_int_eq(mkdir(src, 0750), 0);
        ck_assert_int_eq(mkdir(dst, 0700), 0);
        snprintf(p, sizeof(p), "%s/sub", src);
        ck_assert_int_eq(mkdir(p, 0710), 0);
        put(p, "file", "hello");
        snprintf(p, sizeof(p), "%s/sub/file", src);
        snprintf(q, sizeof(q), "%s/link", src);
        ck_assert_int_eq(link(p, q), 0);
        bool have_xattr = setxattr(p, "user.berth", "v", 1, 0) == 0;
        snprintf(q, sizeof(q), "%s/sym", src);
        ck_assert_int_eq(symlink("sub/file", q), 0);
        snprintf(q, sizeof(q), "%s/fifo", src);
        ck_assert_int_eq(mkfifo(q, 0640), 0);
        snprintf(q, sizeof(q), "%s/sparse", src);
        int fd = open(q, O_WRONLY | O_CREAT, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, "x", 1, 8 << 20), 1);
        close(fd);

        fd = open(arc, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        struct vps_archive_out *o = vps_archive_out_new(fd, true, NULL, &err);
        ck_assert_msg(o != NULL, "%s", err.msg);
        ck_assert_int_eq(vps_archive_out_file(o, VPS_BACKUP_MANIFEST, "{}", 2, &err), 0);
        ck_assert_msg(vps_archive_out_tree(o, src, "upper", NULL, &err) == 0, "%s", err.msg);
        ck_assert_msg(vps_archive_out_close(o, &err) == 0, "%s", err.msg);
        vps_archive_out_free(o);
        close(fd);

        fd = open(arc, O_RDONLY);
        struct vps_archive_in *in = vps_archive_in_new(fd, NULL, &err);
        ck_assert_msg(in != NULL, "%s", err.msg);
        char *text = NULL;
        size_t len = 0;
        ck_assert_msg(vps_archive_in_manifest(in, &text, &len, &err) == 0, "%s", err.msg);
        ck_assert_str_eq(text, "{}");
        free(text);
        ck_assert_msg(vps_archive_in_extract(in, "upper", dst, NULL, NULL, &err) == 7, "%s", err.msg);
        ck_assert_msg(vps_archive_in_end(in, &err) == 0, "%s", err.msg);
        vps_archive_in_free(in);
        close(fd);

        struct stat a, b;
        ck_assert_int_eq(stat(dst, &a), 0);
        ck_assert_uint_eq(a.st_mode & 07777, 0750); /* the root's own mode */
        snprintf(p, sizeof(p), "%s/sub/file", dst);
        snprintf(q, sizeof(q), "%s/link", dst);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_int_eq(stat(q, &b), 0);
        ck_assert(a.st_ino == b.st_ino && a.st_nlink == 2);
        char v[8];
        if (have_xattr)
                ck_assert_int_eq(getxattr(p, "user.berth", v, sizeof(v)), 1);
        snprintf(q, sizeof(q), "%s/sparse", dst);
        ck_assert_int_eq(stat(q, &a), 0);
        ck_assert_int_eq(a.st_size, (8 << 20) + 1);
        ck_assert_int_lt(a.st_blocks * 512, 1 << 20);
        snprintf(q, sizeof(q), "%s/sym", dst);
        ck_assert_int_eq(readlink(q, v, sizeof(v)), 8);
        snprintf(q, sizeof(q), "%s/fifo", dst);
        ck_assert_int_eq(lstat(q, &a), 0);
        ck_assert(S_ISFIFO(a.st_mode) && (a.st_mode & 0777) == 0640);

        /* The same archive cut short: an error naming the damage. */
        ck_assert_int_eq(truncate(arc, 200), 0);
        snprintf(dst, sizeof(dst), "%s/dst2", t);
        ck_assert_int_eq(mkdir(dst, 0700), 0);
        fd = open(arc, O_RDONLY);
        in = vps_archive_in_new(fd, NULL, &err);
        int r = in ? vps_archive_in_manifest(in, &text, &len, &err) : -1;
        if (r == 0) {
                free(text);
                r = vps_archive_in_extract(in, "upper", dst, NULL, NULL, &err);
                if (r >= 0)
                        r = vps_archive_in_end(in, &err);
        }
        ck_assert_int_lt(r, 0);
        ck_assert_msg(strstr(err.msg, "damaged or truncated") || strstr(err.msg, "not a berth"), "%s",
                      err.msg);
        vps_archive_in_free(in);
        close(fd);
}
END_TEST

START_TEST(test_unsafe_paths)
{
        _cleanup_tmpdir_ char *t = make_tmpdir();
        char arc[4096], dst[4096];
        struct berth_err err = {0};
        snprintf(arc, sizeof(arc), "%s/a.tar", t);
        snprintf(dst, sizeof(dst), "%s/dst", t);
        ck_assert_int_eq(mkdir(dst, 0700), 0);
        int fd = open(arc, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        struct vps_archive_out *o = vps_archive_out_new(fd, false, NULL, &err);
        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(vps_archive_out_file(o, VPS_BACKUP_MANIFEST, "{}", 2, &err), 0);
        ck_assert_int_eq(vps_archive_out_file(o, "upper/../escape", "x", 1, &err), 0);
        ck_assert_int_eq(vps_archive_out_close(o, &err), 0);
        vps_archive_out_free(o);
        close(fd);
        fd = open(arc, O_RDONLY);
        struct vps_archive_in *in = vps_archive_in_new(fd, NULL, &err);
        char *text = NULL;
        size_t len;
        ck_assert_int_eq(vps_archive_in_manifest(in, &text, &len, &err), 0);
        free(text);
        ck_assert_int_lt(vps_archive_in_extract(in, "upper", dst, NULL, NULL, &err), 0);
        ck_assert_msg(strstr(err.msg, "unsafe path"), "%s", err.msg);
        char esc[4096];
        snprintf(esc, sizeof(esc), "%s/escape", t);
        ck_assert_int_ne(access(esc, F_OK), 0);
        vps_archive_in_free(in);
        close(fd);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_backup");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_sha256);
        tcase_add_test(tc, test_ids);
        tcase_add_test(tc, test_caps);
        tcase_add_test(tc, test_acl);
        tcase_add_test(tc, test_checksum);
        tcase_add_test(tc, test_archive_round_trip);
        tcase_add_test(tc, test_unsafe_paths);
        suite_add_tcase(s, tc);
        return s;
}
