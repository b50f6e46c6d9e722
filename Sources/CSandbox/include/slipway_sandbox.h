#ifndef SLIPWAY_SANDBOX_H
#define SLIPWAY_SANDBOX_H
#include <sys/types.h>

struct slipway_mount;

/// One RUN's sandbox: everything is prepared by the caller before the fork, so the child
/// only makes system calls (async-signal-safe) before it execs.
struct slipway_sandbox {
    const char *rootfs;          /* absolute host path of the stage's materialised root */
    const char *workdir;         /* inside the root */
    const char *const *argv;     /* NULL-terminated */
    const char *const *envp;     /* NULL-terminated */
    const char *path_env;        /* the PATH used to find argv[0] when it has no '/' */
    uid_t uid;                   /* inside the namespace */
    gid_t gid;
    int rootless;                /* 1: new user namespace mapping 0 to the caller */
    uid_t outer_uid;             /* the caller's uid/gid (for the rootless mapping) */
    gid_t outer_gid;
    int new_network;             /* 1: empty network namespace (loopback only) */
    const char *const *binds;    /* NULL-terminated pairs: host source, target inside root; a
                                    trailing "ro:" prefix on the target makes it read-only */
    const char *const *tmpfs;    /* NULL-terminated targets inside root */
    int output_fd;               /* receives stdout and stderr */
    int error_fd;                /* the child writes a setup failure message here (CLOEXEC) */
    const struct slipway_mount *mounts; /* RUN --mount, applied in order after /dev (slipway_mount.h) */
    int mount_count;
};

/// Forks a process that enters new namespaces, pivots into `rootfs` and execs `argv`.
/// Returns the pid of the supervising child (its exit status is the command's), or -1.
pid_t slipway_sandbox_spawn(const struct slipway_sandbox *box);

/// pipe2(O_CLOEXEC) (a GNU extension Swift's Glibc module does not export).
int slipway_pipe_cloexec(int fds[2]);

/// copy_file_range over the whole remaining input; 0 at its end, -1 with errno when the file
/// systems cannot (the caller falls back to read/write).
long slipway_copy_file_range(int in, int out, long length);

/// A path's birth time in nanoseconds (statx STATX_BTIME, not following a symlink); 0 when
/// the file system does not record it. Tells a directory removed and made again from the old
/// one when the inode number was reused.
long long slipway_birth_time(const char *path);

/// Forks a child that unshares a user namespace, writes '1' on `ready_fd` (or '0' and exits
/// when the kernel refuses) and waits for '1' on `go_fd` (the parent has written its ID maps
/// with newuidmap/newgidmap by then), then becomes uid/gid 0 of the namespace and execs
/// `exe`. Returns the child's pid, or -1.
pid_t slipway_userns_spawn(const char *exe, const char *const *argv, const char *const *envp,
                           int ready_fd, int go_fd);

/// Waits for `child`, passing SIGTERM and SIGQUIT on to it (SIGINT and SIGHUP, which a
/// terminal sends to the whole process group, are ignored); returns its wait status or -1.
int slipway_userns_wait(pid_t child);

/// makedev/major/minor (macros Swift does not import): device numbers of RUN's device nodes.
dev_t slipway_make_device(unsigned int major_number, unsigned int minor_number);
unsigned int slipway_device_major(dev_t device);
unsigned int slipway_device_minor(dev_t device);

/// llistxattr/lgetxattr/lsetxattr (<sys/xattr.h>, which Swift's Glibc module does not export):
/// the xattrs RUN layers carry.
long slipway_llistxattr(const char *path, char *list, unsigned long size);
long slipway_lgetxattr(const char *path, const char *name, void *value, unsigned long size);
int slipway_lsetxattr(const char *path, const char *name, const void *value, unsigned long size);

#endif
