/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth's exec trampoline: a tiny static program (no libc, raw syscalls)
 * that the container init and the exec child run from a sealed memfd just
 * before the container's own execve (runtime/trampoline.c). During that
 * execve /proc/self/exe is then this memfd, never the host's berth binary,
 * so "/proc/self/exe" (or a #! or PT_INTERP naming it) cannot run berth
 * inside the container (CVE-2019-5736).
 *
 *   argv[0]  the path to execve (already resolved by berth_exe_lookup)
 *   argv[1]  where to report a failure: "t<fd>" text (the exec fifo that
 *            `start` reads), "s<fd>" one SYNC_ERROR message (runtime/sync.h)
 *            on the sync socket, "-" stderr only
 *   argv[2.] the container process's argv, argv[2] its argv[0]
 *
 * The report fd survives our own exec (berth cleared close-on-exec) and is
 * set close-on-exec again here, so that its EOF still tells the other end
 * that the container's execve succeeded. Built by CMakeLists.txt with
 * -nostdlib -static and embedded into berthcore as bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "runtime/init/sync.h"

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n\txor %ebp, %ebp\n\tmov %rsp, %rdi\n"
        "\tand $-16, %rsp\n\tcall tramp_main\n\thlt\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n"
        "\tbl tramp_main\n\tbrk #0\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;
        register long x5 __asm__("x5") = f;
        __asm__ volatile("svc 0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                         : "memory");
        return x0;
}
#elif defined(__riscv) && __riscv_xlen == 64
/* gp first, as crt1 does: the linker may relax accesses to gp-relative. */
__asm__(".text\n.global _start\n_start:\n\t.option push\n\t.option norelax\n"
        "\tlla gp, __global_pointer$\n\t.option pop\n\tmv fp, zero\n\tmv ra, zero\n\tmv a0, sp\n"
        "\tandi sp, sp, -16\n\tcall tramp_main\n\tebreak\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
        register long a7 __asm__("a7") = n;
        register long a0 __asm__("a0") = a;
        register long a1 __asm__("a1") = b;
        register long a2 __asm__("a2") = c;
        register long a3 __asm__("a3") = d;
        register long a4 __asm__("a4") = e;
        register long a5 __asm__("a5") = f;
        __asm__ volatile("ecall"
                         : "+r"(a0)
                         : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                         : "memory");
        return a0;
}
#else
#error "berth's exec trampoline: add _start and sys6 for this architecture"
#endif

#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

void tramp_main(long *sp) __attribute__((noreturn, used));

/* The compiler may emit calls to these for struct copies and clears. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
        unsigned char *p = d;
        while (n--)
                *p++ = (unsigned char)c;
        return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
        unsigned char *p = d;
        const unsigned char *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}

/* glibc's strerror() wording for what execve can fail with, so that the
 * message reads exactly as berth's own "exec PATH: ..." did. */
static const char *errno_text(long e)
{
        static const struct {
                short e;
                const char *text;
        } t[] = {
            {EPERM, "Operation not permitted"},
            {ENOENT, "No such file or directory"},
            {EIO, "Input/output error"},
            {E2BIG, "Argument list too long"},
            {ENOEXEC, "Exec format error"},
            {EAGAIN, "Resource temporarily unavailable"},
            {ENOMEM, "Cannot allocate memory"},
            {EACCES, "Permission denied"},
            {EFAULT, "Bad address"},
            {ENOTDIR, "Not a directory"},
            {EISDIR, "Is a directory"},
            {EINVAL, "Invalid argument"},
            {ENFILE, "Too many open files in system"},
            {EMFILE, "Too many open files"},
            {ETXTBSY, "Text file busy"},
            {ENAMETOOLONG, "File name too long"},
            {ENOSYS, "Function not implemented"},
            {ELOOP, "Too many levels of symbolic links"},
            {ELIBBAD, "Accessing a corrupted shared library"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (t[i].e == e)
                        return t[i].text;
        return "Unknown error";
}

struct buf {
        char *p;
        size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
        while (*s && b->len + 1 < b->cap)
                b->p[b->len++] = *s++;
        b->p[b->len] = '\0';
}

static void report(char kind, long fd, const char *path, long e)
{
        struct sync_msg m = {.type = SYNC_ERROR, .value = (int32_t)e};
        struct buf b = {m.text, 0, sizeof(m.text)};
        put(&b, "exec ");
        put(&b, path);
        put(&b, ": ");
        put(&b, errno_text(e));
        long r = -1;
        if (kind == 't')
                r = sys3(SYS_write, fd, m.text, b.len);
        else if (kind == 's')
                r = sys6(SYS_sendto, fd, (long)&m, (long)(offsetof(struct sync_msg, text) + b.len + 1),
                         MSG_NOSIGNAL, 0, 0);
        if (r < 0) {
                /* Nobody listens any more: the container's stderr is all
                 * that is left, as for berth's own late failures. */
                put(&b, "\n");
                sys3(SYS_write, 2, "berth: ", 7);
                sys3(SYS_write, 2, m.text, b.len);
        }
}

/* "t12" -> 't', 12; anything else -> 0 (stderr only). */
static char parse_report(const char *s, long *fd)
{
        char kind = s[0];
        *fd = 0;
        if ((kind != 't' && kind != 's') || !s[1])
                return 0;
        for (s++; *s; s++) {
                if (*s < '0' || *s > '9' || *fd > 1000000)
                        return 0;
                *fd = *fd * 10 + (*s - '0');
        }
        return kind;
}

void tramp_main(long *sp)
{
        long argc = sp[0];
        char **argv = (char **)(sp + 1);
        char **envp = argv + argc + 1;
        if (argc < 3) {
                /* Not started by berth (e.g. the container ran
                 * /proc/self/exe while we were it): there is nothing to run. */
                static const char msg[] = "berth: exec trampoline: nothing to execute\n";
                sys3(SYS_write, 2, msg, sizeof(msg) - 1);
                sys3(SYS_exit_group, 127, 0, 0);
        }
        long fd;
        char kind = parse_report(argv[1], &fd);
        /* Close-on-exec again, or the other end would not see EOF when the
         * container's program starts; if even that is refused (a seccomp
         * profile without fcntl), close it: never leak it into the container. */
        if (kind && sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0) {
                sys3(SYS_close, fd, 0, 0);
                kind = 0;
        }
        long e = -sys3(SYS_execve, argv[0], argv + 2, envp);
        report(kind, fd, argv[0], e);
        sys3(SYS_exit_group, e == ENOENT ? 127 : 126, 0, 0);
        __builtin_unreachable();
}
