/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps.json out: formatting, the atomic save (with config.json regenerated
 * from it), and the small parsers for sizes and CPU counts. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static int set_new(json_t *o, const char *key, json_t *v)
{
        return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *limits_json(const struct berth_vps_limits *l)
{
        json_t *o = json_object();
        int r = 0;
        if (o && l->has_memory)
                r |= set_new(o, "memory", json_integer(l->memory));
        if (o && l->has_swap)
                r |= set_new(o, "swap", json_integer(l->swap));
        if (o && l->has_cpus)
                r |= set_new(o, "cpu_quota", json_integer((json_int_t)l->cpu_quota));
        if (o && l->has_cpu_weight)
                r |= set_new(o, "cpu_weight", json_integer((json_int_t)l->cpu_weight));
        if (o && l->has_pids)
                r |= set_new(o, "pids", json_integer(l->pids));
        if (o)
                r |= vps_storage_limits_json(o, l);
        if (r && o) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *addr_json(const struct berth_ip_addr *a)
{
        char buf[BERTH_IP_ADDR_STRLEN];
        return a->family ? json_string(berth_ip_addr_format(a, true, buf, sizeof(buf))) : json_null();
}

static json_t *net_json(const struct berth_vps_net *n)
{
        json_t *addrs = json_array();
        for (size_t i = 0; addrs && i < n->n_addrs; i++)
                if (json_array_append_new(addrs, addr_json(&n->addrs[i])) < 0) {
                        json_decref(addrs);
                        return NULL;
                }
        char mac[18];
        if (n->has_mac)
                vps_mac_format(n->mac, mac);
        json_t *o = json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:s?}", "mode",
                              n->mode == BERTH_NET_ROUTED ? "routed" : "bridged", "host_if", n->host_if,
                              "bridge", n->bridge[0] ? n->bridge : NULL, "gateway4", addr_json(&n->gw4),
                              "gateway6", addr_json(&n->gw6), "addresses", addrs, "nameservers",
                              vps_strv_json((const char *const *)n->nameservers, SIZE_MAX), "mac",
                              n->has_mac ? mac : NULL);
        if (o && ((n->no_filter && json_object_set_new(o, "filter", json_false()) < 0) ||
                  vps_bandwidth_json(o, n) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* The same document for vps.json and for `status --json` / `list --json`. */
json_t *vps_config_json(const struct berth_vps_config *cfg)
{
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:s?, s:b}", "name", cfg->name, "template", cfg->template_name,
                      "hostname", cfg->hostname, "created", cfg->created, "autostart", cfg->autostart);
        if (!doc)
                return NULL;
        int r = 0;
        if (cfg->init)
                r |= set_new(doc, "init", vps_strv_json((const char *const *)cfg->init, SIZE_MAX));
        if (cfg->stop_signal)
                r |= set_new(doc, "stop_signal", json_integer(cfg->stop_signal));
        r |= set_new(doc, "limits", limits_json(&cfg->limits));
        r |= set_new(doc, "net", net_json(&cfg->net));
        r |= set_new(doc, "userns", vps_userns_json(&cfg->userns));
        if (cfg->allow_io_uring)
                r |= set_new(doc, "allow_io_uring", json_true());
        if (cfg->devices)
                r |= set_new(doc, "devices", vps_devices_json(cfg->devices));
        if (cfg->disk.backend != BERTH_VPS_DISK_NONE)
                r |= set_new(doc, "disk", vps_disk_json(&cfg->disk));
        if (r) {
                json_decref(doc);
                return NULL;
        }
        return doc;
}

char *berth_vps_config_format(const struct berth_vps_config *cfg)
{
        _cleanup_json_ json_t *doc = vps_config_json(cfg);
        return doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}

/* The effective init: vps.json's, else the template's, else /sbin/init. */
static int write_config_json(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                             const char *dir, struct berth_err *err)
{
        struct berth_vps_template t;
        int r = berth_vps_template_load(v, cfg->template_name, &t, err);
        if (r < 0)
                return r;
        static char *const default_init[] = {"/sbin/init", NULL};
        char *const *init = cfg->init ? cfg->init : t.init ? t.init : default_init;
        char cgroup[BERTH_VPS_NAME_MAX + 48];
        if ((r = vps_cgroup_path(v, cfg->name, cgroup, sizeof(cgroup))) < 0) {
                berth_vps_template_clear(&t);
                return berth_err_sys(err, -r, "cgroupsPath of VPS %s", cfg->name);
        }
        vps_trace(v, "VPS %s: template %s (%s), init %s, cgroupsPath %s, user namespace %s", cfg->name,
                  cfg->template_name, t.rootfs, init[0], cgroup,
                  cfg->userns.enabled ? "own" : "none (privileged)");
        _cleanup_free_ char *json = vps_spec_json(v, cfg, init, cgroup, err);
        berth_vps_template_clear(&t);
        if (!json)
                return -err->code;
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/config.json", dir) >= (int)sizeof(path))
                r = -ENAMETOOLONG;
        else
                r = vps_write_file_atomic(path, json, strlen(json));
        if (r < 0)
                return vps_err_write(err, -r, dir, "write config.json of VPS %s", cfg->name);
        vps_trace(v, "VPS %s: config.json %s", cfg->name, r ? "written" : "unchanged");
        return 0;
}

int vps_config_save_in(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *dir,
                       struct berth_err *err)
{
        _cleanup_free_ char *text = berth_vps_config_format(cfg);
        if (!text)
                return berth_err_set(err, ENOMEM, "format vps.json: out of memory");
        /* Its claims first: no vps.json holds an address without one. */
        if (vps_claims_write(v, cfg, err) < 0)
                return -err->code;
        char path[PATH_MAX];
        int r = snprintf(path, sizeof(path), "%s/vps.json", dir) >= (int)sizeof(path) ? -ENAMETOOLONG : 0;
        if (r >= 0)
                r = vps_write_file_atomic(path, text, strlen(text));
        if (r < 0)
                return vps_err_write(err, -r, dir, "write vps.json of VPS %s", cfg->name);
        vps_trace(v, "VPS %s: vps.json %s", cfg->name, r ? "written" : "unchanged");
        return write_config_json(v, cfg, dir, err);
}

int berth_vps_config_save(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_err *err)
{
        char dir[PATH_MAX];
        if (berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir)) < 0)
                return berth_err_set(err, ENAMETOOLONG, "VPS %s: path too long", cfg->name);
        return vps_config_save_in(v, cfg, dir, err);
}
