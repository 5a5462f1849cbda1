// SPDX-License-Identifier: GPL-2.0-or-later
/* Static probe for vps_backup_test.sh, run inside a busybox guest (which
 * has no setfattr, setcap or getfattr):
 *
 *   bkprobe set PATH      user.berth xattr, a POSIX ACL with a named user
 *                         and group, and cap_net_raw+ep (written as v2:
 *                         the kernel stores it as v3 with the host uid of
 *                         the guest's root)
 *   bkprobe show PATH...  one line per path: owner, mode, links, size,
 *                         whether sparse, every xattr (sorted, hex); a
 *                         file capability reads back as v2 inside only
 *                         when its rootid is this guest's root
 *   bkprobe same A B      exit 0 when A and B are one inode */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static void put32(unsigned char *p, unsigned v)
{
        p[0] = v & 0xff, p[1] = (v >> 8) & 0xff, p[2] = (v >> 16) & 0xff, p[3] = (v >> 24) & 0xff;
}

static int set(const char *path)
{
        if (setxattr(path, "user.berth", "backup-test", 11, 0) < 0) {
                perror("user.berth");
                return 1;
        }
        /* version 2; USER_OBJ rw, USER 1234 r, GROUP_OBJ r, GROUP 5678 rw, MASK rw, OTHER none */
        static const unsigned tags[][3] = {{1, 6, 0xffffffffu}, {2, 4, 1234},         {4, 4, 0xffffffffu},
                                           {8, 6, 5678},        {16, 6, 0xffffffffu}, {32, 0, 0xffffffffu}};
        unsigned char acl[4 + 6 * 8];
        put32(acl, 2);
        for (int i = 0; i < 6; i++) {
                unsigned char *e = acl + 4 + 8 * i;
                e[0] = tags[i][0] & 0xff, e[1] = tags[i][0] >> 8;
                e[2] = tags[i][1] & 0xff, e[3] = 0;
                put32(e + 4, tags[i][2]);
        }
        if (setxattr(path, "system.posix_acl_access", acl, sizeof(acl), 0) < 0) {
                perror("acl");
                return 1;
        }
        unsigned char cap[20] = {0};
        put32(cap, 0x02000000u | 1u); /* v2, effective */
        put32(cap + 4, 1u << 13);     /* CAP_NET_RAW permitted */
        if (setxattr(path, "security.capability", cap, sizeof(cap), 0) < 0) {
                perror("security.capability");
                return 1;
        }
        return 0;
}

static int by_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int show(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0) {
                printf("%s missing\n", path);
                return 1;
        }
        printf("%s uid=%u gid=%u mode=%o nlink=%u size=%lld sparse=%d", path, (unsigned)st.st_uid,
               (unsigned)st.st_gid, (unsigned)st.st_mode, (unsigned)st.st_nlink, (long long)st.st_size,
               S_ISREG(st.st_mode) && (long long)st.st_blocks * 512 < (long long)st.st_size);
        char names[8192];
        ssize_t n = llistxattr(path, names, sizeof(names));
        char *v[64];
        int k = 0;
        for (char *p = names; n > 0 && p < names + n && k < 64; p += strlen(p) + 1)
                v[k++] = p;
        qsort(v, (size_t)k, sizeof(char *), by_str);
        for (int i = 0; i < k; i++) {
                unsigned char val[4096];
                ssize_t m = lgetxattr(path, v[i], val, sizeof(val));
                printf(" %s=", v[i]);
                if (m < 0)
                        printf("(error)");
                for (ssize_t j = 0; j < m; j++)
                        printf("%02x", val[j]);
        }
        printf("\n");
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && !strcmp(argv[1], "set"))
                return set(argv[2]);
        if (argc >= 3 && !strcmp(argv[1], "show")) {
                int r = 0;
                for (int i = 2; i < argc; i++)
                        r |= show(argv[i]);
                return r;
        }
        if (argc == 4 && !strcmp(argv[1], "same")) {
                struct stat a, b;
                return lstat(argv[2], &a) || lstat(argv[3], &b) || a.st_ino != b.st_ino ||
                       a.st_dev != b.st_dev;
        }
        fprintf(stderr, "usage: bkprobe set PATH | show PATH... | same A B\n");
        return 2;
}
