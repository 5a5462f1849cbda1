/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv6 forwarding for the traffic entering one interface (routed VPS).
 *
 * IPv4 forwards per input interface (conf/<if>/forwarding). IPv6 forwards
 * only when net.ipv6.conf.all.forwarding is on, unless the input interface
 * has force_forwarding, which Linux gained in 6.17; Debian 12 runs 6.1.
 *
 * all.forwarding is netns-wide and does more than forwarding: it copies
 * itself into every interface's forwarding, and an interface with
 * forwarding=1 ignores router advertisements unless its accept_ra is 2;
 * turning it on also drops the RA-learned default routes of interfaces
 * without accept_ra=2. A host that configures its uplink by SLAAC would
 * lose its IPv6 route. So before the switch, every interface that accepts
 * RAs now (accept_ra=1, forwarding=0) is raised to accept_ra=2: the set of
 * interfaces that learn from RAs stays exactly what it was. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/netns.h"

static int conf_read(const char *ifname, const char *leaf, char *buf, size_t len, struct berth_err *err)
{
        char key[128];
        snprintf(key, sizeof(key), "ipv6/conf/%s/%s", ifname, leaf);
        return berth_sysctl_net_read(-1, key, buf, len, err);
}

static int conf_write(const char *ifname, const char *leaf, const char *value, struct berth_err *err)
{
        char key[128];
        snprintf(key, sizeof(key), "ipv6/conf/%s/%s", ifname, leaf);
        return berth_sysctl_net_write(-1, key, value, err);
}

/* accept_ra 1 -> 2 on ifname when it takes RAs now; an interface that
 * vanished meanwhile is no error. */
static int keep_accepting_ra(const char *ifname, struct berth_err *err)
{
        char ra[16], fwd[16];
        int r = conf_read(ifname, "accept_ra", ra, sizeof(ra), err);
        if (r >= 0)
                r = conf_read(ifname, "forwarding", fwd, sizeof(fwd), err);
        if (r >= 0 && strcmp(ra, "1") == 0 && strcmp(fwd, "0") == 0)
                r = conf_write(ifname, "accept_ra", "2", err);
        if (r == -ENOENT) {
                berth_err_clear(err);
                return 0;
        }
        return r;
}

static bool is_pseudo_entry(const char *name)
{
        return name[0] == '.' || strcmp(name, "all") == 0 || strcmp(name, "default") == 0 ||
               strcmp(name, "lo") == 0;
}

static int keep_all_accepting_ra(struct berth_err *err)
{
        int fd = open("/proc/sys/net/ipv6/conf", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open /proc/sys/net/ipv6/conf");
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                return berth_err_sys(err, e, "read /proc/sys/net/ipv6/conf");
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (!is_pseudo_entry(de->d_name))
                        r = keep_accepting_ra(de->d_name, err);
        return r;
}

int berth_ipv6_forward_from(const char *ifname, struct berth_err *err)
{
        char all[16];
        int r = conf_write(ifname, "force_forwarding", "1", err);
        if (r != -ENOENT)
                return r;
        berth_err_clear(err); /* before 6.17: the netns-wide switch */
        r = conf_read("all", "forwarding", all, sizeof(all), err);
        if (r < 0 || strcmp(all, "1") == 0)
                return r;
        r = keep_all_accepting_ra(err);
        if (r >= 0)
                r = conf_write("all", "forwarding", "1", err);
        return r < 0 ? berth_err_wrap(err, "IPv6 forwarding from %s", ifname) : 0;
}
