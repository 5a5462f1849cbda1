/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the VPS store and config generation (no root needed). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cpu_weight.h"
#include "berth/lxcfs.h"
#include "check_main.h"
#include "berth/spec.h"
#include "berth/template.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

START_TEST(test_names)
{
        ck_assert(berth_vps_name_valid("web1"));
        ck_assert(berth_vps_name_valid("a-b-9"));
        ck_assert(!berth_vps_name_valid(""));
        ck_assert(!berth_vps_name_valid("-a"));
        ck_assert(!berth_vps_name_valid("A"));
        ck_assert(!berth_vps_name_valid("a/b"));
        ck_assert(!berth_vps_name_valid("a.b"));
        char long_name[BERTH_VPS_NAME_MAX + 2];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        ck_assert(!berth_vps_name_valid(long_name));
        char ifn[16], ifn2[16], ifn3[16];
        berth_vps_host_ifname("web1", 0, ifn);
        berth_vps_host_ifname("web1", 0, ifn2);
        berth_vps_host_ifname("web1", 1, ifn3);
        ck_assert_str_eq(ifn, ifn2);
        ck_assert_str_ne(ifn, ifn3);
        ck_assert_uint_eq(strlen(ifn), 11);
        ck_assert(!strncmp(ifn, "bth", 3));
}
END_TEST

START_TEST(test_sizes)
{
        int64_t v;
        ck_assert_int_eq(berth_vps_parse_size("512M", &v), 0);
        ck_assert_int_eq(v, 512ll << 20);
        ck_assert_int_eq(berth_vps_parse_size("2G", &v), 0);
        ck_assert_int_eq(v, 2ll << 30);
        ck_assert_int_eq(berth_vps_parse_size("1024", &v), 0);
        ck_assert_int_eq(v, 1024);
        ck_assert_int_eq(berth_vps_parse_size("1GiB", &v), 0);
        ck_assert_int_eq(v, 1ll << 30);
        ck_assert_int_lt(berth_vps_parse_size("-1", &v), 0);
        ck_assert_int_eq(berth_vps_parse_size("1.5G", &v), 0);
        ck_assert_int_eq(v, 1536LL << 20);
        ck_assert_int_eq(berth_vps_parse_size("0.5M", &v), 0);
        ck_assert_int_eq(v, 512LL << 10);
        ck_assert_int_eq(berth_vps_parse_size(".25KiB", &v), 0);
        ck_assert_int_eq(v, 256);
        ck_assert_int_lt(berth_vps_parse_size("1.5", &v), 0);
        ck_assert_int_lt(berth_vps_parse_size(".", &v), 0);
        ck_assert_int_lt(berth_vps_parse_size(".G", &v), 0);
        ck_assert_int_lt(berth_vps_parse_size("1.5X", &v), 0);
        ck_assert_int_lt(berth_vps_parse_size("12X", &v), 0);
        ck_assert_int_lt(berth_vps_parse_size("", &v), 0);
        uint64_t q;
        ck_assert_int_eq(berth_vps_parse_cpus("1.5", &q), 0);
        ck_assert_uint_eq(q, 150000);
        ck_assert_int_eq(berth_vps_parse_cpus("2", &q), 0);
        ck_assert_uint_eq(q, 200000);
        ck_assert_int_eq(berth_vps_parse_cpus(".25", &q), 0);
        ck_assert_uint_eq(q, 25000);
        ck_assert_int_lt(berth_vps_parse_cpus("0", &q), 0);
        ck_assert_int_lt(berth_vps_parse_cpus("abc", &q), 0);
        ck_assert_int_lt(berth_vps_parse_cpus("1.5x", &q), 0);
        ck_assert_int_lt(berth_vps_parse_cpus(".", &q), 0);
        ck_assert_int_eq(berth_vps_parse_cpus("0.1239", &q), 0);
        ck_assert_int_eq(q, 12300);
}
END_TEST

/* Every weight survives weight -> shares (config) -> weight (cgroup v2). */
START_TEST(test_weight_round_trip)
{
        for (uint64_t w = 1; w <= 10000; w++)
                ck_assert_msg(berth_cpu_shares_to_weight(berth_cpu_weight_to_shares(w)) == w,
                              "weight %llu -> %llu -> %llu", (unsigned long long)w,
                              (unsigned long long)berth_cpu_weight_to_shares(w),
                              (unsigned long long)berth_cpu_shares_to_weight(berth_cpu_weight_to_shares(w)));
        ck_assert_uint_eq(berth_cpu_weight_to_shares(100), 1024);
        /* --cpu-weight 200 is twice the default share: on v1 linearly,
         * on v2 as cpu.weight 200 after the runtime's curve. */
        ck_assert_uint_eq(vps_cpu_weight_shares(100, true), 1024);
        ck_assert_uint_eq(vps_cpu_weight_shares(200, true), 2048);
        ck_assert_uint_eq(vps_cpu_weight_shares(1, true), 10);
        ck_assert_uint_eq(vps_cpu_weight_shares(10000, true), 102400);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(vps_cpu_weight_shares(200, false)), 200);
        ck_assert_uint_eq(berth_cpu_shares_to_weight(vps_cpu_weight_shares(100, false)), 100);
}
END_TEST

static const char sample[] =
    "{\"name\": \"web1\", \"template\": \"bb\", \"hostname\": \"web1.example\", \"autostart\": true,"
    " \"stop_signal\": 30, \"init\": [\"/sbin/init\", \"quiet\"],"
    " \"limits\": {\"memory\": 536870912, \"swap\": 0, \"cpu_quota\": 150000, \"cpu_weight\": 200, \"pids\": "
    "512},"
    " \"net\": {\"mode\": \"routed\", \"host_if\": \"bth01234567\", \"gateway4\": null,"
    " \"addresses\": [\"192.0.2.10/32\", \"2001:db8::10/128\"], \"nameservers\": [\"192.0.2.53\"]}}";

START_TEST(test_config_round_trip)
{
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_config_parse(sample, strlen(sample), &cfg, &err) == 0, "%s", err.msg);
        ck_assert_str_eq(cfg.hostname, "web1.example");
        ck_assert(cfg.autostart);
        ck_assert_int_eq(cfg.stop_signal, 30);
        ck_assert_str_eq(cfg.init[1], "quiet");
        ck_assert(cfg.limits.has_memory && cfg.limits.memory == 536870912);
        ck_assert(cfg.limits.has_swap && cfg.limits.swap == 0);
        ck_assert_uint_eq(cfg.limits.cpu_quota, 150000);
        ck_assert_int_eq(cfg.net.mode, BERTH_NET_ROUTED);
        ck_assert_uint_eq(cfg.net.n_addrs, 2);
        ck_assert_uint_eq(cfg.net.n_nameservers, 1);
        char *text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
        ck_assert_str_eq(again.net.host_if, "bth01234567");
        ck_assert_uint_eq(again.net.n_addrs, 2);
        ck_assert(berth_ip_addr_equal(&again.net.addrs[1], &cfg.net.addrs[1]));
        ck_assert_int_eq(again.limits.pids, 512);
        free(text);
        berth_vps_config_clear(&again);
        berth_vps_config_clear(&cfg);
}
END_TEST

START_TEST(test_config_invalid)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        ck_assert_int_eq(berth_vps_config_parse("{", 1, &cfg, &err), -EINVAL);
        const char *bad_mode = "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\","
                               "\"net\":{\"mode\":\"nat\",\"host_if\":\"bth1\"}}";
        ck_assert_int_eq(berth_vps_config_parse(bad_mode, strlen(bad_mode), &cfg, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "net.mode"));
        const char *bad_name = "{\"name\":\"../x\",\"template\":\"t\",\"hostname\":\"a\","
                               "\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}";
        ck_assert_int_eq(berth_vps_config_parse(bad_name, strlen(bad_name), &cfg, &err), -EINVAL);
}
END_TEST

/* --userns, vps.json's "userns" and the range allocation. */
START_TEST(test_userns_config)
{
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        /* vps.json from before user namespaces: privileged, as made. */
        ck_assert_int_eq(berth_vps_config_parse(sample, strlen(sample), &cfg, &err), 0);
        ck_assert(!cfg.userns.enabled);
        cfg.userns = (struct berth_vps_userns){.enabled = true, .host_id = 1u << 30, .size = 65536};
        char *text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(strstr(text, "\"host_id\": 1073741824"));
        ck_assert_int_eq(berth_vps_config_parse(text, strlen(text), &again, &err), 0);
        ck_assert(again.userns.enabled && again.userns.host_id == 1u << 30 && again.userns.size == 65536);
        free(text);
        berth_vps_config_clear(&again);
        cfg.userns.enabled = false;
        text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(strstr(text, "\"userns\": \"none\""));
        ck_assert_int_eq(berth_vps_config_parse(text, strlen(text), &again, &err), 0);
        ck_assert(!again.userns.enabled);
        free(text);
        berth_vps_config_clear(&again);
        berth_vps_config_clear(&cfg);
        const char *bad = "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"userns\":{\"host_id\":0,"
                          "\"size\":65536},\"net\":{\"mode\":\"routed\",\"host_if\":\"bth1\"}}";
        ck_assert_int_eq(berth_vps_config_parse(bad, strlen(bad), &cfg, &err), -EINVAL);

        struct berth_vps_userns u;
        ck_assert_int_eq(berth_vps_userns_parse(NULL, &u, &err), 0);
        ck_assert(u.enabled && u.host_id == 0 && u.size == BERTH_VPS_USERNS_SIZE);
        ck_assert_int_eq(berth_vps_userns_parse("none", &u, &err), 0);
        ck_assert(!u.enabled);
        ck_assert_int_eq(berth_vps_userns_parse("200000", &u, &err), 0);
        ck_assert(u.enabled && u.host_id == 200000);
        ck_assert_int_eq(berth_vps_userns_parse("0", &u, &err), -EINVAL); /* host root */
        ck_assert_int_eq(berth_vps_userns_parse("4294967000", &u, &err), -EINVAL);
        ck_assert_int_eq(berth_vps_userns_parse("-5", &u, &err), -EINVAL);
}
END_TEST

START_TEST(test_userns_pick)
{
        struct berth_err err = {0};
        const uint32_t B = BERTH_VPS_USERNS_BASE, S = BERTH_VPS_USERNS_SIZE;
        struct berth_vps_userns used[3] =
            {
                {.enabled = true, .host_id = B, .size = S},
                {.enabled = false},                                 /* privileged: takes no range */
                {.enabled = true, .host_id = B + S + 5, .size = S}, /* an explicit, unaligned one */
            },
                                got;
        ck_assert_int_eq(berth_vps_userns_pick(NULL, 0, &got, &err), 0);
        ck_assert_uint_eq(got.host_id, B);
        ck_assert_int_eq(berth_vps_userns_pick(used, 3, &got, &err), 0);
        ck_assert_uint_eq(got.host_id, B + 3 * S); /* B+S and B+2S touch the unaligned one */
        for (size_t i = 0; i < 3; i++)
                ck_assert(!berth_vps_userns_overlap(&got, &used[i]));
        /* Any order (the pick sorts), a gap below a range that reaches
         * into the next aligned one, and a one-id use (a host user). */
        struct berth_vps_userns mixed[4] = {
            {.enabled = true, .host_id = B + 2 * S, .size = S},
            {.enabled = true, .host_id = B + S / 2, .size = S},
            {.enabled = true, .host_id = B + 4 * S + 7, .size = 1},
            {.enabled = true, .host_id = B + 3 * S, .size = S},
        };
        ck_assert_int_eq(berth_vps_userns_pick(mixed, 4, &got, &err), 0);
        ck_assert_uint_eq(got.host_id, B + 5 * S);
        mixed[2].enabled = false;
        ck_assert_int_eq(berth_vps_userns_pick(mixed, 4, &got, &err), 0);
        ck_assert_uint_eq(got.host_id, B + 4 * S);
        struct berth_vps_userns a = {.enabled = true, .host_id = 100, .size = 10};
        struct berth_vps_userns b = {.enabled = true, .host_id = 109, .size = 10};
        ck_assert(berth_vps_userns_overlap(&a, &b));
        b.host_id = 110;
        ck_assert(!berth_vps_userns_overlap(&a, &b));
        /* Every range taken: ENOSPC. */
        size_t n = (BERTH_VPS_USERNS_LIMIT - B) / S;
        struct berth_vps_userns *all = calloc(n, sizeof(*all));
        for (size_t i = 0; i < n; i++)
                all[i] =
                    (struct berth_vps_userns){.enabled = true, .host_id = B + (uint32_t)i * S, .size = S};
        ck_assert_int_eq(berth_vps_userns_pick(all, n, &got, &err), -ENOSPC);
        free(all);
}
END_TEST

/* A guest systemd needs a writable cgroup2 tree of its own: the unified
 * hierarchy, mounted read-write inside the VPS's cgroup namespace, wherever
 * the host has one (pure v2 or hybrid). */
static void check_cgroup_mount(const struct berth_spec *s)
{
        struct statfs root, unified;
        bool v2 = (statfs("/sys/fs/cgroup", &root) == 0 && root.f_type == CGROUP2_SUPER_MAGIC) ||
                  (statfs("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC);
        ck_assert(s->namespaces[BERTH_NS_CGROUP].present);
        const struct berth_mount *m = NULL;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (strcmp(s->mounts[i].destination, "/sys/fs/cgroup") == 0)
                        m = &s->mounts[i];
        ck_assert_ptr_nonnull(m);
        if (!v2)
                return;
        ck_assert_str_eq(m->type, "cgroup2");
        ck_assert(!(m->flags & MS_RDONLY));
        ck_assert(m->flags & MS_NOSUID);
}

START_TEST(test_spec_json)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        ck_assert_int_eq(berth_vps_config_parse(sample, strlen(sample), &cfg, &err), 0);
        char *const init[] = {"/sbin/init", NULL};
        char *json = berth_spec_vps_json(&cfg, init, "berth-vps-web1", &err);
        ck_assert_msg(json != NULL, "%s", err.msg);
        struct berth_spec *s = berth_spec_parse(json, strlen(json), &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_str_eq(s->cgroups_path, "berth-vps-web1");
        ck_assert_str_eq(s->hostname, "web1.example");
        ck_assert_str_eq(s->process.args[0], "/sbin/init");
        ck_assert(s->process.terminal); /* the console, kept by the keeper */
        ck_assert(!s->root_readonly);
        ck_assert(s->namespaces[BERTH_NS_NET].present && !s->namespaces[BERTH_NS_NET].path);
        ck_assert(s->namespaces[BERTH_NS_PID].present);
        ck_assert_int_eq(s->resources.memory.limit.v, 536870912);
        ck_assert_int_eq(s->resources.memory.swap.v, 536870912); /* memory + 0 swap */
        ck_assert_int_eq(s->resources.cpu.quota.v, 150000);
        ck_assert_uint_eq(s->resources.cpu.period.v, 100000);
        enum berth_cgroup_layout layout;
        bool v1 = berth_cgroup_detect_layout(&layout, &err) == 0 && layout != BERTH_CG_UNIFIED;
        ck_assert_uint_eq(s->resources.cpu.shares.v, vps_cpu_weight_shares(200, v1));
        ck_assert_int_eq(s->resources.pids_limit.v, 512);
        check_cgroup_mount(s);
        ck_assert(!s->namespaces[BERTH_NS_USER].present); /* privileged (no "userns" in vps.json) */
        berth_spec_free(s);
        free(json);

        /* Its own user namespace: created with the others, one range for
         * uids and gids. */
        cfg.userns = (struct berth_vps_userns){.enabled = true, .host_id = 1u << 30, .size = 65536};
        json = berth_spec_vps_json(&cfg, init, "berth-vps-web1", &err);
        ck_assert_msg(json != NULL, "%s", err.msg);
        s = berth_spec_parse(json, strlen(json), &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert(s->namespaces[BERTH_NS_USER].present && !s->namespaces[BERTH_NS_USER].path);
        ck_assert_uint_eq(s->n_uid_mappings, 1);
        ck_assert_uint_eq(s->n_gid_mappings, 1);
        ck_assert_uint_eq(s->uid_mappings[0].container_id, 0);
        ck_assert_uint_eq(s->uid_mappings[0].host_id, 1u << 30);
        ck_assert_uint_eq(s->gid_mappings[0].size, 65536);
        berth_spec_free(s);
        free(json);

        /* Unset limits are present as "unlimited" (joins the hierarchies). */
        memset(&cfg.limits, 0, sizeof(cfg.limits));
        struct berth_resources *r = berth_vps_resources(&cfg.limits, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        ck_assert(r->memory.limit.set && r->memory.limit.v == -1);
        ck_assert(r->pids_limit.set && r->pids_limit.v == -1);
        ck_assert(r->cpu.quota.set && r->cpu.quota.v == -1);
        ck_assert_uint_eq(r->cpu.shares.v, 1024);
        berth_resources_free(r);
        berth_vps_config_clear(&cfg);
}
END_TEST

/* --device names: the allow-list only, kept in vps.json. */
START_TEST(test_devices)
{
        unsigned bit = 0;
        ck_assert_int_eq(berth_vps_device_parse("tun", &bit), 0);
        ck_assert_uint_eq(bit, BERTH_VPS_DEV_TUN);
        ck_assert_int_eq(berth_vps_device_parse("kvm", &bit), -EINVAL);
        ck_assert_int_eq(berth_vps_device_parse("", &bit), -EINVAL);
        char names[64];
        berth_vps_devices_format(BERTH_VPS_DEV_TUN | BERTH_VPS_DEV_PPP, names, sizeof(names));
        ck_assert_str_eq(names, "tun,ppp");
        berth_vps_devices_format(0, names, sizeof(names));
        ck_assert_str_eq(names, "");

        const char *doc =
            "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"devices\":[\"fuse\",\"tun\"],"
            "\"net\":{\"mode\":\"bridged\",\"host_if\":\"bth1\",\"bridge\":\"berth0\"}}";
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_config_parse(doc, strlen(doc), &cfg, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(cfg.devices, BERTH_VPS_DEV_TUN | BERTH_VPS_DEV_FUSE);
        char *text = berth_vps_config_format(&cfg);
        ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(again.devices, cfg.devices);
        free(text);
        berth_vps_config_clear(&again);
        berth_vps_config_clear(&cfg);
        const char *bad = "{\"name\":\"a\",\"template\":\"t\",\"hostname\":\"a\",\"devices\":[\"kvm\"],"
                          "\"net\":{\"mode\":\"bridged\",\"host_if\":\"bth1\",\"bridge\":\"berth0\"}}";
        ck_assert_int_eq(berth_vps_config_parse(bad, strlen(bad), &cfg, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "devices"));
}
END_TEST

/* run.berth.lxcfs: the files lxcfs serves (only those) bound read-only
 * over the container's own, after its other mounts. */
START_TEST(test_lxcfs_mounts)
{
        char dir[] = "/tmp/berth-unit-lxcfs.XXXXXX", path[128];
        ck_assert_ptr_nonnull(mkdtemp(dir));
        static const char *const dirs[] = {"proc", "sys", "sys/devices", "sys/devices/system",
                                           "sys/devices/system/cpu"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
                ck_assert_int_eq(mkdir(path, 0755), 0);
        }
        static const char *const files[] = {"proc/meminfo", "proc/uptime", "sys/devices/system/cpu/online"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                FILE *f = fopen(path, "w");
                ck_assert_ptr_nonnull(f);
                fputs("0\n", f);
                fclose(f);
        }
        const char *cfg =
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"
            "\"cwd\":\"/\"},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
            "\"annotations\":{\"run.berth.lxcfs\":\"true\"}}";
        struct berth_err err = {0};
        struct berth_spec *s = berth_spec_parse(cfg, strlen(cfg), &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_int_eq(berth_spec_wants_lxcfs(s), BERTH_LXCFS_ON);
        ck_assert(!berth_lxcfs_running(dir)); /* a plain directory, not FUSE */
        size_t n = 0;
        ck_assert_msg(berth_spec_add_lxcfs(s, dir, &n, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(s->n_mounts, 4);
        ck_assert_str_eq(s->mounts[0].destination, "/proc");
        ck_assert_str_eq(s->mounts[1].destination, "/proc/meminfo");
        char src[128];
        snprintf(src, sizeof(src), "%s/proc/meminfo", dir);
        ck_assert_str_eq(s->mounts[1].source, src);
        ck_assert(s->mounts[1].bind && (s->mounts[1].flags & MS_RDONLY));
        ck_assert_str_eq(s->mounts[3].destination, "/sys/devices/system/cpu/online");
        berth_spec_free(s);
        const char *off =
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"
            "\"cwd\":\"/\"},\"annotations\":{\"run.berth.lxcfs\":\"false\"}}";
        s = berth_spec_parse(off, strlen(off), &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_int_eq(berth_spec_wants_lxcfs(s), BERTH_LXCFS_OFF);
        berth_spec_free(s);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                unlink(path);
        }
        for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
                snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
                rmdir(path);
        }
        rmdir(dir);
}
END_TEST

/* sysinfo(2) for a VPS (runtime/vps/sysinfo.c): the cgroup's memory and
 * swap within the host's, its tasks without the keeper on hybrid hosts. */
START_TEST(test_sysinfo_compute)
{
        struct sysinfo host = {.uptime = 90000,
                               .totalram = 4u << 20,
                               .freeram = 3u << 20,
                               .sharedram = 1u << 10,
                               .bufferram = 1u << 10,
                               .totalswap = 1u << 20,
                               .freeswap = 1u << 20,
                               .procs = 700,
                               .mem_unit = 4096};
        host.loads[0] = 12345;
        struct berth_cgroup_stats st = {0};
        st.memory.present = true;
        st.memory.limit = 256ull << 20;
        st.memory.usage = 56ull << 20;
        st.memory.swap_limit = (256ull + 64) << 20; /* v1 memsw: memory + swap */
        st.memory.swap_usage = (56ull + 4) << 20;
        st.pids.present = true;
        st.pids.current = 5;
        struct sysinfo out;
        ck_assert_int_eq(vps_sysinfo_compute(&host, &st, true, 42, &out), 0);
        ck_assert_uint_eq(out.mem_unit, 1);
        ck_assert_uint_eq(out.totalram, 256ull << 20);
        ck_assert_uint_eq(out.freeram, 200ull << 20);
        ck_assert_uint_eq(out.totalswap, 64ull << 20);
        ck_assert_uint_eq(out.freeswap, 60ull << 20);
        ck_assert_uint_eq(out.procs, 4); /* the keeper shares the cgroup */
        ck_assert_int_eq(out.uptime, 42);
        ck_assert_uint_eq(out.loads[0], 12345);
        ck_assert_uint_eq(out.sharedram, 0);
        ck_assert_uint_eq(out.bufferram, 0);

        /* v2: swap.max alone; a limit above the host's RAM and swap is the host's. */
        st.memory.limit = 64ull << 30;
        st.memory.swap_limit = 8ull << 30;
        st.memory.swap_usage = 0;
        ck_assert_int_eq(vps_sysinfo_compute(&host, &st, false, 1, &out), 0);
        ck_assert_uint_eq(out.totalram, 16ull << 30);
        ck_assert_uint_eq(out.totalswap, 4ull << 30);
        ck_assert_uint_eq(out.freeswap, 4ull << 30);
        ck_assert_uint_eq(out.procs, 5);

        /* Usage above the limit (v1 page cache can exceed it): none free. */
        st.memory.limit = 32ull << 20;
        ck_assert_int_eq(vps_sysinfo_compute(&host, &st, false, 1, &out), 0);
        ck_assert_uint_eq(out.freeram, 0);

        /* No limits: the host's. */
        st.memory.limit = BERTH_CG_UNLIMITED;
        st.memory.swap_limit = BERTH_CG_UNLIMITED;
        ck_assert_int_eq(vps_sysinfo_compute(&host, &st, true, 1, &out), 0);
        ck_assert_uint_eq(out.totalram, 16ull << 30);
        ck_assert_uint_eq(out.freeram, 12ull << 30);
        ck_assert_uint_eq(out.totalswap, 4ull << 30);
}
END_TEST

START_TEST(test_maps_writable)
{
        const char *maps = "1000-3000 rw-p 00000000 00:00 0 \n"
                           "3000-4000 r--p 00000000 00:00 0 \n"
                           "5000-6000 rw-s 00000000 00:00 0 /dev/shm/x\n"
                           "6000-7000 rw-p 00000000 00:00 0 [heap]\n";
        ck_assert(vps_maps_writable(maps, 0x1000, 0x100));
        ck_assert(vps_maps_writable(maps, 0x2f80, 0x80));
        ck_assert(!vps_maps_writable(maps, 0x2f80, 0x81)); /* into r--p */
        ck_assert(!vps_maps_writable(maps, 0x3000, 8));
        ck_assert(!vps_maps_writable(maps, 0x4800, 8));         /* unmapped */
        ck_assert(!vps_maps_writable(maps, 0x4ff0, 0x20));      /* a gap first */
        ck_assert(vps_maps_writable(maps, 0x5ff0, 0x20));       /* across two */
        ck_assert(!vps_maps_writable(maps, 0x6ff0, 0x20));      /* past the end */
        ck_assert(!vps_maps_writable(maps, UINT64_MAX - 4, 8)); /* wraps */
        ck_assert(!vps_maps_writable("", 0x1000, 1));
        ck_assert(!vps_maps_writable(maps, 0, 8));
}
END_TEST

/* The keeper's sync: which of a guest's mounts get a syncfs of their own
 * (block devices; the root is synced anyway), with mountinfo's escapes. */
START_TEST(test_sync_mounts)
{
        char mp[64];
        dev_t dev;
        ck_assert(
            vps_sync_mount_wanted("36 35 7:3 / / rw,relatime - ext4 /dev/loop3 rw\n", mp, sizeof(mp), &dev));
        ck_assert_str_eq(mp, "/");
        ck_assert_uint_eq(major(dev), 7);
        ck_assert_uint_eq(minor(dev), 3);
        ck_assert(vps_sync_mount_wanted("40 36 8:17 /d /mnt/my\\040disk rw - xfs /dev/sdb1 rw", mp,
                                        sizeof(mp), &dev));
        ck_assert_str_eq(mp, "/mnt/my disk");
        ck_assert_uint_eq(major(dev), 8);
        /* Anonymous devices: overlay, tmpfs, proc, devpts. */
        ck_assert(!vps_sync_mount_wanted("37 36 0:52 / / rw - overlay overlay rw", mp, sizeof(mp), &dev));
        ck_assert(!vps_sync_mount_wanted("38 36 0:5 / /dev rw - tmpfs tmpfs rw", mp, sizeof(mp), &dev));
        /* Too long for the buffer, or not a mount point: skipped. */
        ck_assert(
            !vps_sync_mount_wanted("40 36 8:17 / /a/very/long/mount/point/name rw - xfs x rw", mp, 8, &dev));
        ck_assert(!vps_sync_mount_wanted("garbage", mp, sizeof(mp), &dev));
        ck_assert(!vps_sync_mount_wanted("", mp, sizeof(mp), &dev));
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_sizes);
        tcase_add_test(tc, test_weight_round_trip);
        tcase_add_test(tc, test_config_round_trip);
        tcase_add_test(tc, test_config_invalid);
        tcase_add_test(tc, test_spec_json);
        tcase_add_test(tc, test_userns_config);
        tcase_add_test(tc, test_userns_pick);
        tcase_add_test(tc, test_devices);
        tcase_add_test(tc, test_lxcfs_mounts);
        tcase_add_test(tc, test_sysinfo_compute);
        tcase_add_test(tc, test_maps_writable);
        tcase_add_test(tc, test_sync_mounts);
        suite_add_tcase(s, tc);
        return s;
}
