// SPDX-License-Identifier: GPL-2.0-or-later
/* What runc v1.1.5's own integration suite (tests/conformance/runc-bats.sh)
 * found berth doing differently from runc: the default spec's namespaces
 * on a host that is not pure cgroup v2, the cwd of createContainer hooks,
 * and the key order of the state JSON that scripts match as text. */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* `berth spec` has a cgroup namespace only where runc's has one: on a
 * pure v2 host. Elsewhere a container made from it sees its real cgroup
 * path (runc's "cgroup v1+hybrid joins correct cgroup" test), and the
 * suite's configs that add a cgroup namespace themselves stay valid. */
START_TEST(spec_cgroupns_like_runc)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("spec");
        itest_rt(&r, "spec", "--bundle", dir, NULL);
        itest_assert_status(&r, 0);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/config.json", dir);
        json_error_t jerr;
        json_t *spec = json_load_file(path, 0, &jerr);
        ck_assert_msg(spec, "config.json: %s", jerr.text);

        struct statfs fs;
        bool unified = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
        json_t *nss = json_object_get(json_object_get(spec, "linux"), "namespaces"), *ns;
        size_t i;
        bool cgroupns = false;
        json_array_foreach(nss, i, ns)
        {
                if (strcmp(json_string_value(json_object_get(ns, "type")) ?: "", "cgroup") == 0)
                        cgroupns = true;
        }
        ck_assert_msg(cgroupns == unified, "cgroup namespace in the default spec: %d, pure v2 host: %d",
                      cgroupns, unified);

        /* A container with exactly those namespaces, and the suite's
         * config that adds a cgroup namespace on top of them. */
        json_t *cfg = itest_spec("cat", "/proc/self/cgroup", NULL);
        itest_set(cfg, "linux.namespaces", json_deep_copy(nss));
        struct itest_bundle b;
        itest_bundle_new(&b, "specns", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        if (!unified)
                ck_assert_msg(strstr(r.out, b.id), "the container does not see its cgroup path:\n%s", r.out);
        itest_assert_clean(b.id, b.dir);

        if (!cgroupns)
                itest_push(cfg, "linux.namespaces", json_pack("{s:s}", "type", "cgroup"));
        itest_bundle_new(&b, "specns2", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, ":memory:/\n") || strstr(r.out, "0::/\n"),
                      "not in a cgroup namespace of its own:\n%s", r.out);
        itest_assert_clean(b.id, b.dir);
        json_decref(cfg);
        json_decref(spec);
}
END_TEST

/* createContainer hooks run in the container's mount namespace with the
 * rootfs as cwd, as runc's: hooks written for runc use relative paths
 * ("touch ./lib/x && mount --bind ... ./lib/x", runc's hooks.bats). The
 * hook leaves a mark in a tmpfs of the container that the process then
 * reads from the inside. */
START_TEST(create_container_hook_cwd)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "read", "/mnt/hook-cwd", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/mnt", "type", "tmpfs", "source",
                             "tmpfs", "options", "mode=755"));
        itest_set(cfg, "hooks.createContainer",
                  json_pack("[{s:s, s:[s, s, s]}]", "path", "/bin/sh", "args", "sh", "-c",
                            "test -d ./mnt && test -d ./proc && touch ./mnt/hook-cwd"));
        itest_run_cfg(&r, "hookcwd", cfg);
        itest_assert_status(&r, 0);
        ck_assert_msg(strcmp(itest_kv(r.out, "read:/mnt/hook-cwd") ?: "", "ok") == 0,
                      "the hook did not run in the rootfs:\n%s%s", r.out, r.err);
        json_decref(cfg);
}
END_TEST

/* state and list --format json: pid before status, in runc's order. */
START_TEST(state_json_key_order)
{
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "order", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "list", "--format", "json", NULL);
        itest_assert_status(&r, 0);
        const char *me = strstr(r.out, b.id);
        ck_assert_msg(me, "not listed:\n%s", r.out);
        const char *pid = strstr(me, "\"pid\":"), *status = strstr(me, "\"status\":");
        ck_assert_msg(pid && status && pid < status, "list: pid not before status:\n%s", r.out);
        itest_rt(&r, "state", b.id, NULL);
        itest_assert_status(&r, 0);
        pid = strstr(r.out, "\"pid\":");
        status = strstr(r.out, "\"status\":");
        ck_assert_msg(pid && status && pid < status, "state: pid not before status:\n%s", r.out);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/runc_bats");
        itest_add(s, "spec_cgroupns_like_runc", spec_cgroupns_like_runc);
        itest_add(s, "create_container_hook_cwd", create_container_hook_cwd);
        itest_add(s, "state_json_key_order", state_json_key_order);
        return s;
}
