// RUN --mount inside the sandbox: mount points made without following symlinks, bind,
// tmpfs and in-memory files. Runs in the forked child like the rest of sandbox.c: system
// calls only, on memory prepared before the fork.
#define _GNU_SOURCE
#include "slipway_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static size_t length_of(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

static void append(char *buffer, size_t *n, size_t capacity, const char *text) {
    for (size_t i = 0; text[i] && *n < capacity; i++) buffer[(*n)++] = text[i];
}

/// "run-mount <step> /<target> <errno>" on the error pipe, then the child ends.
static void mount_fail(int fd, const char *step, const char *target) {
    int code = errno;
    char buffer[4200];
    size_t n = 0;
    append(buffer, &n, 4096, "run-mount ");
    append(buffer, &n, 4096, step);
    append(buffer, &n, 4096, " /");
    append(buffer, &n, 4096, target);
    buffer[n++] = ' ';
    char digits[16];
    int d = 0;
    do { digits[d++] = (char)('0' + code % 10); code /= 10; } while (code > 0 && d < 15);
    while (d > 0) buffer[n++] = digits[--d];
    ssize_t ignored = write(fd, buffer, n);
    (void)ignored;
    _exit(127);
}

/// Makes the mount point: missing directories (0755) and, for a file, an empty file; an
/// existing symlink anywhere on the way is refused (it could point outside the root).
static void make_mount_point(const char *target, int is_file, int error_fd) {
    int dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) mount_fail(error_fd, "open-root", target);
    const char *p = target;
    char component[256];
    while (*p) {
        const char *end = p;
        while (*end && *end != '/') end++;
        size_t n = (size_t)(end - p);
        const char *next = *end ? end + 1 : end;
        while (*next == '/') next++;
        if (n == 0) { p = next; continue; }
        if (n >= sizeof component) { errno = ENAMETOOLONG; mount_fail(error_fd, "mkdir", target); }
        memcpy(component, p, n);
        component[n] = 0;
        int last = *next == 0;
        struct stat info;
        if (fstatat(dir, component, &info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) mount_fail(error_fd, "stat", target);
            if (last && is_file) {
                int fd = openat(dir, component, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0) mount_fail(error_fd, "create", target);
                close(fd);
            } else if (mkdirat(dir, component, 0755) != 0) {
                mount_fail(error_fd, "mkdir", target);
            }
        } else if (S_ISLNK(info.st_mode)) {
            errno = ELOOP;
            mount_fail(error_fd, "symlink", target);
        } else if (last && is_file && S_ISDIR(info.st_mode)) {
            errno = EISDIR;
            mount_fail(error_fd, "file-over-directory", target);
        } else if (!(last && is_file) && !S_ISDIR(info.st_mode)) {
            errno = ENOTDIR;
            mount_fail(error_fd, "not-a-directory", target);
        }
        if (!last) {
            int child = openat(dir, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child < 0) mount_fail(error_fd, "open", target);
            close(dir);
            dir = child;
        }
        p = next;
    }
    close(dir);
}

/// The flags a user namespace locks on a mount: a read-only remount must repeat them.
static unsigned long locked_flags(const char *path) {
    struct statvfs info;
    if (statvfs(path, &info) != 0) return 0;
    unsigned long flags = 0;
    if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (info.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (info.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (info.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

static void remount_readonly(const char *target, unsigned long extra, int error_fd) {
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(target) | extra;
    if (mount(0, target, 0, flags, 0) != 0) mount_fail(error_fd, "remount-readonly", target);
}

static const char staging[] = "dev/.slipway-mount-files";

/// The n-th staged file's path: "dev/.slipway-mount-files/<n>".
static void staged_path(char *out, int n) {
    size_t len = sizeof staging - 1;
    memcpy(out, staging, len);
    out[len++] = '/';
    char digits[16];
    int d = 0;
    do { digits[d++] = (char)('0' + n % 10); n /= 10; } while (n > 0 && d < 15);
    while (d > 0) out[len++] = digits[--d];
    out[len] = 0;
}

void slipway_apply_mounts(const struct slipway_mount *mounts, int count, int error_fd) {
    int files = 0;
    for (int i = 0; i < count; i++) if (mounts[i].kind == SLIPWAY_MOUNT_FILE) files++;
    if (files > 0) {
        if (mkdir(staging, 0700) != 0) mount_fail(error_fd, "mkdir", staging);
        if (mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) mount_fail(error_fd, "tmpfs", staging);
    }
    for (int i = 0; i < count; i++) {
        const struct slipway_mount *m = &mounts[i];
        make_mount_point(m->target, m->target_is_file || m->kind == SLIPWAY_MOUNT_FILE, error_fd);
        switch (m->kind) {
        case SLIPWAY_MOUNT_BIND:
            if (mount(m->source, m->target, 0, MS_BIND | MS_REC, 0) != 0) mount_fail(error_fd, "bind", m->target);
            if (m->readonly) remount_readonly(m->target, 0, error_fd);
            break;
        case SLIPWAY_MOUNT_TMPFS:
            if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | (m->readonly ? MS_RDONLY : 0), m->options) != 0) mount_fail(error_fd, "tmpfs", m->target);
            break;
        case SLIPWAY_MOUNT_FILE: {
            char path[64];
            staged_path(path, i);
            int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
            if (fd < 0) mount_fail(error_fd, "create", m->target);
            long written = 0;
            while (written < m->length) {
                ssize_t n = write(fd, m->data + written, (size_t)(m->length - written));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) mount_fail(error_fd, "write", m->target);
                written += n;
            }
            if (m->set_owner && fchown(fd, m->uid, m->gid) != 0) mount_fail(error_fd, "chown", m->target);
            if (fchmod(fd, m->set_owner ? (m->mode & 07777) : 0400) != 0) mount_fail(error_fd, "chmod", m->target);
            close(fd);
            if (mount(path, m->target, 0, MS_BIND, 0) != 0) mount_fail(error_fd, "bind", m->target);
            remount_readonly(m->target, MS_NOSUID | MS_NODEV | ((m->mode & 0111) ? 0 : MS_NOEXEC), error_fd);
            break;
        }
        default:
            errno = EINVAL;
            mount_fail(error_fd, "kind", m->target);
        }
        if (m->set_owner && m->kind != SLIPWAY_MOUNT_FILE) {
            if (chown(m->target, m->uid, m->gid) != 0) mount_fail(error_fd, "chown", m->target);
            if (chmod(m->target, m->mode & 07777) != 0) mount_fail(error_fd, "chmod", m->target);
        }
    }
    if (files > 0) {
        // The bind mounts keep the files; the staging directory goes, leaving /dev as it was.
        if (umount2(staging, MNT_DETACH) != 0) mount_fail(error_fd, "detach", staging);
        if (rmdir(staging) != 0) mount_fail(error_fd, "rmdir", staging);
    }
}
