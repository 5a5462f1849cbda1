/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the config.json parser (runtime/spec*.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/cgroup.h"
#include "berth/spec.h"

static struct berth_spec *parse(const char *json, struct berth_err *err)
{
        berth_err_clear(err);
        return berth_spec_parse(json, strlen(json), err);
}

#define cap_bit(c) (UINT64_C(1) << (c))

/* ---- a full config: every field lands where it should ------------------- */

static const char full_config[] =
    "{\n"
    "  \"ociVersion\": \"1.2.0\",\n"
    "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "  \"hostname\": \"box\", \"domainname\": \"example.org\",\n"
    "  \"unknownTopLevel\": {\"ignored\": [1, 2]},\n"
    "  \"process\": {\n"
    "    \"terminal\": true, \"consoleSize\": {\"height\": 25, \"width\": 80},\n"
    "    \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 6, 7]},\n"
    "    \"args\": [\"/bin/sh\", \"-c\", \"echo hi\"],\n"
    "    \"env\": [\"PATH=/bin\", \"EMPTY=\", \"A=b=c\"],\n"
    "    \"cwd\": \"/home\",\n"
    "    \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],\n"
    "                     \"inheritable\": [], \"permitted\": [\"CAP_SYS_ADMIN\"], \"ambient\": "
    "[\"CAP_NET_RAW\"]},\n"
    "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},\n"
    "                {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}],\n"
    "    \"noNewPrivileges\": true, \"oomScoreAdj\": -500,\n"
    "    \"apparmorProfile\": \"berth-default\", \"selinuxLabel\": \"system_u:system_r:container_t:s0\",\n"
    "    \"scheduler\": {\"policy\": \"SCHED_OTHER\"}\n"
    "  },\n"
    "  \"mounts\": [\n"
    "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "    {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\",\n"
    "     \"options\": [\"rbind\", \"ro\", \"rslave\"]},\n"
    "    {\"destination\": \"/idm\", \"type\": \"none\", \"source\": \"/srv/idm\", \"options\": [\"bind\", "
    "\"idmap\"],\n"
    "     \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
    "     \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000}]}\n"
    "  ],\n"
    "  \"hooks\": {\n"
    "    \"prestart\": [{\"path\": \"/usr/bin/pre\", \"args\": [\"pre\", \"x\"], \"env\": [\"A=1\"], "
    "\"timeout\": 5}],\n"
    "    \"createRuntime\": [{\"path\": \"/a\"}, {\"path\": \"/b\"}],\n"
    "    \"createContainer\": [{\"path\": \"/c\"}], \"startContainer\": [{\"path\": \"/d\"}],\n"
    "    \"poststart\": [{\"path\": \"/e\"}], \"poststop\": [{\"path\": \"/f\", \"timeout\": 1}]\n"
    "  },\n"
    "  \"annotations\": {\"org.example.key\": \"value\", \"second\": \"2\"},\n"
    "  \"linux\": {\n"
    "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/run/netns/x\"},\n"
    "                   {\"type\": \"mount\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": "
    "\"user\"},\n"
    "                   {\"type\": \"cgroup\"}, {\"type\": \"time\"}],\n"
    "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n"
    "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1},\n"
    "                    {\"containerID\": 1, \"hostID\": 100000, \"size\": 65535}],\n"
    "    \"timeOffsets\": {\"monotonic\": {\"secs\": -10, \"nanosecs\": 5}, \"boottime\": {\"secs\": "
    "3600}},\n"
    "    \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229,\n"
    "                 \"fileMode\": 8630, \"uid\": 0, \"gid\": 0},\n"
    "                {\"path\": \"/dev/myfifo\", \"type\": \"p\"}],\n"
    "    \"cgroupsPath\": \"berth/test\",\n"
    "    \"resources\": {\n"
    "      \"devices\": [{\"allow\": false, \"access\": \"rwm\"},\n"
    "                  {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": "
    "\"rw\"}],\n"
    "      \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": -1, "
    "\"swappiness\": 60,\n"
    "                 \"disableOOMKiller\": true, \"useHierarchy\": false},\n"
    "      \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"burst\": 1000,\n"
    "              \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"cpus\": \"0-1\", "
    "\"mems\": \"0\", \"idle\": 1},\n"
    "      \"pids\": {\"limit\": 100},\n"
    "      \"blockIO\": {\"weight\": 500, \"leafWeight\": 300,\n"
    "                  \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 200}],\n"
    "                  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],\n"
    "                  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 300}]},\n"
    "      \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],\n"
    "      \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 5}]},\n"
    "      \"unified\": {\"memory.high\": \"400000000\"},\n"
    "      \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3}}\n"
    "    },\n"
    "    \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},\n"
    "    \"seccomp\": {\n"
    "      \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,\n"
    "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
    "      \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_LOG\"],\n"
    "      \"listenerPath\": \"/run/seccomp.sock\", \"listenerMetadata\": \"meta\",\n"
    "      \"syscalls\": [\n"
    "        {\"names\": [\"read\", \"write\", \"no_such_syscall_ok\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
    "        {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
    "         \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},\n"
    "                  {\"index\": 1, \"value\": 255, \"valueTwo\": 8, \"op\": "
    "\"SCMP_CMP_MASKED_EQ\"}]},\n"
    "        {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"},\n"
    "        {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}\n"
    "      ]\n"
    "    },\n"
    "    \"rootfsPropagation\": \"rslave\",\n"
    "    \"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"],\n"
    "    \"readonlyPaths\": [\"/proc/sys\"],\n"
    "    \"mountLabel\": \"system_u:object_r:container_file_t:s0\",\n"
    "    \"personality\": {\"domain\": \"LINUX32\", \"flags\": []},\n"
    "    \"intelRdt\": {\"closID\": \"x\"}\n"
    "  }\n"
    "}\n";

START_TEST(test_full_top_and_process)
{
        struct berth_err err;
        struct berth_spec *s = parse(full_config, &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);

        ck_assert_str_eq(s->oci_version, "1.2.0");
        ck_assert_str_eq(s->root_path, "rootfs");
        ck_assert(s->root_readonly);
        ck_assert_str_eq(s->hostname, "box");
        ck_assert_str_eq(s->domainname, "example.org");
        ck_assert(s->has_process);

        const struct berth_process *p = &s->process;
        ck_assert(p->terminal);
        ck_assert(p->has_console_size);
        ck_assert_uint_eq(p->console_size.height, 25);
        ck_assert_uint_eq(p->console_size.width, 80);
        ck_assert_uint_eq(p->user.uid, 1000);
        ck_assert_uint_eq(p->user.gid, 100);
        ck_assert(p->user.has_umask);
        ck_assert_uint_eq(p->user.umask, 022);
        ck_assert_uint_eq(p->user.n_additional_gids, 3);
        ck_assert_uint_eq(p->user.additional_gids[2], 7);
        ck_assert_uint_eq(p->n_args, 3);
        ck_assert_str_eq(p->args[2], "echo hi");
        ck_assert_ptr_null(p->args[3]);
        ck_assert_uint_eq(p->n_env, 3);
        ck_assert_str_eq(p->env[2], "A=b=c");
        ck_assert_ptr_null(p->env[3]);
        ck_assert_str_eq(p->cwd, "/home");
        ck_assert(p->caps.present);
        ck_assert(p->caps.bounding == (cap_bit(CAP_CHOWN) | cap_bit(CAP_KILL)));
        ck_assert(p->caps.effective == cap_bit(CAP_KILL));
        ck_assert(p->caps.inheritable == 0);
        ck_assert(p->caps.permitted == cap_bit(CAP_SYS_ADMIN));
        ck_assert(p->caps.ambient == cap_bit(CAP_NET_RAW));
        ck_assert_uint_eq(p->n_rlimits, 2);
        ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
        ck_assert_uint_eq(p->rlimits[0].soft, 1024);
        ck_assert_uint_eq(p->rlimits[0].hard, 4096);
        ck_assert_int_eq(p->rlimits[1].resource, RLIMIT_CORE);
        ck_assert(p->no_new_privileges);
        ck_assert(p->has_oom_score_adj);
        ck_assert_int_eq(p->oom_score_adj, -500);
        ck_assert_str_eq(p->apparmor_profile, "berth-default");
        ck_assert_str_eq(p->selinux_label, "system_u:system_r:container_t:s0");

        ck_assert_uint_eq(s->n_annotations, 2);
        ck_assert_str_eq(s->annotations[0].key, "org.example.key");
        ck_assert_str_eq(s->annotations[0].value, "value");
        berth_spec_free(s);
}
END_TEST

START_TEST(test_full_mounts_hooks)
{
        struct berth_err err;
        struct berth_spec *s = parse(full_config, &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);

        ck_assert_uint_eq(s->n_mounts, 3);
        ck_assert_str_eq(s->mounts[0].destination, "/proc");
        ck_assert_str_eq(s->mounts[0].type, "proc");
        ck_assert(!s->mounts[0].bind);
        ck_assert_ptr_null(s->mounts[0].data);
        const struct berth_mount *m = &s->mounts[1];
        ck_assert_str_eq(m->source, "/srv/data");
        ck_assert(m->bind && m->recursive);
        ck_assert(m->flags & MS_RDONLY);
        ck_assert_int_eq(m->propagation, BERTH_PROP_RSLAVE);
        m = &s->mounts[2];
        ck_assert(m->bind && !m->recursive && m->idmap && !m->ridmap);
        ck_assert_uint_eq(m->n_uid_mappings, 1);
        ck_assert_uint_eq(m->uid_mappings[0].host_id, 100000);
        ck_assert_uint_eq(m->uid_mappings[0].size, 65536);
        ck_assert_uint_eq(m->n_gid_mappings, 1);
        ck_assert_uint_eq(m->gid_mappings[0].host_id, 200000);

        const struct berth_hooks *h = &s->hooks;
        ck_assert_uint_eq(h->n[BERTH_HOOK_PRESTART], 1);
        ck_assert_str_eq(h->list[BERTH_HOOK_PRESTART][0].path, "/usr/bin/pre");
        ck_assert_str_eq(h->list[BERTH_HOOK_PRESTART][0].args[1], "x");
        ck_assert_ptr_null(h->list[BERTH_HOOK_PRESTART][0].args[2]);
        ck_assert_str_eq(h->list[BERTH_HOOK_PRESTART][0].env[0], "A=1");
        ck_assert(h->list[BERTH_HOOK_PRESTART][0].has_timeout);
        ck_assert_int_eq(h->list[BERTH_HOOK_PRESTART][0].timeout, 5);
        ck_assert_uint_eq(h->n[BERTH_HOOK_CREATE_RUNTIME], 2);
        ck_assert_str_eq(h->list[BERTH_HOOK_CREATE_RUNTIME][1].path, "/b");
        ck_assert_ptr_null(h->list[BERTH_HOOK_CREATE_RUNTIME][1].args);
        ck_assert(!h->list[BERTH_HOOK_CREATE_RUNTIME][1].has_timeout);
        ck_assert_uint_eq(h->n[BERTH_HOOK_CREATE_CONTAINER], 1);
        ck_assert_uint_eq(h->n[BERTH_HOOK_START_CONTAINER], 1);
        ck_assert_uint_eq(h->n[BERTH_HOOK_POSTSTART], 1);
        ck_assert_uint_eq(h->n[BERTH_HOOK_POSTSTOP], 1);
        ck_assert_str_eq(h->list[BERTH_HOOK_POSTSTOP][0].path, "/f");
        berth_spec_free(s);
}
END_TEST

START_TEST(test_full_linux)
{
        struct berth_err err;
        struct berth_spec *s = parse(full_config, &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);

        for (int t = 0; t < BERTH_NS_COUNT; t++)
                ck_assert_msg(s->namespaces[t].present, "namespace %s", berth_ns_type_name(t));
        ck_assert_str_eq(s->namespaces[BERTH_NS_NET].path, "/run/netns/x");
        ck_assert_ptr_null(s->namespaces[BERTH_NS_PID].path);
        ck_assert_uint_eq(s->n_uid_mappings, 1);
        ck_assert_uint_eq(s->n_gid_mappings, 2);
        ck_assert_uint_eq(s->gid_mappings[1].container_id, 1);
        ck_assert_uint_eq(s->gid_mappings[1].size, 65535);
        ck_assert(s->time_offsets[0].present);
        ck_assert_int_eq(s->time_offsets[0].secs, -10);
        ck_assert_uint_eq(s->time_offsets[0].nanosecs, 5);
        ck_assert(s->time_offsets[1].present);
        ck_assert_int_eq(s->time_offsets[1].secs, 3600);
        ck_assert_uint_eq(s->n_devices, 2);
        ck_assert_str_eq(s->devices[0].path, "/dev/fuse");
        ck_assert_int_eq(s->devices[0].type, 'c');
        ck_assert_int_eq(s->devices[0].major, 10);
        ck_assert_int_eq(s->devices[0].minor, 229);
        ck_assert(s->devices[0].has_file_mode);
        ck_assert_uint_eq(s->devices[0].file_mode, 0666); /* 8630 = S_IFCHR|0666 */
        ck_assert(s->devices[0].has_uid && s->devices[0].has_gid);
        ck_assert_int_eq(s->devices[1].type, 'p');
        ck_assert(!s->devices[1].has_file_mode);
        ck_assert_str_eq(s->cgroups_path, "berth/test");
        ck_assert_uint_eq(s->n_sysctl, 1);
        ck_assert_str_eq(s->sysctl[0].key, "net.ipv4.ip_forward");
        ck_assert_str_eq(s->sysctl[0].value, "1");
        ck_assert_int_eq(s->rootfs_propagation, BERTH_PROP_RSLAVE);
        ck_assert_uint_eq(s->n_masked_paths, 2);
        ck_assert_str_eq(s->masked_paths[1], "/sys/firmware");
        ck_assert_uint_eq(s->n_readonly_paths, 1);
        ck_assert_str_eq(s->mount_label, "system_u:object_r:container_file_t:s0");
        ck_assert(s->has_personality);
        ck_assert_str_eq(s->personality_domain, "LINUX32");
        berth_spec_free(s);
}
END_TEST

START_TEST(test_full_resources)
{
        struct berth_err err;
        struct berth_spec *s = parse(full_config, &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);
        ck_assert(s->has_resources);
        const struct berth_resources *r = &s->resources;

        ck_assert_uint_eq(r->n_devices, 2);
        ck_assert(!r->devices[0].allow);
        ck_assert_int_eq(r->devices[0].type, 'a');
        ck_assert_int_eq(r->devices[0].major, -1);
        ck_assert_int_eq(r->devices[0].minor, -1);
        ck_assert_str_eq(r->devices[0].access, "rwm");
        ck_assert(r->devices[1].allow);
        ck_assert_int_eq(r->devices[1].type, 'c');
        ck_assert_int_eq(r->devices[1].minor, 229);
        ck_assert_str_eq(r->devices[1].access, "rw");
        ck_assert(r->has_memory);
        ck_assert(r->memory.limit.set && r->memory.limit.v == 536870912);
        ck_assert(r->memory.swap.set && r->memory.swap.v == -1);
        ck_assert(!r->memory.kernel.set);
        ck_assert(r->memory.swappiness.set && r->memory.swappiness.v == 60);
        ck_assert(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer);
        ck_assert(r->memory.has_use_hierarchy && !r->memory.use_hierarchy);
        ck_assert(!r->memory.has_check_before_update);
        ck_assert(r->has_cpu);
        ck_assert(r->cpu.shares.set && r->cpu.shares.v == 512);
        ck_assert(r->cpu.quota.set && r->cpu.quota.v == 50000);
        ck_assert(r->cpu.burst.set && r->cpu.burst.v == 1000);
        ck_assert(r->cpu.realtime_period.set && r->cpu.realtime_period.v == 1000000);
        ck_assert(r->cpu.idle.set && r->cpu.idle.v == 1);
        ck_assert_str_eq(r->cpu.cpus, "0-1");
        ck_assert_str_eq(r->cpu.mems, "0");
        ck_assert(r->has_pids && r->pids_limit.set && r->pids_limit.v == 100);
        ck_assert(r->has_blkio);
        ck_assert(r->blkio.weight.set && r->blkio.weight.v == 500);
        ck_assert(r->blkio.leaf_weight.set && r->blkio.leaf_weight.v == 300);
        ck_assert_uint_eq(r->blkio.n_weight_devices, 1);
        ck_assert(r->blkio.weight_devices[0].weight.set && r->blkio.weight_devices[0].weight.v == 200);
        ck_assert(!r->blkio.weight_devices[0].leaf_weight.set);
        ck_assert_uint_eq(r->blkio.n_throttle[BERTH_THROTTLE_READ_BPS], 1);
        ck_assert_uint_eq(r->blkio.throttle[BERTH_THROTTLE_READ_BPS][0].rate, 1048576);
        ck_assert_uint_eq(r->blkio.n_throttle[BERTH_THROTTLE_WRITE_BPS], 0);
        ck_assert_uint_eq(r->blkio.n_throttle[BERTH_THROTTLE_WRITE_IOPS], 1);
        ck_assert_int_eq(r->blkio.throttle[BERTH_THROTTLE_WRITE_IOPS][0].minor, 16);
        ck_assert_uint_eq(r->n_hugepages, 1);
        ck_assert_str_eq(r->hugepages[0].page_size, "2MB");
        ck_assert_uint_eq(r->hugepages[0].limit, 209715200);
        ck_assert(r->has_network && r->net_class_id.set && r->net_class_id.v == 1048577);
        ck_assert_uint_eq(r->n_net_prios, 1);
        ck_assert_str_eq(r->net_prios[0].name, "eth0");
        ck_assert_uint_eq(r->net_prios[0].priority, 5);
        ck_assert_uint_eq(r->n_unified, 1);
        ck_assert_str_eq(r->unified[0].key, "memory.high");
        berth_spec_free(s);
}
END_TEST

START_TEST(test_full_seccomp)
{
        struct berth_err err;
        struct berth_spec *s = parse(full_config, &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);
        ck_assert(s->has_seccomp);
        const struct berth_seccomp *sc = &s->seccomp;

        ck_assert_int_eq(sc->default_action, BERTH_SCMP_ACT_ERRNO);
        ck_assert(sc->has_default_errno_ret && sc->default_errno_ret == 1);
        ck_assert_uint_eq(sc->n_architectures, 2);
        ck_assert_str_eq(sc->architectures[1], "SCMP_ARCH_X86");
        ck_assert_uint_eq(sc->flags, BERTH_SCMP_FLAG_LOG);
        ck_assert_str_eq(sc->listener_path, "/run/seccomp.sock");
        ck_assert_str_eq(sc->listener_metadata, "meta");
        ck_assert_uint_eq(sc->n_rules, 4);
        ck_assert_uint_eq(sc->rules[0].n_names, 3);
        ck_assert_str_eq(sc->rules[0].names[2], "no_such_syscall_ok");
        ck_assert_int_eq(sc->rules[0].action, BERTH_SCMP_ACT_ALLOW);
        ck_assert(!sc->rules[0].has_errno_ret);
        ck_assert_uint_eq(sc->rules[1].n_args, 2);
        ck_assert_uint_eq(sc->rules[1].args[1].index, 1);
        ck_assert_uint_eq(sc->rules[1].args[1].value, 255);
        ck_assert_uint_eq(sc->rules[1].args[1].value_two, 8);
        ck_assert_int_eq(sc->rules[1].args[1].op, BERTH_SCMP_OP_MASKED_EQ);
        ck_assert_int_eq(sc->rules[1].args[0].op, BERTH_SCMP_OP_EQ);
        ck_assert_int_eq(sc->rules[2].action, BERTH_SCMP_ACT_NOTIFY);
        ck_assert(sc->rules[3].has_errno_ret && sc->rules[3].errno_ret == 38);
        berth_spec_free(s);
}
END_TEST

START_TEST(test_minimal)
{
        struct berth_err err;
        struct berth_spec *s = parse("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/abs/root\"}}", &err);
        ck_assert_msg(s, "parse failed: %s", err.msg);
        ck_assert(!s->has_process);
        ck_assert(!s->has_resources && !s->has_seccomp && !s->has_personality);
        ck_assert_uint_eq(s->n_mounts, 0);
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                ck_assert(!s->namespaces[t].present);
        ck_assert_int_eq(s->rootfs_propagation, BERTH_PROP_NONE);
        ck_assert(!s->root_readonly);
        berth_spec_free(s);
        berth_spec_free(NULL);
}
END_TEST

/* ---- invalid configs: parsing fails and the message names the field ------ */

#define DOC(x)   "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}," x "}"
#define PROC(x)  DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"," x "}")
#define LINUX(x) DOC("\"linux\":{" x "}")
#define RES(x)   LINUX("\"resources\":{" x "}")
#define SCMP(x)  LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"," x "}")
#define MNT(x)   DOC("\"mounts\":[{\"destination\":\"/x\"," x "}]")

static const struct invalid_case {
        const char *json;
        const char *expect; /* substring of the error message */
} invalid_cases[] = {
    {"{\"ociVersion\": \"1.2.0\",\n \"root\": }", "line 2"},
    {"[]", "JSON object"},
    {"{\"root\":{\"path\":\"r\"}}", "ociVersion: missing"},
    {"{\"ociVersion\":1,\"root\":{\"path\":\"r\"}}", "ociVersion: must be a string"},
    {"{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}", "ociVersion: unsupported version \"2.0.0\""},
    {"{\"ociVersion\":\"1.4.0\",\"root\":{\"path\":\"r\"}}", "ociVersion: unsupported"},
    {"{\"ociVersion\":\"1.2\",\"root\":{\"path\":\"r\"}}", "ociVersion: invalid version"},
    {"{\"ociVersion\":\"1.2.0\"}", "root: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{}}", "root.path: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"\"}}", "root.path: must not be empty"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}", "root.readonly"},
    {DOC("\"process\":[]"), "process: must be an object"},
    {DOC("\"process\":{\"cwd\":\"/\"}"), "process.args: must be a non-empty array of strings"},
    {DOC("\"process\":{\"args\":[],\"cwd\":\"/\"}"), "process.args: must be a non-empty array"},
    {DOC("\"process\":{\"args\":[\"a\",3],\"cwd\":\"/\"}"), "process.args[1]: must be a string"},
    {DOC("\"process\":{\"args\":[\"a\"]}"), "process.cwd: missing"},
    {DOC("\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}"), "process.cwd: must be an absolute path"},
    {PROC("\"env\":[\"A=1\",\"NOEQUALS\"]"), "process.env[1]: must be KEY=VALUE"},
    {PROC("\"env\":[\"=x\"]"), "process.env[0]"},
    {PROC("\"terminal\":1"), "process.terminal: must be a boolean"},
    {PROC("\"user\":{\"uid\":-1}"), "process.user.uid: must not be negative"},
    {PROC("\"user\":{\"gid\":1.5}"), "process.user.gid: must be an integer"},
    {PROC("\"user\":{\"uid\":4294967296}"), "process.user.uid"},
    {PROC("\"user\":{\"umask\":512}"), "process.user.umask"},
    {PROC("\"user\":{\"additionalGids\":[1,-2]}"), "process.user.additionalGids[1]"},
    {PROC("\"consoleSize\":{\"height\":-1}"), "process.consoleSize.height"},
    {PROC("\"capabilities\":{\"bounding\":[\"CAP_FOO\"]}"),
     "process.capabilities.bounding[0]: unknown capability \"CAP_FOO\""},
    {PROC("\"capabilities\":{\"ambient\":[\"CAP_KILL\",\"chown\"]}"), "process.capabilities.ambient[1]"},
    {PROC("\"capabilities\":{\"effective\":\"CAP_KILL\"}"),
     "process.capabilities.effective: must be an array"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {PROC("\"rlimits\":[{\"soft\":1,\"hard\":1}]"), "process.rlimits[0].type: missing"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":-1,\"hard\":1}]"), "process.rlimits[0].soft"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":2,\"hard\":1}]"),
     "process.rlimits[0]: soft limit"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\"},{\"type\":\"RLIMIT_CORE\"}]"),
     "process.rlimits[1]: duplicate"},
    {PROC("\"oomScoreAdj\":1001"), "process.oomScoreAdj"},
    {PROC("\"noNewPrivileges\":\"true\""), "process.noNewPrivileges"},
    {PROC("\"apparmorProfile\":[]"), "process.apparmorProfile"},
    {DOC("\"mounts\":{}"), "mounts: must be an array"},
    {DOC("\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"rel\"}]"),
     "mounts[1].destination: must be an absolute path"},
    {DOC("\"mounts\":[{\"type\":\"tmpfs\"}]"), "mounts[0].destination: missing"},
    {MNT("\"options\":[\"ro\",1]"), "mounts[0].options[1]: must be a string"},
    {MNT("\"options\":\"ro\""), "mounts[0].options: must be an array"},
    {MNT("\"type\":5"), "mounts[0].type: must be a string"},
    {MNT("\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]"), "mounts[0]: uidMappings and"},
    {MNT("\"uidMappings\":[{\"containerID\":0,\"hostID\":1}],\"gidMappings\":[]"),
     "mounts[0].uidMappings[0].size: missing"},
    {DOC("\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}"),
     "hooks.prestart[0].path: must be an absolute path"},
    {DOC("\"hooks\":{\"poststop\":[{\"args\":[]}]}"), "hooks.poststop[0].path: missing"},
    {DOC("\"hooks\":{\"createRuntime\":[{\"path\":\"/x\",\"timeout\":0}]}"),
     "hooks.createRuntime[0].timeout"},
    {DOC("\"hooks\":{\"poststart\":{}}"), "hooks.poststart: must be an array"},
    {DOC("\"annotations\":{\"a\":1}"), "annotations.a: must be a string"},
    {DOC("\"annotations\":[]"), "annotations: must be an object"},
    {DOC("\"hostname\":\"h\""), "hostname: setting a hostname requires"},
    {LINUX("\"namespaces\":[{\"type\":\"uts\"}]},\"hostname\":"
           "\"0123456789012345678901234567890123456789012345678901234567890123456789\",\"x\":{"),
     "hostname: longer than 64"},
    {LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"foo\"}]"),
     "linux.namespaces[2].type: unknown namespace type \"foo\""},
    {LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]"),
     "linux.namespaces[1].type: duplicate namespace type \"pid\""},
    {LINUX("\"namespaces\":[{\"type\":\"net\",\"path\":\"/x\"}]"), "linux.namespaces[0].type: unknown"},
    {LINUX("\"namespaces\":[{\"type\":\"network\",\"path\":\"run/netns/x\"}]"),
     "linux.namespaces[0].path: must be an absolute path"},
    {LINUX("\"namespaces\":[{\"path\":\"/x\"}]"), "linux.namespaces[0].type: missing"},
    {LINUX("\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]"),
     "linux.uidMappings: id mappings require a \"user\" namespace"},
    {LINUX("\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":-1,"
           "\"size\":1}]"),
     "linux.uidMappings[0].hostID"},
    {LINUX("\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":0,"
           "\"size\":0}]"),
     "linux.gidMappings[0].size: must be greater than 0"},
    {LINUX("\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}],\"uidMappings\":[{"
           "\"containerID\":0,\"hostID\":0,\"size\":1}]"),
     "linux.uidMappings: id mappings cannot be given"},
    {LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"realtime\":{\"secs\":1}}"),
     "linux.timeOffsets.realtime: unknown clock"},
    {LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"boottime\":{\"nanosecs\":1000000000}}"),
     "linux.timeOffsets.boottime.nanosecs"},
    {LINUX("\"timeOffsets\":{\"monotonic\":{\"secs\":1}}"), "linux.timeOffsets: time offsets require"},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"x\",\"major\":1,\"minor\":1}]"),
     "linux.devices[0].type: unknown device type \"x\""},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1}]"),
     "linux.devices[0].minor: required"},
    {LINUX("\"devices\":[{\"path\":\"dev/x\",\"type\":\"c\",\"major\":1,\"minor\":1}]"),
     "linux.devices[0].path: must be an absolute path"},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"b\",\"major\":-8,\"minor\":1}]"),
     "linux.devices[0].major"},
    {LINUX("\"sysctl\":{\"net.ipv4.ip_forward\":1}"), "linux.sysctl.net.ipv4.ip_forward: must be a string"},
    {LINUX("\"sysctl\":{\"net/../../x\":\"1\"}"), "linux.sysctl.net/../../x: invalid sysctl name"},
    {LINUX("\"rootfsPropagation\":\"sideways\""), "linux.rootfsPropagation: unknown propagation"},
    {LINUX("\"maskedPaths\":[\"/ok\",\"rel\"]"), "linux.maskedPaths[1]: must be an absolute path"},
    {LINUX("\"readonlyPaths\":[1]"), "linux.readonlyPaths[0]: must be a string"},
    {LINUX("\"personality\":{\"domain\":\"LINUX64\"}"), "linux.personality.domain: unknown domain"},
    {LINUX("\"cgroupsPath\":{}"), "linux.cgroupsPath: must be a string"},
    {LINUX("\"resources\":[]"), "linux.resources: must be an object"},
    {RES("\"devices\":[{\"allow\":true,\"type\":\"z\"}]"), "linux.resources.devices[0].type"},
    {RES("\"devices\":[{\"allow\":true,\"access\":\"xa\"}]"), "linux.resources.devices[0].access"},
    {RES("\"devices\":[{\"access\":\"r\"}]"), "linux.resources.devices[0].allow: missing"},
    {RES("\"devices\":[{\"allow\":true,\"major\":-2}]"), "linux.resources.devices[0].major"},
    {RES("\"memory\":{\"limit\":-2}"), "linux.resources.memory.limit"},
    {RES("\"memory\":{\"swappiness\":101}"), "linux.resources.memory.swappiness"},
    {RES("\"memory\":{\"disableOOMKiller\":0}"),
     "linux.resources.memory.disableOOMKiller: must be a boolean"},
    {RES("\"cpu\":{\"shares\":-1}"), "linux.resources.cpu.shares: must not be negative"},
    {RES("\"cpu\":{\"cpus\":\"0-3;rm\"}"), "linux.resources.cpu.cpus: invalid list"},
    {RES("\"pids\":{\"limit\":\"max\"}"), "linux.resources.pids.limit: must be an integer"},
    {RES("\"blockIO\":{\"weight\":70000}"), "linux.resources.blockIO.weight"},
    {RES("\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":10}]}"),
     "linux.resources.blockIO.weightDevice[0].major: missing"},
    {RES("\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0}]}"),
     "linux.resources.blockIO.throttleWriteBpsDevice[0].rate: missing"},
    {RES("\"hugepageLimits\":[{\"pageSize\":\"../2MB\",\"limit\":1}]"),
     "linux.resources.hugepageLimits[0].pageSize"},
    {RES("\"network\":{\"priorities\":[{\"name\":\"eth0\"}]}"),
     "linux.resources.network.priorities[0].priority: missing"},
    {RES("\"unified\":{\"../../cgroup.procs\":\"1\"}"), "linux.resources.unified.../../cgroup.procs"},
    {LINUX("\"seccomp\":{}"), "linux.seccomp.defaultAction: missing"},
    {LINUX("\"seccomp\":{\"defaultAction\":\"X\"}"), "linux.seccomp.defaultAction: unknown action \"X\""},
    {LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/s\"}"),
     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY"},
    {SCMP("\"architectures\":[\"SCMP_ARCH_VAX\"]"), "linux.seccomp.architectures[0]: unknown architecture"},
    {SCMP("\"flags\":[\"SECCOMP_FILTER_FLAG_BOGUS\"]"), "linux.seccomp.flags[0]: unknown flag"},
    {SCMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILLALL\"}]"),
     "linux.seccomp.syscalls[0].action: unknown action"},
    {SCMP("\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]"), "linux.seccomp.syscalls[0].names"},
    {SCMP("\"syscalls\":[{\"names\":[\"read\"]}]"), "linux.seccomp.syscalls[0].action: missing"},
    {SCMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,"
          "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
     "linux.seccomp.syscalls[0].args[0].index"},
    {SCMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,"
          "\"value\":1,\"op\":\"SCMP_CMP_APPROX\"}]}]"),
     "linux.seccomp.syscalls[0].args[0].op: unknown operator"},
    {SCMP("\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]"),
     "linux.seccomp.listenerPath: required"},
    {SCMP("\"listenerPath\":\"/s\",\"syscalls\":[{\"names\":[\"write\"],\"action\":\"SCMP_ACT_NOTIFY\"}]"),
     "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for the write syscall"},
    {SCMP("\"defaultErrnoRet\":-1"), "linux.seccomp.defaultErrnoRet"},
};

START_TEST(test_invalid)
{
        const struct invalid_case *c = &invalid_cases[_i];
        struct berth_err err;
        struct berth_spec *s = parse(c->json, &err);

        ck_assert_msg(!s, "case %d parsed but should fail: %s", _i, c->json);
        ck_assert_int_eq(err.code, EINVAL);
        ck_assert_msg(strstr(err.msg, c->expect), "case %d: message \"%s\" lacks \"%s\"", _i, err.msg,
                      c->expect);
}
END_TEST

/* ---- ociVersion range ----------------------------------------------------- */

START_TEST(test_oci_versions)
{
        static const char *const ok[] = {"1.0.0", "1.0.1", "1.0.2-dev", "1.0.0-rc5-dev", "1.1.0",
                                         "1.2.0", "1.2.1", "1.3.0",     "1.3.7+build.1", "1.0.0-rc2"};
        static const char *const bad[] = {"0.5.0",  "2.0.0",  "1.4.0", "1.10.0", "1",     "1.2",
                                          "v1.2.0", "1.2.0x", "",      "1..0",   "1.2.-1"};
        char buf[256];
        struct berth_err err;

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                snprintf(buf, sizeof(buf), "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}", ok[i]);
                struct berth_spec *s = parse(buf, &err);
                ck_assert_msg(s, "%s rejected: %s", ok[i], err.msg);
                berth_spec_free(s);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(buf, sizeof(buf), "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}", bad[i]);
                ck_assert_msg(!parse(buf, &err), "%s accepted", bad[i]);
                ck_assert_msg(strncmp(err.msg, "ociVersion: ", 12) == 0, "%s: %s", bad[i], err.msg);
        }
}
END_TEST

/* ---- mount options -------------------------------------------------------- */

static struct berth_spec *parse_mount_options(const char *opts_json, const char *type, struct berth_err *err)
{
        static char buf[2048];
        snprintf(buf, sizeof(buf),
                 "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/m\","
                 "\"type\":\"%s\",\"source\":\"s\",\"options\":%s}]}",
                 type, opts_json);
        return parse(buf, err);
}

START_TEST(test_mount_options)
{
        struct berth_err err;
        struct berth_spec *s = parse_mount_options(
            "[\"nosuid\",\"nodev\",\"noexec\",\"ro\",\"relatime\",\"mode=755\",\"size=65536k\",\"tmpcopyup\","
            "\"strictatime\",\"sync\",\"dirsync\",\"mand\",\"noatime\",\"nodiratime\",\"\"]",
            "tmpfs", &err);
        ck_assert_msg(s, "%s", err.msg);
        const struct berth_mount *m = &s->mounts[0];
        unsigned long want = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_RELATIME | MS_STRICTATIME |
                             MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME;
        ck_assert_uint_eq(m->flags, want);
        ck_assert_uint_eq(m->clear_flags, 0);
        ck_assert_str_eq(m->data, "mode=755,size=65536k");
        ck_assert(!m->bind && !m->recursive);
        ck_assert(m->tmpcopyup);
        ck_assert_int_eq(m->propagation, BERTH_PROP_NONE);
        berth_spec_free(s);

        /* Clearing options, later options win, propagation, data passthrough. */
        s = parse_mount_options("[\"ro\",\"rw\",\"suid\",\"dev\",\"exec\",\"async\",\"atime\",\"diratime\","
                                "\"norelatime\",\"nostrictatime\",\"nomand\",\"private\",\"shared\","
                                "\"context=\\\"system_u:object_r:x:s0:c1,c2\\\"\"]",
                                "ext4", &err);
        ck_assert_msg(s, "%s", err.msg);
        m = &s->mounts[0];
        ck_assert_uint_eq(m->flags, 0);
        ck_assert_uint_eq(m->clear_flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                              MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                              MS_MANDLOCK);
        ck_assert_int_eq(m->propagation, BERTH_PROP_SHARED);
        ck_assert_str_eq(m->data, "context=\"system_u:object_r:x:s0:c1,c2\"");
        berth_spec_free(s);

        /* Recursive attributes: their own fields, the later one wins. */
        s = parse_mount_options("[\"rbind\",\"rro\",\"rnosuid\",\"rsuid\",\"rnoexec\",\"rrw\",\"rdev\","
                                "\"rnoatime\"]",
                                "bind", &err);
        ck_assert_msg(s, "%s", err.msg);
        m = &s->mounts[0];
        ck_assert_uint_eq(m->flags, 0);
        ck_assert_uint_eq(m->rec_flags, MS_NOEXEC | MS_NOATIME);
        ck_assert_uint_eq(m->rec_clear_flags, MS_RDONLY | MS_NOSUID | MS_NODEV);
        ck_assert_ptr_null(m->data);
        berth_spec_free(s);

        /* Every propagation name. */
        static const char *const props[] = {"private", "rprivate", "shared",     "rshared",
                                            "slave",   "rslave",   "unbindable", "runbindable"};
        for (size_t i = 0; i < 8; i++) {
                char opts[64];
                snprintf(opts, sizeof(opts), "[\"%s\"]", props[i]);
                s = parse_mount_options(opts, "bind", &err);
                ck_assert_msg(s, "%s", err.msg);
                ck_assert_int_eq(s->mounts[0].propagation, (int)(BERTH_PROP_PRIVATE + i));
                ck_assert(s->mounts[0].bind && !s->mounts[0].recursive); /* type "bind" */
                ck_assert_ptr_null(s->mounts[0].data);
                berth_spec_free(s);
        }

        s = parse_mount_options("[\"rbind\",\"ridmap\",\"remount\",\"bind\"]", "none", &err);
        ck_assert_msg(s, "%s", err.msg);
        m = &s->mounts[0];
        ck_assert(m->bind && m->recursive && m->ridmap && !m->idmap);
        ck_assert_uint_eq(m->flags, MS_REMOUNT);
        berth_spec_free(s);
}
END_TEST

/* ---- standalone process and resources ------------------------------------ */

START_TEST(test_process_parse)
{
        static const char ok[] =
            "{\"terminal\":false,\"user\":{\"uid\":5,\"gid\":6},\"args\":[\"ls\",\"-l\"],"
            "\"env\":[\"A=1\"],\"cwd\":\"/tmp\",\"capabilities\":{\"bounding\":"
            "[\"CAP_SETUID\"]},\"oomScoreAdj\":0}";
        struct berth_err err;
        berth_err_clear(&err);
        struct berth_process *p = berth_process_parse(ok, strlen(ok), &err);
        ck_assert_msg(p, "%s", err.msg);
        ck_assert_uint_eq(p->user.uid, 5);
        ck_assert_uint_eq(p->n_args, 2);
        ck_assert_str_eq(p->args[1], "-l");
        ck_assert_str_eq(p->cwd, "/tmp");
        ck_assert(p->caps.present && p->caps.bounding == cap_bit(CAP_SETUID));
        ck_assert(p->has_oom_score_adj && p->oom_score_adj == 0);
        ck_assert_uint_eq(p->n_env, 1);
        berth_process_free(p);

        /* env absent: an empty, NULL-terminated vector. */
        static const char noenv[] = "{\"args\":[\"ls\"],\"cwd\":\"/\"}";
        p = berth_process_parse(noenv, strlen(noenv), &err);
        ck_assert_msg(p, "%s", err.msg);
        ck_assert_ptr_nonnull(p->env);
        ck_assert_ptr_null(p->env[0]);
        ck_assert(!p->caps.present);
        berth_process_free(p);

        static const char bad[] = "{\"args\":[\"ls\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_X\"}]}";
        ck_assert(!berth_process_parse(bad, strlen(bad), &err));
        ck_assert_msg(strstr(err.msg, "process.rlimits[0].type: unknown rlimit \"RLIMIT_X\""), "%s", err.msg);
        ck_assert(!berth_process_parse("{\"args\":", 8, &err));
        ck_assert_msg(strstr(err.msg, "invalid JSON"), "%s", err.msg);
        ck_assert(!berth_process_parse("[1]", 3, &err));
        ck_assert_msg(strstr(err.msg, "process: must be an object"), "%s", err.msg);
        berth_process_free(NULL);
}
END_TEST

START_TEST(test_resources_parse)
{
        static const char ok[] =
            "{\"memory\":{\"limit\":1048576},\"cpu\":{\"quota\":-1},\"pids\":{\"limit\":-1},"
            "\"unified\":{\"cpu.weight\":\"100\"}}";
        struct berth_err err;
        berth_err_clear(&err);
        struct berth_resources *r = berth_resources_parse(ok, strlen(ok), &err);
        ck_assert_msg(r, "%s", err.msg);
        ck_assert(r->has_memory && r->memory.limit.set && r->memory.limit.v == 1048576);
        ck_assert(r->has_cpu && r->cpu.quota.set && r->cpu.quota.v == -1);
        ck_assert(!r->cpu.shares.set);
        ck_assert(r->has_pids && r->pids_limit.v == -1);
        ck_assert(!r->has_blkio && !r->has_network);
        ck_assert_uint_eq(r->n_unified, 1);
        berth_resources_free(r);

        r = berth_resources_parse("{}", 2, &err);
        ck_assert_msg(r, "%s", err.msg);
        ck_assert(!r->has_memory && !r->has_cpu && !r->has_pids);
        berth_resources_free(r);

        static const char bad[] = "{\"cpu\":{\"period\":\"x\"}}";
        ck_assert(!berth_resources_parse(bad, strlen(bad), &err));
        ck_assert_msg(strstr(err.msg, "resources.cpu.period: must be an integer"), "%s", err.msg);
        berth_resources_free(NULL);
}
END_TEST

/* ---- the default config round-trips -------------------------------------- */

static void check_default(bool rootless)
{
        struct berth_err err;
        berth_err_clear(&err);
        char *json = berth_spec_default_json(rootless, &err);
        ck_assert_msg(json, "%s", err.msg);
        ck_assert_ptr_nonnull(strchr(json, '\n')); /* pretty-printed */
        struct berth_spec *s = parse(json, &err);
        ck_assert_msg(s, "default (rootless=%d) does not parse: %s", rootless, err.msg);

        ck_assert_str_eq(s->root_path, "rootfs");
        ck_assert(s->root_readonly);
        ck_assert_str_eq(s->hostname, "berth");
        ck_assert(s->process.terminal);
        ck_assert_str_eq(s->process.args[0], "sh");
        ck_assert_uint_eq(s->process.n_env, 2);
        ck_assert_str_eq(s->process.env[1], "TERM=xterm");
        ck_assert_str_eq(s->process.cwd, "/");
        uint64_t caps = cap_bit(CAP_AUDIT_WRITE) | cap_bit(CAP_KILL) | cap_bit(CAP_NET_BIND_SERVICE);
        ck_assert(s->process.caps.bounding == caps && s->process.caps.effective == caps);
        ck_assert(s->process.caps.permitted == caps && s->process.caps.inheritable == 0);
        ck_assert_uint_eq(s->process.n_rlimits, 1);
        ck_assert_int_eq(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        ck_assert_uint_eq(s->process.rlimits[0].hard, 1024);
        ck_assert(s->process.no_new_privileges);
        ck_assert_uint_eq(s->n_mounts, 7);
        ck_assert_str_eq(s->mounts[1].destination, "/dev");
        ck_assert_str_eq(s->mounts[1].data, "mode=755,size=65536k");
        ck_assert(s->namespaces[BERTH_NS_PID].present && s->namespaces[BERTH_NS_MOUNT].present);
        ck_assert(s->namespaces[BERTH_NS_UTS].present);
        /* As runc's: a cgroup namespace only on a pure v2 host. */
        enum berth_cgroup_layout layout;
        struct berth_err ignore;
        bool unified = berth_cgroup_detect_layout(&layout, &ignore) == 0 && layout == BERTH_CG_UNIFIED;
        ck_assert(s->namespaces[BERTH_NS_CGROUP].present == unified);
        ck_assert(s->namespaces[BERTH_NS_NET].present == !rootless);
        ck_assert(s->namespaces[BERTH_NS_USER].present == rootless);
        ck_assert_uint_eq(s->n_masked_paths, 11);
        ck_assert_str_eq(s->masked_paths[0], "/proc/acpi");
        ck_assert_uint_eq(s->n_readonly_paths, 5);
        ck_assert(s->has_seccomp);
        ck_assert_uint_gt(s->seccomp.n_rules, 0);

        const struct berth_mount *sys = &s->mounts[5];
        ck_assert_str_eq(sys->destination, "/sys");
        ck_assert(sys->flags & MS_RDONLY);
        if (rootless) {
                ck_assert(sys->bind && sys->recursive);
                ck_assert_str_eq(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620"); /* no gid=5 */
                ck_assert_uint_eq(s->n_uid_mappings, 1);
                ck_assert_uint_eq(s->uid_mappings[0].host_id, geteuid());
                ck_assert_uint_eq(s->gid_mappings[0].host_id, getegid());
                ck_assert(!s->has_resources);
        } else {
                ck_assert(!sys->bind);
                ck_assert_str_eq(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
                ck_assert(s->has_resources);
                ck_assert_uint_eq(s->resources.n_devices, 1);
                ck_assert(!s->resources.devices[0].allow);
        }
        berth_spec_free(s);
        free(json);
}

START_TEST(test_default_roundtrip)
{
        check_default(false);
        check_default(true);
}
END_TEST

/* ---- berth_spec_load ------------------------------------------------------ */

START_TEST(test_load)
{
        char dir[] = "/tmp/berth-test-spec-XXXXXX";
        char file[sizeof(dir) + 16];
        struct berth_err err;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);

        berth_err_clear(&err);
        ck_assert(!berth_spec_load(dfd, &err));
        ck_assert_int_eq(err.code, ENOENT);
        ck_assert_msg(strncmp(err.msg, "config.json: ", 13) == 0, "%s", err.msg);

        snprintf(file, sizeof(file), "%s/config.json", dir);
        FILE *f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        fputs(full_config, f);
        fclose(f);
        struct berth_spec *s = berth_spec_load(dfd, &err);
        ck_assert_msg(s, "%s", err.msg);
        ck_assert_str_eq(s->process.cwd, "/home");
        berth_spec_free(s);

        f = fopen(file, "w");
        fputs(PROC("\"cwd\":\"x\""), f);
        fclose(f);
        ck_assert(!berth_spec_load(dfd, &err));
        ck_assert_msg(strncmp(err.msg, "config.json: process.cwd: ", 26) == 0, "%s", err.msg);

        unlink(file);
        close(dfd);
        rmdir(dir);
}
END_TEST

START_TEST(test_names)
{
        ck_assert_str_eq(berth_ns_type_name(BERTH_NS_NET), "network");
        ck_assert_str_eq(berth_ns_type_name(BERTH_NS_TIME), "time");
        ck_assert_ptr_null(berth_ns_type_name(BERTH_NS_COUNT));
        ck_assert_str_eq(berth_hook_kind_name(BERTH_HOOK_CREATE_RUNTIME), "createRuntime");
        ck_assert_str_eq(berth_hook_kind_name(BERTH_HOOK_POSTSTOP), "poststop");
        ck_assert_ptr_null(berth_hook_kind_name(BERTH_HOOK_KIND_COUNT));
}
END_TEST

/* null is treated as absent, like Go's encoding/json. */
START_TEST(test_nulls_and_unknown_keys)
{
        struct berth_err err;
        struct berth_spec *s =
            parse(DOC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":null,"
                      "\"capabilities\":null,\"futureKey\":{\"a\":1}},\"hooks\":null,"
                      "\"linux\":{\"seccomp\":null,\"resources\":{\"memory\":{\"limit\":null},"
                      "\"futureController\":{}},\"futureLinux\":[1]}"),
                  &err);
        ck_assert_msg(s, "%s", err.msg);
        ck_assert(!s->process.caps.present);
        ck_assert(!s->has_seccomp);
        ck_assert(s->has_resources && s->resources.has_memory && !s->resources.memory.limit.set);
        berth_spec_free(s);
}
END_TEST

/* uint64 fields hold values jansson cannot store as int64 (RLIM_INFINITY). */
START_TEST(test_big_uint64)
{
        struct berth_err err;
        struct berth_spec *s = parse(
            DOC("\"annotations\":{\"k\":\"18446744073709551615 \\\" 18446744073709551615\"},"
                "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\","
                "\"soft\":18446744073709551615,\"hard\":18446744073709551615}]},"
                "\"linux\":{\"resources\":{\"memory\":{\"swappiness\":18446744073709551615},"
                "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":9223372036854775808}]},"
                "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":18446744073709551615,"
                "\"valueTwo\":18446744073709551614,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}"),
            &err);
        ck_assert_msg(s, "%s", err.msg);
        ck_assert_uint_eq(s->process.rlimits[0].soft, UINT64_MAX);
        ck_assert_uint_eq(s->process.rlimits[0].hard, UINT64_MAX);
        ck_assert(!s->resources.memory.swappiness.set);
        ck_assert_uint_eq(s->resources.hugepages[0].limit, UINT64_C(9223372036854775808));
        ck_assert_uint_eq(s->seccomp.rules[0].args[0].value, UINT64_MAX);
        ck_assert_uint_eq(s->seccomp.rules[0].args[0].value_two, UINT64_MAX - 1);
        /* Digits inside strings are left alone, escaped quotes included. */
        ck_assert_str_eq(s->annotations[0].value, "18446744073709551615 \" 18446744073709551615");
        berth_spec_free(s);

        static const struct invalid_case bad[] = {
            {PROC("\"user\":{\"uid\":18446744073709551615}"), "process.user.uid: 18446744073709551615 out"},
            {DOC("\"hostname\":18446744073709551615"), "hostname: must be a string"},
            {MNT("\"options\":[18446744073709551615]"), "mounts[0].options[0]: must be a string"},
            {PROC("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551616}]"), "invalid JSON"},
            {PROC("\"oomScoreAdj\":-9223372036854775809"), "invalid JSON"},
            {RES("\"memory\":{\"swappiness\":18446744073709551614}"), "linux.resources.memory.swappiness"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_msg(!parse(bad[i].json, &err), "case %zu parsed", i);
                ck_assert_msg(strstr(err.msg, bad[i].expect), "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
                              bad[i].expect);
        }
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("spec");
        TCase *tc = tcase_create("parse");

        tcase_add_test(tc, test_full_top_and_process);
        tcase_add_test(tc, test_full_mounts_hooks);
        tcase_add_test(tc, test_full_linux);
        tcase_add_test(tc, test_full_resources);
        tcase_add_test(tc, test_full_seccomp);
        tcase_add_test(tc, test_minimal);
        tcase_add_loop_test(tc, test_invalid, 0, (int)(sizeof(invalid_cases) / sizeof(invalid_cases[0])));
        tcase_add_test(tc, test_oci_versions);
        tcase_add_test(tc, test_mount_options);
        tcase_add_test(tc, test_process_parse);
        tcase_add_test(tc, test_resources_parse);
        tcase_add_test(tc, test_default_roundtrip);
        tcase_add_test(tc, test_load);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_nulls_and_unknown_keys);
        tcase_add_test(tc, test_big_uint64);
        suite_add_tcase(s, tc);
        return s;
}
