#ifndef SLIPWAY_MOUNT_H
#define SLIPWAY_MOUNT_H

/// What `RUN --mount` puts into the sandbox, prepared by the caller before the fork.
enum {
    SLIPWAY_MOUNT_BIND = 0,   /* a host directory or file (cache directory, bind source) */
    SLIPWAY_MOUNT_TMPFS = 1,  /* a fresh tmpfs */
    SLIPWAY_MOUNT_FILE = 2,   /* bytes written into a private tmpfs, never to disk (secrets) */
};

struct slipway_mount {
    int kind;
    const char *source;         /* bind: host path */
    const char *target;         /* relative to the root, symlinks already resolved by the caller;
                                   missing directories are made, a symlink on the way is refused */
    int readonly;
    int target_is_file;         /* the mount point is a file (bind of a file, FILE) */
    const char *options;        /* tmpfs: mount data such as "size=134217728"; may be NULL */
    const unsigned char *data;  /* FILE: the content */
    long length;
    int set_owner;              /* 1: the mounted root (FILE: the file) gets uid, gid and mode */
    unsigned int uid;
    unsigned int gid;
    unsigned int mode;
};

/// Applies `count` mounts in order, in the child after /proc and /dev are mounted and before
/// pivot_root (the working directory is the root). On failure reports "run-mount <step>
/// <target> <errno>" on `error_fd` and ends the child.
void slipway_apply_mounts(const struct slipway_mount *mounts, int count, int error_fd);

#endif
