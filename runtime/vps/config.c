/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps.json: a VPS's own configuration, parsed into struct berth_vps_config
 * and written back atomically. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

void berth_vps_config_clear(struct berth_vps_config *cfg)
{
        free(cfg->name);
        free(cfg->template_name);
        free(cfg->hostname);
        free(cfg->created);
        vps_strv_free(cfg->init);
        free(cfg->net.addrs);
        vps_strv_free(cfg->net.nameservers);
        memset(cfg, 0, sizeof(*cfg));
}

static int get_str(json_t *o, const char *key, bool required, char **out, struct berth_err *err)
{
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return berth_err_set(err, EINVAL, "vps.json: %s: missing", key);
                return 0;
        }
        if (!json_is_string(v))
                return berth_err_set(err, EINVAL, "vps.json: %s: not a string", key);
        if (!(*out = strdup(json_string_value(v))))
                return berth_err_set(err, ENOMEM, "vps.json: out of memory");
        return 1;
}

static int get_strv(json_t *o, const char *key, char ***out, size_t *n, struct berth_err *err)
{
        json_t *a = json_object_get(o, key);
        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return berth_err_set(err, EINVAL, "vps.json: %s: not an array", key);
        if (!(*out = calloc(json_array_size(a) + 1, sizeof(char *))))
                return berth_err_set(err, ENOMEM, "vps.json: out of memory");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                if (!json_is_string(e))
                        return berth_err_set(err, EINVAL, "vps.json: %s[%zu]: not a string", key, i);
                if (!((*out)[i] = strdup(json_string_value(e))))
                        return berth_err_set(err, ENOMEM, "vps.json: out of memory");
        }
        if (n)
                *n = json_array_size(a);
        return 1;
}

static int get_int(json_t *o, const char *key, bool *has, int64_t *out, struct berth_err *err)
{
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return berth_err_set(err, EINVAL, "vps.json: %s: not a non-negative integer", key);
        *out = json_integer_value(v);
        if (has)
                *has = true;
        return 1;
}

static int parse_limits(json_t *o, struct berth_vps_limits *l, struct berth_err *err)
{
        if (!o)
                return 0;
        int64_t quota = 0, weight = 0;
        int r = get_int(o, "memory", &l->has_memory, &l->memory, err);
        if (r >= 0)
                r = get_int(o, "swap", &l->has_swap, &l->swap, err);
        if (r >= 0)
                r = get_int(o, "cpu_quota", &l->has_cpus, &quota, err);
        if (r >= 0)
                r = get_int(o, "cpu_weight", &l->has_cpu_weight, &weight, err);
        if (r >= 0)
                r = get_int(o, "pids", &l->has_pids, &l->pids, err);
        l->cpu_quota = (uint64_t)quota;
        l->cpu_weight = (uint64_t)weight;
        if (r >= 0)
                r = vps_storage_limits_parse(o, l, err);
        return r < 0 ? r : 0;
}

static int parse_addr_field(json_t *o, const char *key, struct berth_ip_addr *a, struct berth_err *err)
{
        _cleanup_free_ char *s = NULL;
        int r = get_str(o, key, false, &s, err);
        if (r <= 0)
                return r;
        r = berth_ip_addr_parse(s, a, err);
        return r < 0 ? berth_err_wrap(err, "vps.json: net.%s", key) : 0;
}

static int parse_addrs(json_t *o, struct berth_vps_net *n, struct berth_err *err)
{
        _cleanup_strv_ char **v = NULL;
        size_t count = 0;
        int r = get_strv(o, "addresses", &v, &count, err);
        if (r <= 0)
                return r;
        if (!(n->addrs = calloc(count + 1, sizeof(*n->addrs))))
                return berth_err_set(err, ENOMEM, "vps.json: out of memory");
        for (size_t i = 0; i < count; i++, n->n_addrs++)
                if (berth_ip_addr_parse(v[i], &n->addrs[i], err) < 0)
                        return berth_err_wrap(err, "vps.json: net.addresses[%zu]", i);
        return 0;
}

static int parse_net(json_t *o, struct berth_vps_net *n, struct berth_err *err)
{
        if (!o)
                return berth_err_set(err, EINVAL, "vps.json: net: missing");
        _cleanup_free_ char *mode = NULL, *bridge = NULL, *host_if = NULL;
        int r = get_str(o, "mode", true, &mode, err);
        if (r < 0)
                return r;
        if (strcmp(mode, "bridged") && strcmp(mode, "routed"))
                return berth_err_set(err, EINVAL, "vps.json: net.mode: bridged or routed, not \"%s\"", mode);
        n->mode = strcmp(mode, "routed") ? BERTH_NET_BRIDGED : BERTH_NET_ROUTED;
        if ((r = get_str(o, "host_if", true, &host_if, err)) < 0)
                return r;
        if ((r = get_str(o, "bridge", n->mode == BERTH_NET_BRIDGED, &bridge, err)) < 0)
                return r;
        if (!berth_ifname_valid(host_if) || (bridge && !berth_ifname_valid(bridge)))
                return berth_err_set(err, EINVAL, "vps.json: net: invalid interface name");
        snprintf(n->host_if, sizeof(n->host_if), "%s", host_if);
        snprintf(n->bridge, sizeof(n->bridge), "%s", bridge ? bridge : "");
        if ((r = parse_addr_field(o, "gateway4", &n->gw4, err)) < 0 ||
            (r = parse_addr_field(o, "gateway6", &n->gw6, err)) < 0 || (r = parse_addrs(o, n, err)) < 0)
                return r;
        r = get_strv(o, "nameservers", &n->nameservers, &n->n_nameservers, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *mac = NULL;
        if ((r = get_str(o, "mac", false, &mac, err)) < 0)
                return r;
        if (mac && vps_mac_parse(mac, n->mac) < 0)
                return berth_err_set(err, EINVAL, "vps.json: net.mac: not a unicast MAC address: %s", mac);
        n->has_mac = mac != NULL;
        json_t *f = json_object_get(o, "filter");
        n->no_filter = f && json_is_false(f);
        return vps_bandwidth_parse(o, n, err);
}

static int parse_doc(json_t *doc, struct berth_vps_config *cfg, struct berth_err *err)
{
        if (!json_is_object(doc))
                return berth_err_set(err, EINVAL, "vps.json: not an object");
        int r;
        if ((r = get_str(doc, "name", true, &cfg->name, err)) < 0 ||
            (r = get_str(doc, "template", true, &cfg->template_name, err)) < 0 ||
            (r = get_str(doc, "hostname", true, &cfg->hostname, err)) < 0 ||
            (r = get_str(doc, "created", false, &cfg->created, err)) < 0 ||
            (r = get_strv(doc, "init", &cfg->init, NULL, err)) < 0)
                return r;
        if (!berth_vps_name_valid(cfg->name))
                return berth_err_set(err, EINVAL, "vps.json: name: invalid \"%s\"", cfg->name);
        if (cfg->init && !cfg->init[0])
                return berth_err_set(err, EINVAL, "vps.json: init: empty");
        int64_t sig = 0;
        if ((r = get_int(doc, "stop_signal", NULL, &sig, err)) < 0)
                return r;
        if (sig >= _NSIG)
                return berth_err_set(err, EINVAL, "vps.json: stop_signal: %lld is not a signal",
                                     (long long)sig);
        cfg->stop_signal = (int)sig;
        cfg->autostart = json_is_true(json_object_get(doc, "autostart"));
        cfg->allow_io_uring = json_is_true(json_object_get(doc, "allow_io_uring"));
        if ((r = parse_limits(json_object_get(doc, "limits"), &cfg->limits, err)) < 0 ||
            (r = vps_userns_from_json(json_object_get(doc, "userns"), &cfg->userns, err)) < 0 ||
            (r = vps_devices_from_json(json_object_get(doc, "devices"), &cfg->devices, err)) < 0 ||
            (r = vps_disk_parse(json_object_get(doc, "disk"), &cfg->disk, err)) < 0)
                return r;
        return parse_net(json_object_get(doc, "net"), &cfg->net, err);
}

int berth_vps_config_parse(const char *json, size_t len, struct berth_vps_config *cfg, struct berth_err *err)
{
        memset(cfg, 0, sizeof(*cfg));
        json_error_t jerr;
        _cleanup_json_ json_t *doc = json_loadb(json, len, 0, &jerr);
        if (!doc)
                return berth_err_set(err, EINVAL, "vps.json: line %d: %s", jerr.line, jerr.text);
        int r = parse_doc(doc, cfg, err);
        if (r < 0)
                berth_vps_config_clear(cfg);
        return r;
}

int berth_vps_config_load(const struct berth_vps_ctx *v, const char *name, struct berth_vps_config *cfg,
                          struct berth_err *err)
{
        memset(cfg, 0, sizeof(*cfg));
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", name);
        char path[PATH_MAX];
        int r = berth_vps_path(v, name, "vps.json", path, sizeof(path));
        if (r < 0)
                return berth_err_sys(err, -r, "VPS %s", name);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        r = berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return berth_err_set(err, ENOENT, "VPS %s does not exist", name);
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        r = berth_vps_config_parse(text, len, cfg, err);
        if (r >= 0 && strcmp(cfg->name, name)) {
                berth_vps_config_clear(cfg);
                return berth_err_set(err, EINVAL, "%s: name \"%s\" does not match the directory", path, name);
        }
        return r < 0 ? berth_err_wrap(err, "VPS %s", name) : 0;
}
