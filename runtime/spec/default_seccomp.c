/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default linux.seccomp profile that `berth spec` writes.
 *
 * An allow list in the spirit of the usual container default, written from
 * the kernel's syscall tables (arch/x86/entry/syscalls, the generic
 * unistd.h used by arm64, and the 32-bit arm table):
 *
 *  - defaultAction ERRNO with ENOSYS: a syscall the list does not know (a
 *    newer kernel's, e.g. clone3 or one libseccomp cannot even name yet)
 *    looks unimplemented, so glibc and friends fall back to the older call
 *    (clone3 -> clone) instead of failing with EPERM;
 *  - known dangerous syscalls are refused explicitly with EPERM, which
 *    programs report as "not allowed" rather than "not implemented";
 *  - a static profile cannot see the capability set, so everything that
 *    would only be safe with CAP_SYS_ADMIN (mounts, namespaces) is refused
 *    for everyone; a container that needs it gets its own profile.
 *
 * The architectures are those the host can run: x86_64 with its 32-bit and
 * x32 ABIs, or aarch64 with 32-bit arm. Listing every family would only
 * grow the BPF program. */
#include <errno.h>
#include <stdint.h>

#include "berth/cleanup.h"
#include "runtime/spec/default_seccomp.h"

/* Allowed unconditionally. Sorted (strcmp); names a given kernel or
 * libseccomp does not know are skipped when the profile is loaded. */
static const char *const allowed_syscalls[] = {
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "arch_prctl",
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "bind",
    "breakpoint",
    "brk",
    "cacheflush",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "chroot",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "get_mempolicy",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "modify_ldt",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "nice",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setdomainname",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "sethostname",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaction",
    "sigaltstack",
    "signal",
    "signalfd",
    "signalfd4",
    "sigpending",
    "sigprocmask",
    "sigreturn",
    "sigsuspend",
    "socket",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "sync_file_range2",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
};

/* Refused with EPERM. Sorted (strcmp). Why, by group:
 *  - kernel and system state: kexec_*, *_module, reboot, swapon/off, acct,
 *    syslog, quotactl*, settimeofday/stime/clock_settime*, ioperm/iopl,
 *    pciconfig_*, bdflush, _sysctl, nfsservctl, vhangup, lookup_dcookie,
 *    uselib, vm86*;
 *  - mounts and namespaces (CAP_SYS_ADMIN in real life): mount, umount*,
 *    pivot_root, the new mount API (fsopen, fsconfig, fsmount, fspick,
 *    move_mount, open_tree*, mount_setattr), unshare, setns;
 *  - big attack surface for little use in a container: bpf,
 *    perf_event_open, userfaultfd (stalls kernel paths on a user page
 *    fault, a classic exploit helper), fanotify_init;
 *  - the kernel keyring is not namespaced: keyctl, add_key, request_key;
 *  - file handles bypass path-based confinement (open_by_handle_at was
 *    the "shocker" container escape): open_by_handle_at, name_to_handle_at;
 *  - looking into or moving other processes' memory: process_vm_readv,
 *    process_vm_writev, process_madvise, kcmp, migrate_pages, move_pages;
 *  - io_uring_*: the operations it runs are not syscalls, so this very
 *    filter never sees them (an allowed io_uring is a way around it), and
 *    io_uring has been a steady source of kernel privilege escalations. */
static const char *const refused_syscalls[] = {
    "_sysctl",
    "acct",
    "add_key",
    "bdflush",
    "bpf",
    "clock_settime",
    "clock_settime64",
    "create_module",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "migrate_pages",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "open_tree_attr",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
    "perf_event_open",
    "pivot_root",
    "process_madvise",
    "process_vm_readv",
    "process_vm_writev",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "syslog",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "vhangup",
    "vm86",
    "vm86old",
};

/* personality(2) is allowed only for these domains: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (query). Others (e.g.
 * READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) weaken the address space layout. */
static const uint64_t personality_allowed[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* clone(2) flags that create namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS,
 * NEWIPC, NEWUSER, NEWPID, NEWNET); flags is argument 0 on every
 * architecture listed here (s390 would differ). clone3 passes its flags in
 * memory, where seccomp cannot look: it gets ENOSYS from the default. */
static const uint64_t clone_ns_flags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                          0x10000000, 0x20000000, 0x40000000};

static json_t *name_array(const char *const *names, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(names[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *arg_rule(const char *name, const char *action, int errno_ret, uint64_t value, uint64_t value2,
                        const char *op)
{
        json_t *r =
            json_pack("{s:[s], s:s, s:[{s:i, s:I, s:I, s:s}]}", "names", name, "action", action, "args",
                      "index", 0, "value", (json_int_t)value, "valueTwo", (json_int_t)value2, "op", op);
        if (r && errno_ret && json_object_set_new(r, "errnoRet", json_integer(errno_ret)) < 0) {
                json_decref(r);
                return NULL;
        }
        return r;
}

static int add_list_rules(json_t *rules)
{
        json_t *allow =
            json_pack("{s:o, s:s}", "names", name_array(allowed_syscalls, BERTH_ARRAY_SIZE(allowed_syscalls)),
                      "action", "SCMP_ACT_ALLOW");
        json_t *refuse = json_pack("{s:o, s:s, s:i}", "names",
                                   name_array(refused_syscalls, BERTH_ARRAY_SIZE(refused_syscalls)), "action",
                                   "SCMP_ACT_ERRNO", "errnoRet", EPERM);
        if (json_array_append_new(rules, allow) < 0 || json_array_append_new(rules, refuse) < 0)
                return -ENOMEM;
        return 0;
}

static int add_arg_rules(json_t *rules)
{
        /* One rule per value: the values are alternatives. */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(personality_allowed); i++)
                if (json_array_append_new(rules, arg_rule("personality", "SCMP_ACT_ALLOW", 0,
                                                          personality_allowed[i], 0, "SCMP_CMP_EQ")) < 0)
                        return -ENOMEM;
        /* clone without any namespace flag: (flags & all) == 0. */
        uint64_t all = 0;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(clone_ns_flags); i++)
                all |= clone_ns_flags[i];
        if (json_array_append_new(rules,
                                  arg_rule("clone", "SCMP_ACT_ALLOW", 0, all, 0, "SCMP_CMP_MASKED_EQ")) < 0)
                return -ENOMEM;
        /* clone with one: EPERM rather than the default's ENOSYS, so that
         * the program says "not permitted". */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(clone_ns_flags); i++)
                if (json_array_append_new(rules, arg_rule("clone", "SCMP_ACT_ERRNO", EPERM, clone_ns_flags[i],
                                                          clone_ns_flags[i], "SCMP_CMP_MASKED_EQ")) < 0)
                        return -ENOMEM;
        return 0;
}

static json_t *architectures(void)
{
#if defined(__x86_64__) || defined(__i386__)
        return json_pack("[s, s, s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__) || defined(__arm__)
        return json_pack("[s, s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#else
        return json_array(); /* the native architecture only */
#endif
}

json_t *default_seccomp_json(void)
{
        json_t *rules = json_array();
        if (!rules || add_list_rules(rules) < 0 || add_arg_rules(rules) < 0) {
                json_decref(rules);
                return NULL;
        }
        return json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", ENOSYS,
                         "architectures", architectures(), "syscalls", rules);
}
