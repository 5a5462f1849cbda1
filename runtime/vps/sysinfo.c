// SPDX-License-Identifier: GPL-2.0-or-later
/* sysinfo(2) as the VPS's own, answered by its console keeper.
 *
 * lxcfs gives the guest its own /proc/meminfo and /proc/uptime, but
 * busybox `free` and `uptime` (and glibc's sysconf(_SC_PHYS_PAGES)) ask
 * the kernel through sysinfo(2), which knows no cgroup. As Incus does,
 * the VPS's seccomp profile sends sysinfo to a user-notification listener
 * (spec: linux.seccomp.listenerPath = <vps>/sysinfo.sock; every process
 * that loads the profile, the init and each `vps exec`, hands its listener
 * fd there). The keeper holds the fds and answers from the VPS's cgroup:
 *
 *   totalram   the memory limit (the host's RAM when lower or unlimited)
 *   freeram    that minus the cgroup's usage (page cache included, as
 *              lxcfs's MemFree)
 *   totalswap  the swap limit (v1: memsw - memory; v2: swap.max), at most
 *   freeswap   the host's, minus the cgroup's swap usage
 *   procs      the tasks of the VPS's pids cgroup (the keeper not counted)
 *   uptime     since the VPS's init started
 *   sharedram, bufferram   0: they have no per-cgroup value, and the
 *              host's could exceed totalram
 *   loads and the rest     the host's (the load average is host-wide)
 *
 * The guest's memory is the guest's: the answer is written with the
 * notification still pending, into /proc/<pid>/mem, opened with
 * /proc/<pid>/maps *before* SECCOMP_IOCTL_NOTIF_ID_VALID confirms that the
 * pid is still the waiting task (the open fds pin that task's memory, so a
 * recycled pid cannot be written to). The write goes only where the task
 * itself may write, as the kernel's copy_to_user: /proc/<pid>/mem writes
 * with FOLL_FORCE, which would reach a read-only private page, so the
 * target range must lie in writable mappings of maps; anything else (an
 * unmapped or read-only pointer) gets EFAULT, as from the kernel. Anything else the keeper cannot answer (a foreign
 * architecture, the VPS's state not readable yet) continues the syscall
 * in the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the host's values,
 * what the guest saw before.
 *
 * Without a listener (the keeper was killed) the kernel fails sysinfo
 * with ENOSYS at once: it never hangs (docs/vps.md).
 *
 * What the guest can do to the keeper through this stays within its own
 * VPS: the keeper's CPU is charged to the VPS (cgroup.c); a page behind
 * userfaultfd fails the write (a remote access cannot wait for it); a
 * private mapping of a file on the guest's own FUSE mount can stall the
 * write until the guest answers or is stopped, which stalls only this
 * VPS's keeper (its console and sysinfo), never the host or another VPS. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/container.h"
#include "berth/file.h"
#include "berth/unix_socket.h"
#include "runtime/vps/internal.h"

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define NATIVE_AUDIT_ARCH 0 /* unknown here: every call continues */
#endif

void vps_sysinfo_init(struct vps_sysinfo *s, const struct berth_vps_ctx *v, const char *name)
{
        memset(s, 0, sizeof(*s));
        s->v = v;
        snprintf(s->name, sizeof(s->name), "%s", name);
        for (size_t i = 0; i < VPS_SYSINFO_MAX_FDS; i++)
                s->fds[i] = -EBADF;
        struct seccomp_notif_sizes sz;
        s->notif_size = sizeof(struct seccomp_notif);
        s->resp_size = sizeof(struct seccomp_notif_resp);
        /* The kernel's structs may be larger than this build's headers. */
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == 0) {
                if (sz.seccomp_notif > s->notif_size)
                        s->notif_size = sz.seccomp_notif;
                if (sz.seccomp_notif_resp > s->resp_size)
                        s->resp_size = sz.seccomp_notif_resp;
        }
}

void vps_sysinfo_clear(struct vps_sysinfo *s)
{
        for (size_t i = 0; i < VPS_SYSINFO_MAX_FDS; i++)
                berth_closep(&s->fds[i]);
        berth_cgroup_free(s->cg);
        s->cg = NULL;
}

/* A process that loaded the VPS's profile hands its listener over (the
 * runtime's message: the fd and the state JSON, of which nothing is
 * needed here). Only what answers like a listener is kept. */
void vps_sysinfo_accept(struct vps_sysinfo *s, int listen_fd)
{
        _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return;
        struct berth_err err = {0};
        _cleanup_close_ int fd = berth_recv_fd(conn, &err);
        uint64_t probe = 0;
        if (fd < 0)
                return; /* a connection without an fd: vps exec's look at us (exec.c) */
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &probe) < 0 && errno != ENOENT) {
                vps_warn(s->v, "VPS %s: sysinfo: not a seccomp listener: %s", s->name, strerror(errno));
                return;
        }
        for (size_t i = 0; i < VPS_SYSINFO_MAX_FDS; i++)
                if (s->fds[i] < 0) {
                        s->fds[i] = TAKE_FD(fd);
                        return;
                }
        /* Its processes get ENOSYS from sysinfo, as without a keeper. */
        vps_warn(s->v, "VPS %s: sysinfo: %d listeners already; one more is dropped", s->name,
                 VPS_SYSINFO_MAX_FDS);
}

/* The VPS's cgroup and init start, once the container's state tells. */
static int load_vps(struct vps_sysinfo *s)
{
        if (s->cg)
                return 0;
        struct berth_container_info info;
        struct berth_err err = {0};
        if (vps_container_load(s->v, s->name, &info, &err) < 0)
                return -1;
        if (info.st.cgroup && info.st.pid_start_time)
                s->cg = berth_cgroup_restore(info.st.cgroup, &err);
        s->start_ticks = info.st.pid_start_time;
        berth_container_info_clear(&info);
        if (!s->cg)
                return -1;
        s->hybrid = berth_cgroup_layout(s->cg) != BERTH_CG_UNIFIED;
        return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static uint64_t sub_u64(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

/* The swap limit and usage alone: v1's memsw counts memory too. */
static void swap_of(const struct berth_cgroup_stats *st, bool hybrid, uint64_t *limit, uint64_t *used)
{
        *limit = st->memory.swap_limit;
        *used = st->memory.swap_usage;
        if (!hybrid || *limit == BERTH_CG_UNLIMITED)
                return;
        *limit =
            st->memory.limit == BERTH_CG_UNLIMITED ? BERTH_CG_UNLIMITED : sub_u64(*limit, st->memory.limit);
        *used = sub_u64(*used, st->memory.usage);
}

int vps_sysinfo_compute(const struct sysinfo *host, const struct berth_cgroup_stats *st, bool hybrid,
                        uint64_t uptime, struct sysinfo *out)
{
        uint64_t unit = host->mem_unit ? host->mem_unit : 1;
        uint64_t ram = host->totalram * unit, swap = host->totalswap * unit;
        *out = *host;
        out->mem_unit = 1;
        out->totalram = ram;
        out->freeram = host->freeram * unit;
        out->totalswap = swap;
        out->freeswap = host->freeswap * unit;
        out->totalhigh = host->totalhigh * unit;
        out->freehigh = host->freehigh * unit;
        out->sharedram = 0;
        out->bufferram = 0;
        out->uptime = (long)uptime;
        if (st->memory.present && st->memory.limit != BERTH_CG_UNLIMITED) {
                out->totalram = min_u64(st->memory.limit, ram);
                out->freeram = sub_u64(out->totalram, st->memory.usage);
        }
        uint64_t swap_limit, swap_used;
        swap_of(st, hybrid, &swap_limit, &swap_used);
        if (st->memory.present && swap_limit != BERTH_CG_UNLIMITED) {
                out->totalswap = min_u64(swap_limit, swap);
                out->freeswap = sub_u64(out->totalswap, swap_used);
        }
        /* On a hybrid host the keeper shares the VPS's pids cgroup. */
        if (st->pids.present)
                out->procs = (unsigned short)min_u64(sub_u64(st->pids.current, hybrid ? 1 : 0), 0xffff);
        return 0;
}

static int answer(struct vps_sysinfo *s, struct sysinfo *out)
{
        struct sysinfo host;
        struct berth_cgroup_stats st = {0};
        struct berth_err err = {0};
        struct timespec now;
        if (load_vps(s) < 0 || sysinfo(&host) < 0 || berth_cgroup_stats(s->cg, &st, &err) < 0 ||
            clock_gettime(CLOCK_BOOTTIME, &now) < 0)
                return -1;
        long tck = sysconf(_SC_CLK_TCK);
        uint64_t started = s->start_ticks / (uint64_t)(tck > 0 ? tck : 100);
        return vps_sysinfo_compute(&host, &st, s->hybrid, sub_u64((uint64_t)now.tv_sec, started), out);
}

bool vps_maps_writable(const char *maps, uint64_t addr, uint64_t len)
{
        uint64_t end = addr + len;
        if (end < addr)
                return false;
        /* Sorted by address: each mapping must start where the range is. */
        for (const char *line = maps; line && *line && addr < end;) {
                unsigned long long lo, hi;
                char perms[5];
                if (sscanf(line, "%llx-%llx %4s", &lo, &hi, perms) == 3 && lo <= addr && addr < hi) {
                        if (perms[1] != 'w')
                                return false;
                        addr = hi;
                }
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
        }
        return addr >= end;
}

/* 0 written, -EFAULT a bad pointer, 1 the task is gone (no reply due). */
static int write_guest(int notify_fd, uint64_t id, pid_t pid, uint64_t addr, const struct sysinfo *si)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
        _cleanup_close_ int mem = open(path, O_WRONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        _cleanup_close_ int maps = open(path, O_RDONLY | O_CLOEXEC);
        /* After the opens: the pid may have been recycled before them. */
        if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
                return 1;
        _cleanup_free_ char *text = NULL;
        if (mem < 0 || maps < 0 || berth_read_fd(maps, 64 << 20, &text, NULL) < 0 ||
            !vps_maps_writable(text, addr, sizeof(*si)))
                return -EFAULT;
        ssize_t n = pwrite(mem, si, sizeof(*si), (off_t)addr);
        return n == (ssize_t)sizeof(*si) ? 0 : -EFAULT;
}

/* sysinfo: 0 answered (resp->error set), 1 the task is gone, -1 the
 * kernel's own answer. */
static int answer_sysinfo(struct vps_sysinfo *s, int fd, const struct seccomp_notif *req,
                          struct seccomp_notif_resp *resp)
{
        struct sysinfo si;
        if (answer(s, &si) < 0)
                return -1;
        int r = write_guest(fd, req->id, req->pid, req->data.args[0], &si);
        if (r <= 0)
                resp->error = r;
        return r > 0 ? 1 : 0;
}

static pid_t *free_syncer(struct vps_sysinfo *s)
{
        for (size_t i = 0; i < VPS_SYNC_CHILDREN_MAX; i++)
                if (!s->syncers[i])
                        return &s->syncers[i];
        return NULL;
}

bool vps_sysinfo_reaped(struct vps_sysinfo *s, pid_t pid)
{
        for (size_t i = 0; i < VPS_SYNC_CHILDREN_MAX; i++)
                if (s->syncers[i] == pid) {
                        s->syncers[i] = 0;
                        return true;
                }
        return false;
}

/* sync, as answer_sysinfo answers, but in a child of the keeper that sends
 * the answer itself (then 1 here): syncfs waits for the disk (and the
 * opens for the guest's mount table), and the keeper's loop must not (the
 * console, the other calls, every `vps exec` handing its listener over).
 * A guest with VPS_SYNC_CHILDREN_MAX syncs under way waits for its own:
 * the next is answered in the loop, which no other VPS shares. */
static int answer_sync(struct vps_sysinfo *s, int fd, const struct seccomp_notif *req,
                       struct seccomp_notif_resp *resp)
{
        pid_t *slot = free_syncer(s);
        pid_t pid = slot ? fork() : -1;
        if (pid > 0) {
                *slot = pid;
                return 1;
        }
        int r = vps_sync_answer(fd, req->id, req->pid);
        if (pid < 0)
                return r;
        if (r < 0)
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (r <= 0)
                ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
        _exit(0);
}

/* One call of a guest's task: sysinfo here, sync in sync.c. */
static void serve(struct vps_sysinfo *s, int fd)
{
        _cleanup_free_ struct seccomp_notif *req = calloc(1, s->notif_size);
        _cleanup_free_ struct seccomp_notif_resp *resp = calloc(1, s->resp_size);
        if (!req || !resp || ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
                return; /* ENOENT: the task was killed while it waited */
        resp->id = req->id;
        int r = -1;
        if (req->data.arch == NATIVE_AUDIT_ARCH && req->data.nr == __NR_sysinfo)
                r = answer_sysinfo(s, fd, req, resp);
        else if (req->data.arch == NATIVE_AUDIT_ARCH && req->data.nr == __NR_sync)
                r = answer_sync(s, fd, req, resp);
        if (r > 0)
                return;
        if (r < 0)
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        /* ENOENT when the task is gone meanwhile: nothing to tell. */
        ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

size_t vps_sysinfo_pollfds(const struct vps_sysinfo *s, struct pollfd *f)
{
        for (size_t i = 0; i < VPS_SYSINFO_MAX_FDS; i++)
                f[i] = (struct pollfd){.fd = s->fds[i], .events = POLLIN};
        return VPS_SYSINFO_MAX_FDS;
}

void vps_sysinfo_events(struct vps_sysinfo *s, const struct pollfd *f)
{
        for (size_t i = 0; i < VPS_SYSINFO_MAX_FDS; i++) {
                if (s->fds[i] < 0 || f[i].fd != s->fds[i])
                        continue;
                if (f[i].revents & POLLIN)
                        serve(s, s->fds[i]);
                else if (f[i].revents & (POLLHUP | POLLERR | POLLNVAL))
                        berth_closep(&s->fds[i]); /* its processes are all gone */
        }
}
