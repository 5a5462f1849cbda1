/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the config.json parser.
 *
 * Built three times (tests/fuzz/CMakeLists.txt) with FUZZ_TARGET set to
 * one entry point each: berth_spec_parse, berth_process_parse and
 * berth_resources_parse. After a successful parse every string and array
 * the model promises is walked, so AddressSanitizer sees a pointer or count
 * the parser got wrong; on failure the message must be set. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/spec.h"

#define FUZZ_SPEC      1
#define FUZZ_PROCESS   2
#define FUZZ_RESOURCES 3

#ifndef FUZZ_TARGET
#define FUZZ_TARGET FUZZ_SPEC
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each binary uses only the walkers its entry point needs. */
#define FUZZ_HELPER static __attribute__((unused))

/* The result is fed to a volatile sink so no walk is optimised away. */
static volatile size_t sink;

FUZZ_HELPER void touch_str(const char *s)
{
        if (s)
                sink += strlen(s);
}

FUZZ_HELPER void touch_strv(char **v, size_t n, bool may_be_null)
{
        if (!v) {
                if (!may_be_null || n)
                        abort();
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (!v[i])
                        abort();
                touch_str(v[i]);
        }
        if (v[n])
                abort(); /* NULL-terminated at exactly n */
}

/* For vectors the model gives without a count (hook args/env). */
FUZZ_HELPER void touch_nullterm(char **v)
{
        for (; v && *v; v++)
                touch_str(*v);
}

FUZZ_HELPER void touch_kv(const struct berth_key_value *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (!kv[i].key || !kv[i].value)
                        abort();
                touch_str(kv[i].key);
                touch_str(kv[i].value);
        }
}

FUZZ_HELPER void touch_process(const struct berth_process *p)
{
        if (p->n_args == 0 || !p->cwd || p->cwd[0] != '/')
                abort();
        touch_strv(p->args, p->n_args, false);
        touch_strv(p->env, p->n_env, false);
        for (size_t i = 0; i < p->user.n_additional_gids; i++)
                sink += p->user.additional_gids[i];
        for (size_t i = 0; i < p->n_rlimits; i++)
                if (p->rlimits[i].soft > p->rlimits[i].hard)
                        abort();
        touch_str(p->apparmor_profile);
        touch_str(p->selinux_label);
}

FUZZ_HELPER void touch_resources(const struct berth_resources *r)
{
        for (size_t i = 0; i < r->n_devices; i++)
                if (!strchr("acb", r->devices[i].type) || strlen(r->devices[i].access) == 0)
                        abort();
        touch_str(r->cpu.cpus);
        touch_str(r->cpu.mems);
        for (size_t i = 0; i < r->blkio.n_weight_devices; i++)
                sink += (size_t)r->blkio.weight_devices[i].major;
        for (size_t k = 0; k < 4; k++)
                for (size_t i = 0; i < r->blkio.n_throttle[k]; i++)
                        sink += r->blkio.throttle[k][i].rate;
        for (size_t i = 0; i < r->n_hugepages; i++)
                touch_str(r->hugepages[i].page_size);
        for (size_t i = 0; i < r->n_net_prios; i++)
                touch_str(r->net_prios[i].name);
        touch_kv(r->unified, r->n_unified);
}

FUZZ_HELPER void touch_seccomp(const struct berth_seccomp *sc)
{
        touch_strv(sc->architectures, sc->n_architectures, true);
        touch_str(sc->listener_path);
        touch_str(sc->listener_metadata);
        for (size_t i = 0; i < sc->n_rules; i++) {
                touch_strv(sc->rules[i].names, sc->rules[i].n_names, false);
                for (size_t j = 0; j < sc->rules[i].n_args; j++)
                        if (sc->rules[i].args[j].index > 5)
                                abort();
        }
}

FUZZ_HELPER void touch_spec(const struct berth_spec *s)
{
        touch_str(s->oci_version);
        if (!s->root_path)
                abort();
        if (s->has_process)
                touch_process(&s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct berth_mount *m = &s->mounts[i];
                if (!m->destination || m->destination[0] != '/')
                        abort();
                touch_str(m->type);
                touch_str(m->source);
                touch_str(m->data);
                sink += m->n_uid_mappings ? m->uid_mappings[m->n_uid_mappings - 1].size : 0;
                sink += m->n_gid_mappings ? m->gid_mappings[m->n_gid_mappings - 1].size : 0;
        }
        for (int k = 0; k < BERTH_HOOK_KIND_COUNT; k++)
                for (size_t i = 0; i < s->hooks.n[k]; i++) {
                        touch_str(s->hooks.list[k][i].path);
                        touch_nullterm(s->hooks.list[k][i].args);
                        touch_nullterm(s->hooks.list[k][i].env);
                }
        touch_kv(s->annotations, s->n_annotations);
        touch_kv(s->sysctl, s->n_sysctl);
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                touch_str(s->namespaces[t].path);
        for (size_t i = 0; i < s->n_devices; i++)
                touch_str(s->devices[i].path);
        touch_strv(s->masked_paths, s->n_masked_paths, true);
        touch_strv(s->readonly_paths, s->n_readonly_paths, true);
        touch_str(s->cgroups_path);
        touch_str(s->mount_label);
        touch_str(s->personality_domain);
        if (s->has_resources)
                touch_resources(&s->resources);
        if (s->has_seccomp)
                touch_seccomp(&s->seccomp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct berth_err err = {0};
        const char *json = (const char *)data;

#if FUZZ_TARGET == FUZZ_SPEC
        struct berth_spec *s = berth_spec_parse(json, size, &err);
        if (s)
                touch_spec(s);
        berth_spec_free(s);
        bool ok = s != NULL;
#elif FUZZ_TARGET == FUZZ_PROCESS
        struct berth_process *p = berth_process_parse(json, size, &err);
        if (p)
                touch_process(p);
        berth_process_free(p);
        bool ok = p != NULL;
#else
        struct berth_resources *r = berth_resources_parse(json, size, &err);
        if (r)
                touch_resources(r);
        berth_resources_free(r);
        bool ok = r != NULL;
#endif
        /* A failure always explains itself. */
        if (!ok && (err.code == 0 || err.msg[0] == '\0'))
                abort();
        return 0;
}
