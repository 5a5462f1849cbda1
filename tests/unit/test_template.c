/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for VPS templates (runtime/vps/template/), no root.
 *
 * Every test works in its own data directory under /tmp (mkdtemp) and
 * removes it. Archives (tar.gz, tar.zst, OCI and docker image archives)
 * are built by the tests with libarchive. What needs root (owners, chroot,
 * namespaces, debootstrap) is in tests/component/test_template.c. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/cleanup.h"
#include "berth/template.h"
#include "cli/cli.h"
#include "runtime/vps/template/internal.h"
#include "tmpl_util.h"

int cmd_template(struct cli *cli, int argc, char **argv);

/* Outer archive of image members: name -> bytes. */
struct member {
        const char *name;
        const char *data;
        size_t len;
};

static void write_outer(const char *path, const struct member *m, size_t n)
{
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, m[i].name);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t)m[i].len);
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* ---- busybox ------------------------------------------------------------ */

static bool applet_exists(const char *name, const char *applet)
{
        static const char *const dirs[] = {"bin", "sbin", "usr/bin", "usr/sbin"};
        for (size_t i = 0; i < 4; i++) {
                char rel[128];
                pathf(rel, sizeof(rel), "%s/%s", dirs[i], applet);
                if (exists_in(name, rel))
                        return true;
        }
        return false;
}

#define NO_BUSYBOX "no /bin/busybox (install busybox-static)"

START_TEST(busybox_template)
{
        SKIP_IF(access("/bin/busybox", X_OK) != 0, NO_BUSYBOX);
        struct berth_err err = {0};
        ck_assert_msg(berth_template_create_busybox(data, "bb", &err) == 0, "%s", err.msg);
        const char *need[] = {"sh", "ip", "ping", "ps", "init", "mount", "ls"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(need); i++)
                ck_assert_msg(applet_exists("bb", need[i]), "applet %s missing", need[i]);
        char p[512], target[256];
        pathf(p, sizeof(p), "%s/templates/bb/rootfs/sbin/init", data);
        ssize_t n = readlink(p, target, sizeof(target) - 1);
        ck_assert_int_gt(n, 0);
        target[n] = '\0';
        ck_assert_str_eq(target, "/bin/busybox");
        _cleanup_free_ char *inittab = slurp("bb", "etc/inittab");
        ck_assert_ptr_nonnull(inittab);
        ck_assert_ptr_nonnull(strstr(inittab, "::sysinit:/etc/init.d/rcS"));
        ck_assert_ptr_null(strstr(inittab, "getty"));
        _cleanup_free_ char *passwd = slurp("bb", "etc/passwd");
        ck_assert_ptr_nonnull(strstr(passwd, "root:x:0:0:"));
        ck_assert_ptr_nonnull(strstr(passwd, "nobody:x:65534:"));
        struct stat st;
        pathf(p, sizeof(p), "%s/templates/bb/rootfs/tmp", data);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 01777);
        for (const char *const *d =
                 (const char *const[]){"proc", "sys", "dev", "run", "var/log", "root", NULL};
             *d; d++)
                ck_assert_msg(exists_in("bb", *d), "/%s missing", *d);
        json_t *j = metadata("bb");
        ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "busybox");
        ck_assert_str_eq(json_string_value(json_object_get(j, "init")), "/sbin/init");
        ck_assert_str_eq(json_string_value(json_object_get(j, "stop_signal")), "SIGUSR2");
        ck_assert_int_gt(json_integer_value(json_object_get(j, "size_bytes")), 1000000);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "created")));
        json_decref(j);
        ck_assert_int_eq(count_entries(true), 0);
}
END_TEST

START_TEST(busybox_twice_fails)
{
        SKIP_IF(access("/bin/busybox", X_OK) != 0, NO_BUSYBOX);
        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_create_busybox(data, "twice", &err), 0);
        ck_assert_int_eq(berth_template_create_busybox(data, "twice", &err), -EEXIST);
        ck_assert_ptr_nonnull(strstr(err.msg, "already exists"));
        ck_assert_int_eq(count_entries(true), 0);
        ck_assert_int_eq(count_entries(false), 1);
}
END_TEST

/* ---- import ------------------------------------------------------------- */

START_TEST(import_directory)
{
        struct berth_err err = {0};
        char src[512], p[1024];
        pathf(src, sizeof(src), "%s/src", data);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        pathf(p, sizeof(p), "%s/etc", src);
        ck_assert_int_eq(mkdir(p, 0711), 0);
        pathf(p, sizeof(p), "%s/etc/secret", src);
        write_file(p, "s3cret\n", 7);
        ck_assert_int_eq(chmod(p, 0640), 0);
        char q[1024];
        pathf(q, sizeof(q), "%s/etc/secret-link", src);
        ck_assert_int_eq(link(p, q), 0);
        pathf(p, sizeof(p), "%s/sh", src);
        ck_assert_int_eq(symlink("/bin/busybox", p), 0);
        pathf(p, sizeof(p), "%s/fifo", src);
        ck_assert_int_eq(mkfifo(p, 0600), 0);
        ck_assert_msg(berth_template_import(data, "dir", src, &err) == 0, "%s", err.msg);

        _cleanup_free_ char *c = slurp("dir", "etc/secret");
        ck_assert_str_eq(c, "s3cret\n");
        struct stat a, b;
        pathf(p, sizeof(p), "%s/templates/dir/rootfs/etc/secret", data);
        pathf(q, sizeof(q), "%s/templates/dir/rootfs/etc/secret-link", data);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_int_eq(stat(q, &b), 0);
        ck_assert_int_eq(a.st_mode & 07777, 0640);
        ck_assert_msg(a.st_ino == b.st_ino, "hard link not preserved");
        pathf(p, sizeof(p), "%s/templates/dir/rootfs/etc", data);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_int_eq(a.st_mode & 07777, 0711);
        char target[64];
        pathf(p, sizeof(p), "%s/templates/dir/rootfs/sh", data);
        ssize_t n = readlink(p, target, sizeof(target) - 1);
        ck_assert_int_eq(n, 12);
        target[n] = '\0';
        ck_assert_str_eq(target, "/bin/busybox");
        pathf(p, sizeof(p), "%s/templates/dir/rootfs/fifo", data);
        ck_assert_int_eq(lstat(p, &a), 0);
        ck_assert(S_ISFIFO(a.st_mode));
        /* A copy: changing the source later does not change the template. */
        pathf(p, sizeof(p), "%s/etc/secret", src);
        write_file(p, "changed", 7);
        free(c);
        c = slurp("dir", "etc/secret");
        ck_assert_str_eq(c, "s3cret\n");
        json_t *j = metadata("dir");
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "source")), "import:/"));
        ck_assert(json_is_null(json_object_get(j, "init")));
        json_decref(j);
}
END_TEST

/* Extended attributes are copied (where the file system has user ones). */
START_TEST(import_keeps_xattrs)
{
        char src[512], p[1024];
        pathf(src, sizeof(src), "%s/src", data);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        pathf(p, sizeof(p), "%s/f", src);
        write_file(p, "x", 1);
        SKIP_IF(setxattr(p, "user.berth", "v1", 2, 0) != 0, "no user xattrs in %s: %s", data,
                strerror(errno));
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, "xa", src, &err) == 0, "%s", err.msg);
        char v[16] = "";
        pathf(p, sizeof(p), "%s/templates/xa/rootfs/f", data);
        ck_assert_int_eq(getxattr(p, "user.berth", v, sizeof(v)), 2);
        ck_assert_mem_eq(v, "v1", 2);
}
END_TEST

START_TEST(import_refuses_store_parent)
{
        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_import(data, "self", data, &err), -EINVAL);
        ck_assert_int_eq(count_entries(false), 0);
}
END_TEST

static const struct tent rootfs_tar[] = {
    {"./", 'd', 0755, NULL, 0},
    {"./etc/", 'd', 0755, NULL, 0},
    {"./etc/hello", 'f', 0600, "hello world\n", 42},
    {"./etc/hello2", 'h', 0, "./etc/hello", 42},
    {"./bin/", 'd', 0755, NULL, 0},
    {"./bin/sh", 'l', 0777, "busybox", 0},
    {"./sbin/", 'd', 0755, NULL, 0},
    {"./sbin/init", 'l', 0777, "../lib/systemd/systemd", 0},
    {"./lib/systemd/systemd", 'f', 0755, "#!/bin/true\n", 0},
};

static void check_tarball(int filter, const char *name)
{
        size_t len = 0;
        _cleanup_free_ char *buf = make_tar(filter, rootfs_tar, BERTH_ARRAY_SIZE(rootfs_tar), &len);
        char path[512];
        pathf(path, sizeof(path), "%s/%s.tar", data, name);
        write_file(path, buf, len);
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, name, path, &err) == 0, "%s", err.msg);
        _cleanup_free_ char *c = slurp(name, "etc/hello");
        ck_assert_str_eq(c, "hello world\n");
        struct stat a, b;
        char p[1024], q[1024];
        pathf(p, sizeof(p), "%s/templates/%s/rootfs/etc/hello", data, name);
        pathf(q, sizeof(q), "%s/templates/%s/rootfs/etc/hello2", data, name);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_int_eq(stat(q, &b), 0);
        ck_assert_int_eq(a.st_mode & 07777, 0600);
        ck_assert_int_eq(a.st_ino, b.st_ino);
        ck_assert_int_eq(a.st_mtime, 1600000000);
        ck_assert(exists_in(name, "bin/sh"));
        json_t *j = metadata(name);
        /* /sbin/init -> ../lib/systemd/systemd: a systemd root */
        ck_assert_str_eq(json_string_value(json_object_get(j, "stop_signal")), "SIGRTMIN+3");
        json_decref(j);
}

START_TEST(import_tarball_gz)
{
        check_tarball(ARCHIVE_FILTER_GZIP, "targz");
}
END_TEST

START_TEST(import_tarball_zst)
{
        check_tarball(ARCHIVE_FILTER_ZSTD, "tarzst");
}
END_TEST

#define DIG(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* Layer 1: etc/a, etc/b, d/old1, d/sub/old2, keep/x, r/f (r a dir).
 * Layer 2: whiteout etc/a; d opaque, with d/new written BEFORE the opaque
 * marker (must survive); r becomes a file; a sysvinit-style /sbin/init. */
static const struct tent layer1[] = {
    {"etc/", 'd', 0755, NULL, 0},      {"etc/a", 'f', 0644, "A", 0},  {"etc/b", 'f', 0644, "B", 0},
    {"d/", 'd', 0755, NULL, 0},        {"d/old1", 'f', 0644, "1", 0}, {"d/sub/", 'd', 0755, NULL, 0},
    {"d/sub/old2", 'f', 0644, "2", 0}, {"keep/x", 'f', 0644, "x", 0}, {"r/", 'd', 0755, NULL, 0},
    {"r/f", 'f', 0644, "f", 0},
};
static const struct tent layer2[] = {
    {"etc/.wh.a", 'f', 0644, "", 0},   {"d/", 'd', 0750, NULL, 0},
    {"d/new", 'f', 0644, "new", 0},    {"d/.wh..wh..opq", 'f', 0644, "", 0},
    {"r", 'f', 0644, "now a file", 0}, {"sbin/init", 'f', 0755, "init", 0},
};

static void check_image_result(const char *name)
{
        ck_assert(!exists_in(name, "etc/a"));
        ck_assert(exists_in(name, "etc/b"));
        ck_assert(!exists_in(name, "d/old1"));
        ck_assert(!exists_in(name, "d/sub"));
        _cleanup_free_ char *n = slurp(name, "d/new");
        ck_assert_str_eq(n, "new");
        ck_assert(exists_in(name, "keep/x"));
        _cleanup_free_ char *r = slurp(name, "r");
        ck_assert_str_eq(r, "now a file");
        json_t *j = metadata(name);
        ck_assert_str_eq(json_string_value(json_object_get(j, "stop_signal")), "SIGPWR");
        json_t *cfg = json_object_get(j, "image_config");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cfg, "Cmd"), 0)), "/bin/sh");
        json_decref(j);
}

START_TEST(import_oci_archive)
{
        size_t l1len, l2len;
        _cleanup_free_ char *l1 = make_tar(ARCHIVE_FILTER_GZIP, layer1, BERTH_ARRAY_SIZE(layer1), &l1len);
        _cleanup_free_ char *l2 = make_tar(ARCHIVE_FILTER_ZSTD, layer2, BERTH_ARRAY_SIZE(layer2), &l2len);
        const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"],"
                             "\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        const char *manifest =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"digest\":\"" DIG(
                "c") "\",\"size\":1},"
                     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                     "\"digest\":\"" DIG(
                         "1") "\",\"size\":1},"
                              "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
                              "\"digest\":\"" DIG("2") "\",\"size\":1}]}";
        /* index.json -> a nested image index -> the manifest */
        const char *nested =
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
            "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIG(
                "e") "\","
                     "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
                     "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DIG(
                         "f") "\","
                              "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        const char *index =
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
            "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" DIG("a") "\",\"size\":1}]}";
        const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
        struct member m[] = {
            {"oci-layout", layout, strlen(layout)},
            {"blobs/sha256/" HEX("1"), l1, l1len},
            {"blobs/sha256/" HEX("2"), l2, l2len},
            {"blobs/sha256/" HEX("c"), config, strlen(config)},
            {"blobs/sha256/" HEX("e"), "{}", 2}, /* the s390x manifest: never read on amd64 */
            {"blobs/sha256/" HEX("f"), manifest, strlen(manifest)},
            {"blobs/sha256/" HEX("a"), nested, strlen(nested)},
            {"index.json", index, strlen(index)},
        };
        char path[512];
        pathf(path, sizeof(path), "%s/image.oci.tar", data);
        write_outer(path, m, BERTH_ARRAY_SIZE(m));
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, "oci", path, &err) == 0, "%s", err.msg);
#if defined(__x86_64__)
        check_image_result("oci");
#endif
}
END_TEST

START_TEST(import_docker_archive)
{
        size_t l1len, l2len;
        _cleanup_free_ char *l1 = make_tar(ARCHIVE_FILTER_NONE, layer1, BERTH_ARRAY_SIZE(layer1), &l1len);
        _cleanup_free_ char *l2 = make_tar(ARCHIVE_FILTER_NONE, layer2, BERTH_ARRAY_SIZE(layer2), &l2len);
        const char *config = "{\"config\":{\"Cmd\":[\"/bin/sh\"]}}";
        const char *manifest =
            "[{\"Config\":\"" HEX("c") ".json\",\"RepoTags\":[\"x:latest\"],"
                                       "\"Layers\":[\"" HEX("1") "/layer.tar\",\"" HEX("2") "/layer.tar\"]}]";
        struct member m[] = {
            {HEX("1") "/layer.tar", l1, l1len},
            {HEX("2") "/layer.tar", l2, l2len},
            {HEX("c") ".json", config, strlen(config)},
            {"manifest.json", manifest, strlen(manifest)},
        };
        char path[512];
        pathf(path, sizeof(path), "%s/image.docker.tar", data);
        write_outer(path, m, BERTH_ARRAY_SIZE(m));
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, "docker", path, &err) == 0, "%s", err.msg);
        check_image_result("docker");
}
END_TEST

START_TEST(import_failures_leave_nothing)
{
        struct berth_err err = {0};
        char path[512];
        pathf(path, sizeof(path), "%s/missing.tar", data);
        ck_assert_int_eq(berth_template_import(data, "x", path, &err), -ENOENT);
        ck_assert_int_eq(berth_exit_code_from_errno(err.code), BERTH_EXIT_NOT_FOUND);

        /* random bytes */
        pathf(path, sizeof(path), "%s/garbage.tar", data);
        char junk[4096];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char)(i * 7919 + 13);
        write_file(path, junk, sizeof(junk));
        ck_assert_int_lt(berth_template_import(data, "x", path, &err), 0);

        /* a gzip tarball cut in the middle */
        size_t len;
        _cleanup_free_ char *buf = make_tar(ARCHIVE_FILTER_GZIP, layer1, BERTH_ARRAY_SIZE(layer1), &len);
        pathf(path, sizeof(path), "%s/cut.tar.gz", data);
        write_file(path, buf, len / 2);
        ck_assert_int_lt(berth_template_import(data, "x", path, &err), 0);

        /* an entry escaping with ".." */
        static const struct tent evil[] = {{"etc/", 'd', 0755, NULL, 0}, {"../../escape", 'f', 0644, "x", 0}};
        free(buf);
        buf = make_tar(ARCHIVE_FILTER_NONE, evil, BERTH_ARRAY_SIZE(evil), &len);
        pathf(path, sizeof(path), "%s/evil.tar", data);
        write_file(path, buf, len);
        ck_assert_int_eq(berth_template_import(data, "x", path, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, ".."));
        char esc[512];
        pathf(esc, sizeof(esc), "%s/escape", data);
        ck_assert_int_ne(access(esc, F_OK), 0);

        ck_assert_int_eq(count_entries(false), 0); /* no template, no temp dir */
}
END_TEST

START_TEST(import_invalid_name)
{
        struct berth_err err = {0};
        const char *bad[] = {"", ".hidden", "-x", "a/b", "a b", "..", "x\n"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
                ck_assert_int_eq(berth_template_import(data, bad[i], "/nonexistent", &err), -EINVAL);
                ck_assert(!berth_template_name_valid(bad[i]));
        }
        char longname[80];
        memset(longname, 'a', 65);
        longname[65] = '\0';
        ck_assert(!berth_template_name_valid(longname));
        longname[64] = '\0';
        ck_assert(berth_template_name_valid(longname));
        ck_assert(berth_template_name_valid("debian-12.5_x"));
}
END_TEST

/* ---- list / rm / users -------------------------------------------------- */

static void make_dir_template(const char *name)
{
        char src[512], p[1024];
        pathf(src, sizeof(src), "%s/src-%s", data, name);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        pathf(p, sizeof(p), "%s/file", src);
        write_file(p, name, strlen(name));
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, name, src, &err) == 0, "%s", err.msg);
}

START_TEST(list_and_remove)
{
        struct berth_err err = {0};
        struct berth_template_info *infos = NULL;
        size_t n = 99;
        ck_assert_int_eq(berth_template_list(data, &infos, &n, &err), 0); /* no templates dir yet */
        ck_assert_uint_eq(n, 0);
        berth_template_list_free(infos, n);
        make_dir_template("zeta");
        make_dir_template("alpha");
        ck_assert_int_eq(berth_template_list(data, &infos, &n, &err), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(infos[0].name, "alpha");
        ck_assert_str_eq(infos[1].name, "zeta");
        ck_assert_ptr_nonnull(strstr(infos[0].rootfs, "/templates/alpha/rootfs"));
        ck_assert_uint_eq(infos[0].n_users, 0);
        berth_template_list_free(infos, n);

        char root[512];
        ck_assert_int_eq(berth_template_rootfs(data, "alpha", root, sizeof(root), &err), 0);
        ck_assert_int_eq(access(root, F_OK), 0);
        ck_assert_int_eq(berth_template_remove(data, "alpha", &err), 0);
        ck_assert_int_ne(access(root, F_OK), 0);
        ck_assert_int_eq(berth_template_rootfs(data, "alpha", root, sizeof(root), &err), -ENOENT);
        ck_assert_str_eq(err.msg, "template alpha does not exist");
        ck_assert_int_eq(berth_template_remove(data, "alpha", &err), -ENOENT);
        ck_assert_int_eq(berth_template_list(data, &infos, &n, &err), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(infos[0].name, "zeta");
        berth_template_list_free(infos, n);
        ck_assert_int_eq(count_entries(true), 0);
}
END_TEST

START_TEST(remove_refused_while_used)
{
        struct berth_err err = {0};
        make_dir_template("base");
        ck_assert_int_eq(berth_template_use(data, "base", "web1", &err), 0);
        /* a marker made by hand (as the VPS code may do) counts as well */
        char p[512];
        pathf(p, sizeof(p), "%s/templates/base/users/db", data);
        write_file(p, "", 0);
        ck_assert_int_eq(berth_template_remove(data, "base", &err), -EBUSY);
        ck_assert_str_eq(err.msg, "template base is used by VPS db, web1");
        ck_assert_int_eq(berth_exit_code_from_errno(err.code), BERTH_EXIT_STATE);
        struct berth_template_info info;
        ck_assert_int_eq(berth_template_info(data, "base", &info, &err), 0);
        ck_assert_uint_eq(info.n_users, 2);
        berth_template_info_clear(&info);
        ck_assert_int_eq(berth_template_unuse(data, "base", "web1", &err), 0);
        ck_assert_int_eq(berth_template_unuse(data, "base", "web1", &err), 0);
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(berth_template_remove(data, "base", &err), 0);
        ck_assert_int_eq(berth_template_use(data, "base", "web1", &err), -ENOENT);
        ck_assert_int_eq(berth_template_unuse(data, "base", "web1", &err), 0);
}
END_TEST

/* ---- the CLI ------------------------------------------------------------ */

static int run_cli(const char *a0, ...)
{
        char *argv[16];
        int argc = 0;
        va_list ap;
        va_start(ap, a0);
        for (const char *a = a0; a && argc < 14; a = va_arg(ap, const char *))
                argv[argc++] = (char *)a;
        va_end(ap);
        argv[argc] = NULL;
        struct cli cli = {.prog = "berth"};
        fflush(stdout);
        int saved = dup(1);
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        dup2(devnull, 1);
        int r = cmd_template(&cli, argc, argv);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        close(devnull);
        return r;
}

START_TEST(cli_exit_codes)
{
        SKIP_IF(access("/bin/busybox", X_OK) != 0, NO_BUSYBOX);
        ck_assert_int_eq(run_cli("template", "create", "c1", "--busybox", "--data-dir", data, NULL), 0);
        ck_assert_int_eq(run_cli("template", "--data-dir", data, "create", "c1", "--busybox", NULL), 4);
        ck_assert_int_eq(run_cli("template", "create", "bad/name", "--busybox", "--data-dir", data, NULL), 2);
        ck_assert_int_eq(run_cli("template", "create", "c2", "--data-dir", data, NULL), 2);
        ck_assert_int_eq(run_cli("template", "rm", "nope", "--data-dir", data, NULL), 3);
        ck_assert_int_eq(run_cli("template", "list", "--json", "--data-dir", data, NULL), 0);
        ck_assert_int_eq(run_cli("template", "info", "c1", "--data-dir", data, NULL), 0);
        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_use(data, "c1", "v", &err), 0);
        ck_assert_int_eq(run_cli("template", "rm", "c1", "--data-dir", data, NULL), 5);
        ck_assert_int_eq(berth_template_unuse(data, "c1", "v", &err), 0);
        setenv("BERTH_DATA", data, 1);
        ck_assert_int_eq(run_cli("template", "rm", "c1", NULL), 0);
        unsetenv("BERTH_DATA");
        ck_assert_int_eq(run_cli("template", "frobnicate", NULL), 2);
}
END_TEST

START_TEST(exit_codes_and_data_dir)
{
        ck_assert_int_eq(berth_exit_code_from_errno(0), BERTH_EXIT_OK);
        ck_assert_int_eq(berth_exit_code_from_errno(EINVAL), BERTH_EXIT_INVALID);
        ck_assert_int_eq(berth_exit_code_from_errno(-ENOENT), BERTH_EXIT_NOT_FOUND);
        ck_assert_int_eq(berth_exit_code_from_errno(EEXIST), BERTH_EXIT_EXISTS);
        ck_assert_int_eq(berth_exit_code_from_errno(EBUSY), BERTH_EXIT_STATE);
        ck_assert_int_eq(berth_exit_code_from_errno(ENOSPC), BERTH_EXIT_RESOURCE);
        ck_assert_int_eq(berth_exit_code_from_errno(EIO), BERTH_EXIT_RESOURCE);
        ck_assert_int_eq(berth_exit_code_from_errno(ECHILD), BERTH_EXIT_RESOURCE);
        ck_assert_int_eq(berth_exit_code_from_errno(EXDEV), BERTH_EXIT_FAILURE);
        unsetenv("BERTH_DATA");
        ck_assert_str_eq(berth_data_dir(NULL), "/var/lib/berth");
        setenv("BERTH_DATA", "/srv/b", 1);
        ck_assert_str_eq(berth_data_dir(NULL), "/srv/b");
        ck_assert_str_eq(berth_data_dir("/x"), "/x");
        setenv("BERTH_DATA", "", 1);
        ck_assert_str_eq(berth_data_dir(NULL), "/var/lib/berth");
        unsetenv("BERTH_DATA");
}
END_TEST

START_TEST(clean_path)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"./etc/passwd", "etc/passwd"}, {"/abs//x/", "abs/x"}, {"./", ""}, {".", ""}, {"a/./b", "a/b"},
            {"..a/b..", "..a/b.."},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
                char buf[64];
                snprintf(buf, sizeof(buf), "%s", cases[i].in);
                ck_assert_int_eq(tmpl_clean_path(buf), 0);
                ck_assert_str_eq(buf, cases[i].out);
        }
        char bad[] = "a/../../b";
        ck_assert_int_eq(tmpl_clean_path(bad), -EINVAL);
}
END_TEST

/* ---- debootstrap -------------------------------------------------------- */

START_TEST(mirror_from_apt_sources)
{
        char dir[512], p[1024];
        pathf(dir, sizeof(dir), "%s/apt", data);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        pathf(p, sizeof(p), "%s/sources.list.d", dir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        struct berth_err err = {0};
        char *m = NULL;
        ck_assert_int_eq(berth_template_find_mirror(dir, "bookworm", &m, &err), -ENOENT);

        const char *list = "# comment\n"
                           "deb-src http://192.0.2.1/debian bookworm main\n"
                           "deb http://192.0.2.2/debian-security bookworm-security main\n"
                           "deb [arch=amd64 signed-by=/k.gpg] https://192.0.2.3/apt stable main\n"
                           "deb [ arch=amd64 ] http://192.0.2.4/debian trixie main\n";
        pathf(p, sizeof(p), "%s/sources.list", dir);
        write_file(p, list, strlen(list));
        ck_assert_int_eq(berth_template_find_mirror(dir, "bookworm", &m, &err), 0);
        ck_assert_str_eq(m, "http://192.0.2.4/debian"); /* no suite match: the first candidate */
        free(m);

        const char *deb822 = "Types: deb\nURIs: http://192.0.2.5/archive/debian/20250101T000000Z\n"
                             "Suites: bookworm bookworm-updates\nComponents: main\n\n"
                             "Types: deb\nURIs: http://192.0.2.6/debian\nSuites: bookworm\nEnabled: no\n";
        pathf(p, sizeof(p), "%s/sources.list.d/debian.sources", dir);
        write_file(p, deb822, strlen(deb822));
        pathf(p, sizeof(p), "%s/sources.list.d/ignored.list.disabled", dir);
        write_file(p, "deb http://192.0.2.7/debian bookworm main\n", 42);
        ck_assert_int_eq(berth_template_find_mirror(dir, "bookworm", &m, &err), 0);
        ck_assert_str_eq(m, "http://192.0.2.5/archive/debian/20250101T000000Z");
        free(m);
        ck_assert_int_eq(berth_template_find_mirror(dir, "trixie", &m, &err), 0);
        ck_assert_str_eq(m, "http://192.0.2.4/debian");
        free(m);
}
END_TEST

/* The debootstrap template's apt sources (runtime/vps/template/sources.c). */
START_TEST(apt_sources_text)
{
        char *t = NULL;
        ck_assert_int_eq(tmpl_sources_text("http://192.0.2.1/debian/", "bookworm", NULL, &t), 0);
        ck_assert_str_eq(t, "deb http://192.0.2.1/debian bookworm main\n"
                            "deb http://192.0.2.1/debian bookworm-updates main\n"
                            "deb http://192.0.2.1/debian-security bookworm-security main\n");
        free(t);
        ck_assert_int_eq(
            tmpl_sources_text("http://192.0.2.1/debian", "buster", "https://192.0.2.9/debian-security", &t),
            0);
        ck_assert_str_eq(t, "deb http://192.0.2.1/debian buster main\n"
                            "deb http://192.0.2.1/debian buster-updates main\n"
                            "deb https://192.0.2.9/debian-security buster/updates main\n");
        free(t);
        ck_assert_int_eq(tmpl_sources_text("http://192.0.2.1/debian", "sid", NULL, &t), 0);
        ck_assert_str_eq(t, "deb http://192.0.2.1/debian sid main\n");
        free(t);
        ck_assert_int_eq(tmpl_sources_text("http://192.0.2.1/ubuntu", "noble", NULL, &t), 0);
        ck_assert_str_eq(t, "deb http://192.0.2.1/ubuntu noble main\n"
                            "deb http://192.0.2.1/ubuntu noble-updates main\n"
                            "deb http://192.0.2.1/ubuntu noble-security main\n");
        free(t);
        /* A mirror of unknown layout: no guessed security archive. */
        ck_assert_int_eq(tmpl_sources_text("http://192.0.2.1/apt", "bookworm", NULL, &t), 0);
        ck_assert_str_eq(t, "deb http://192.0.2.1/apt bookworm main\n"
                            "deb http://192.0.2.1/apt bookworm-updates main\n");
        free(t);

        char *u =
            tmpl_sources_scan_security("# deb http://192.0.2.7/debian-security x main\n"
                                       "deb http://192.0.2.1/debian bookworm main\n"
                                       "deb http://192.0.2.2/debian-security/ bookworm-security main\n");
        ck_assert_str_eq(u, "http://192.0.2.2/debian-security");
        free(u);
        u = tmpl_sources_scan_security("Types: deb\nURIs: https://192.0.2.3/debian-security\n"
                                       "Suites: bookworm-security\nComponents: main\n");
        ck_assert_str_eq(u, "https://192.0.2.3/debian-security");
        free(u);
        ck_assert_ptr_null(tmpl_sources_scan_security("deb http://192.0.2.1/debian bookworm main\n"));

        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_include_check("openssh-server,nginx,g++,libc6.1", &err), 0);
        ck_assert_int_eq(berth_template_include_check("openssh-server,,nginx", &err), -EINVAL);
        ck_assert_int_eq(berth_template_include_check("Bad", &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "\"Bad\""));
        ck_assert_int_eq(berth_template_include_check("x;rm", &err), -EINVAL);
        ck_assert_int_eq(berth_template_include_check("--foo", &err), -EINVAL);
        ck_assert_int_eq(berth_template_include_check("", &err), -EINVAL);
        ck_assert_int_eq(berth_template_include_check("pkg,", &err), -EINVAL);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("template");
        struct {
                const char *name;
                const TTest *test;
                int timeout;
        } cases[] = {
            {"busybox_template", busybox_template, 10},
            {"busybox_twice_fails", busybox_twice_fails, 10},
            {"import_directory", import_directory, 10},
            {"import_keeps_xattrs", import_keeps_xattrs, 10},
            {"import_refuses_store_parent", import_refuses_store_parent, 10},
            {"import_tarball_gz", import_tarball_gz, 10},
            {"import_tarball_zst", import_tarball_zst, 10},
            {"import_oci_archive", import_oci_archive, 10},
            {"import_docker_archive", import_docker_archive, 10},
            {"import_failures_leave_nothing", import_failures_leave_nothing, 10},
            {"import_invalid_name", import_invalid_name, 10},
            {"list_and_remove", list_and_remove, 10},
            {"remove_refused_while_used", remove_refused_while_used, 10},
            {"cli_exit_codes", cli_exit_codes, 10},
            {"exit_codes_and_data_dir", exit_codes_and_data_dir, 10},
            {"clean_path", clean_path, 10},
            {"mirror_from_apt_sources", mirror_from_apt_sources, 10},
            {"apt_sources_text", apt_sources_text, 10},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
                TCase *tc = tcase_create(cases[i].name);
                tcase_add_unchecked_fixture(tc, tmpl_setup, tmpl_teardown);
                tcase_set_timeout(tc, cases[i].timeout);
                tcase_add_test(tc, cases[i].test);
                suite_add_tcase(s, tc);
        }
        return s;
}
