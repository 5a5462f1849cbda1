/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk and I/O limits as vps.json and OCI resources see them (no root):
 * runtime/vps/disk_limits.c and the blockIO of the VPS's config. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/spec.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static const char sample[] =
    "{\"name\": \"web1\", \"template\": \"bb\", \"hostname\": \"web1\","
    " \"limits\": {\"disk\": 1073741824, \"inodes\": 65536, \"io_read_bps\": 104857600,"
    " \"io_write_bps\": 52428800, \"io_write_iops\": 2000},"
    " \"disk\": {\"backend\": \"project\", \"project_id\": 1073807360},"
    " \"net\": {\"mode\": \"routed\", \"host_if\": \"bth01234567\", \"addresses\": []}}";

START_TEST(test_disk_round_trip)
{
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_config_parse(sample, strlen(sample), &cfg, &err) == 0, "%s", err.msg);
        ck_assert(cfg.limits.has_disk && cfg.limits.disk == 1073741824);
        ck_assert(cfg.limits.has_inodes && cfg.limits.inodes == 65536);
        ck_assert(cfg.limits.has_io_rbps && cfg.limits.io_rbps == 104857600);
        ck_assert(cfg.limits.has_io_wbps && cfg.limits.io_wbps == 52428800);
        ck_assert(!cfg.limits.has_io_riops);
        ck_assert(cfg.limits.has_io_wiops && cfg.limits.io_wiops == 2000);
        ck_assert_int_eq(cfg.disk.backend, BERTH_VPS_DISK_PROJECT);
        ck_assert_uint_eq(cfg.disk.project_id, 1073807360u);
        char *text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
        ck_assert(again.limits.has_disk && again.limits.disk == cfg.limits.disk);
        ck_assert(again.limits.has_io_wiops && again.limits.io_wiops == 2000);
        ck_assert(!again.limits.has_io_riops);
        ck_assert_int_eq(again.disk.backend, BERTH_VPS_DISK_PROJECT);
        ck_assert_uint_eq(again.disk.project_id, cfg.disk.project_id);
        ck_assert_str_eq(berth_vps_disk_backend_name(again.disk.backend), "project");
        free(text);
        berth_vps_config_clear(&again);
        berth_vps_config_clear(&cfg);
}
END_TEST

/* An image's file system: kept as "fs"; an image from before has none
 * and is ext4. */
START_TEST(test_disk_image_fs)
{
        static const char *const docs[] = {
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"image\","
            "\"fs\":\"btrfs\"},\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"image\"},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
        };
        static const enum berth_vps_disk_fs want[] = {BERTH_VPS_DISK_FS_BTRFS, BERTH_VPS_DISK_FS_EXT4};
        for (size_t i = 0; i < 2; i++) {
                struct berth_vps_config cfg, again;
                struct berth_err err = {0};
                ck_assert_msg(berth_vps_config_parse(docs[i], strlen(docs[i]), &cfg, &err) == 0, "%s",
                              err.msg);
                ck_assert_int_eq(cfg.disk.backend, BERTH_VPS_DISK_IMAGE);
                ck_assert_int_eq(cfg.disk.fs, want[i]);
                char *text = berth_vps_config_format(&cfg);
                ck_assert_ptr_nonnull(text);
                ck_assert_ptr_nonnull(strstr(text, i == 0 ? "\"btrfs\"" : "\"ext4\""));
                ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
                ck_assert_int_eq(again.disk.fs, want[i]);
                free(text);
                berth_vps_config_clear(&again);
                berth_vps_config_clear(&cfg);
        }
        ck_assert_str_eq(berth_vps_disk_fs_name(BERTH_VPS_DISK_FS_BTRFS), "btrfs");
}
END_TEST

START_TEST(test_disk_invalid)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        static const char *const bad[] = {
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"zfs\"},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            /* a project without its id */
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"project\"},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"disk\":{\"backend\":\"image\","
            "\"fs\":\"zfs\"},\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"limits\":{\"disk\":-1},"
            "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_int_eq(berth_vps_config_parse(bad[i], strlen(bad[i]), &cfg, &err), -EINVAL);
                ck_assert_ptr_nonnull(strstr(err.msg, "disk"));
        }
}
END_TEST

/* The I/O limits become the four throttles on the disk's device; unset
 * ones are rate 0 ("no limit"), so the container joins blkio either way. */
START_TEST(test_io_resources)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        ck_assert_int_eq(berth_vps_config_parse(sample, strlen(sample), &cfg, &err), 0);
        struct berth_resources *r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        for (int k = 0; k < 4; k++)
                ck_assert_uint_eq(r->blkio.n_throttle[k], 0); /* no device known: none */
        berth_resources_free(r);

        cfg.limits.io_major = 7;
        cfg.limits.io_minor = 3;
        r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        const uint64_t want[4] = {104857600, 52428800, 0, 2000}; /* rbps, wbps, riops, wiops */
        for (int k = 0; k < 4; k++) {
                ck_assert_uint_eq(r->blkio.n_throttle[k], 1);
                ck_assert_int_eq(r->blkio.throttle[k][0].major, 7);
                ck_assert_int_eq(r->blkio.throttle[k][0].minor, 3);
                ck_assert_uint_eq(r->blkio.throttle[k][0].rate, want[k]);
        }
        berth_resources_free(r);

        /* No I/O limit: no blockIO (the VPS stays out of blkio). */
        cfg.limits.has_io_rbps = cfg.limits.has_io_wbps = cfg.limits.has_io_wiops = false;
        r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        for (int k = 0; k < 4; k++)
                ck_assert_uint_eq(r->blkio.n_throttle[k], 0);
        berth_resources_free(r);
        berth_vps_config_clear(&cfg);
}
END_TEST

/* A quota warning as fs/quota/netlink.c sends it: u32 type, u64 id, u32
 * warning, u32 major and minor, u64 causer. Returns its length. */
static size_t quota_warning(char *buf, uint32_t qtype, uint64_t id, uint32_t warning, uint32_t major,
                            uint32_t minor)
{
        struct nlmsghdr *nh = (struct nlmsghdr *)buf;
        char *p = buf + NLMSG_HDRLEN + GENL_HDRLEN;
        struct {
                uint16_t type;
                uint64_t v;
                size_t len;
        } a[] = {{QUOTA_NL_A_QTYPE, qtype, 4},     {QUOTA_NL_A_EXCESS_ID, id, 8},
                 {QUOTA_NL_A_WARNING, warning, 4}, {QUOTA_NL_A_DEV_MAJOR, major, 4},
                 {QUOTA_NL_A_DEV_MINOR, minor, 4}, {QUOTA_NL_A_CAUSED_ID, 0, 8}};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
                struct nlattr na = {.nla_len = (uint16_t)(NLA_HDRLEN + a[i].len), .nla_type = a[i].type};
                memcpy(p, &na, sizeof(na));
                memcpy(p + NLA_HDRLEN, &a[i].v, a[i].len); /* little-endian */
                p += NLA_ALIGN(na.nla_len);
        }
        memset(buf + NLMSG_HDRLEN, 0, GENL_HDRLEN);
        buf[NLMSG_HDRLEN] = QUOTA_NL_C_WARNING;
        nh->nlmsg_len = (uint32_t)(p - buf);
        nh->nlmsg_type = GENL_ID_VFS_DQUOT;
        nh->nlmsg_flags = 0;
        return nh->nlmsg_len;
}

/* Only hard-limit warnings of the VPS's own project on its own file
 * system count: blocks and inodes apart. */
START_TEST(test_quota_warnings)
{
        char buf[512] __attribute__((aligned(8)));
        struct vps_disk_hits h = {
            .backend = BERTH_VPS_DISK_PROJECT, .project_id = 1073741824, .dev = makedev(7, 3)};
        size_t n = quota_warning(buf, 2 /* PRJQUOTA */, 1073741824, QUOTA_NL_BHARDWARN, 7, 3);
        ck_assert(vps_disk_hits_datagram(&h, buf, n));
        n = quota_warning(buf, 2, 1073741824, QUOTA_NL_IHARDWARN, 7, 3);
        ck_assert(vps_disk_hits_datagram(&h, buf, n));
        ck_assert_uint_eq(h.n[0], 1);
        ck_assert_uint_eq(h.n[1], 1);
        /* Not ours: another project, a user quota, another device, a soft limit. */
        n = quota_warning(buf, 2, 1073807360, QUOTA_NL_BHARDWARN, 7, 3);
        ck_assert(!vps_disk_hits_datagram(&h, buf, n));
        n = quota_warning(buf, 0 /* USRQUOTA */, 1073741824, QUOTA_NL_BHARDWARN, 7, 3);
        ck_assert(!vps_disk_hits_datagram(&h, buf, n));
        n = quota_warning(buf, 2, 1073741824, QUOTA_NL_BHARDWARN, 7, 4);
        ck_assert(!vps_disk_hits_datagram(&h, buf, n));
        n = quota_warning(buf, 2, 1073741824, QUOTA_NL_BSOFTWARN, 7, 3);
        ck_assert(!vps_disk_hits_datagram(&h, buf, n));
        /* Truncated: ignored. */
        n = quota_warning(buf, 2, 1073741824, QUOTA_NL_BHARDWARN, 7, 3);
        ck_assert(!vps_disk_hits_datagram(&h, buf, n - 12));
        ck_assert_uint_eq(h.n[0], 1);
        ck_assert_uint_eq(h.n[1], 1);
}
END_TEST

START_TEST(test_hits_file)
{
        char path[] = "/tmp/berth-test-hits.XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        uint64_t n[2] = {9, 9};
        bool full[2] = {true, true};
        ck_assert_int_eq(vps_disk_hits_read(path, n, full), -EINVAL); /* empty */
        ck_assert(write(fd, "disk 12 inodes 3\n", 17) == 17);
        ck_assert_int_eq(vps_disk_hits_read(path, n, full), 0);
        ck_assert_uint_eq(n[0], 12);
        ck_assert_uint_eq(n[1], 3);
        ck_assert(!full[0] && !full[1]); /* no last look: not full */
        ck_assert(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "disk 12 inodes 4 full 1 0\n", 26) == 26);
        close(fd);
        ck_assert_int_eq(vps_disk_hits_read(path, n, full), 0);
        ck_assert_uint_eq(n[1], 4);
        ck_assert(full[0] && !full[1]);
        unlink(path);
        ck_assert_int_eq(vps_disk_hits_read(path, n, NULL), -ENOENT);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_disk");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_disk_round_trip);
        tcase_add_test(tc, test_disk_image_fs);
        tcase_add_test(tc, test_disk_invalid);
        tcase_add_test(tc, test_io_resources);
        tcase_add_test(tc, test_quota_warnings);
        tcase_add_test(tc, test_hits_file);
        suite_add_tcase(s, tc);
        return s;
}
