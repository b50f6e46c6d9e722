// The RUN sandbox: new mount, PID, IPC, UTS (and optionally user and network) namespaces,
// a private /proc and /dev, pivot_root into the stage's root, then exec. Everything after
// fork() is a plain system call on memory prepared before it: the calling process is
// multithreaded, so nothing here may allocate or take a lock.
#define _GNU_SOURCE
#include "slipway_sandbox.h"
#include "slipway_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <pthread.h>
#include <unistd.h>

static size_t text_length(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/// Reports "<step> <errno>" on the error pipe and ends the child.
static void fail(int fd, const char *step) {
    int code = errno;
    char buffer[256];
    size_t n = 0;
    size_t len = text_length(step);
    if (len > 200) len = 200;
    for (size_t i = 0; i < len; i++) buffer[n++] = step[i];
    buffer[n++] = ' ';
    char digits[16];
    int d = 0;
    do { digits[d++] = (char)('0' + code % 10); code /= 10; } while (code > 0 && d < 15);
    while (d > 0) buffer[n++] = digits[--d];
    ssize_t ignored = write(fd, buffer, n);
    (void)ignored;
    _exit(127);
}

static void write_file(const char *path, const char *text, int error_fd) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(error_fd, path);
    size_t len = text_length(text);
    if (write(fd, text, len) != (ssize_t)len) fail(error_fd, path);
    close(fd);
}

/// "0 <id> 1" for the rootless mapping.
static void format_map(char *out, unsigned long id) {
    char digits[24];
    int d = 0;
    do { digits[d++] = (char)('0' + id % 10); id /= 10; } while (id > 0 && d < 23);
    int n = 0;
    out[n++] = '0'; out[n++] = ' ';
    while (d > 0) out[n++] = digits[--d];
    out[n++] = ' '; out[n++] = '1'; out[n] = 0;
}

static const char *const device_names[] = {"null", "zero", "full", "random", "urandom", "tty", 0};

static void make_dev(int error_fd) {
    if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k") != 0) fail(error_fd, "mount /dev");
    char target[64];
    char source[64];
    for (int i = 0; device_names[i]; i++) {
        size_t n = text_length(device_names[i]);
        memcpy(target, "dev/", 4); memcpy(target + 4, device_names[i], n + 1);
        memcpy(source, "/dev/", 5); memcpy(source + 5, device_names[i], n + 1);
        int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd >= 0) close(fd);
        // /dev/tty may be absent on the host (no controlling terminal): skipped, as runc does.
        if (mount(source, target, 0, MS_BIND, 0) != 0 && i < 5) fail(error_fd, source);
    }
    if (mkdir("dev/shm", 01777) != 0) fail(error_fd, "mkdir /dev/shm");
    if (mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") != 0) fail(error_fd, "mount /dev/shm");
    if (mkdir("dev/pts", 0755) != 0) fail(error_fd, "mkdir /dev/pts");
    if (symlink("/proc/self/fd", "dev/fd") != 0 || symlink("/proc/self/fd/0", "dev/stdin") != 0 ||
        symlink("/proc/self/fd/1", "dev/stdout") != 0 || symlink("/proc/self/fd/2", "dev/stderr") != 0) fail(error_fd, "symlink /dev/fd");
}

static void loopback_up(int error_fd) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(error_fd, "socket");
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &request) != 0) fail(error_fd, "SIOCGIFFLAGS lo");
    request.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &request) != 0) fail(error_fd, "SIOCSIFFLAGS lo");
    close(s);
}

static void exec_command(const struct slipway_sandbox *box) {
    const char *name = box->argv[0];
    int has_slash = 0;
    for (const char *p = name; *p; p++) if (*p == '/') has_slash = 1;
    if (has_slash) {
        execve(name, (char *const *)box->argv, (char *const *)box->envp);
        fail(box->error_fd, name);
    }
    char candidate[4096];
    size_t name_len = text_length(name);
    const char *path = box->path_env;
    int saved = ENOENT;
    while (1) {
        const char *end = path;
        while (*end && *end != ':') end++;
        size_t dir_len = (size_t)(end - path);
        if (dir_len + name_len + 2 < sizeof candidate) {
            memcpy(candidate, path, dir_len);
            size_t n = dir_len;
            if (n == 0) candidate[n++] = '.';
            candidate[n++] = '/';
            memcpy(candidate + n, name, name_len + 1);
            execve(candidate, (char *const *)box->argv, (char *const *)box->envp);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        }
        if (!*end) break;
        path = end + 1;
    }
    errno = saved;
    fail(box->error_fd, name);
}

/// The command's process: PID 1 of the new PID namespace (its death kills the namespace).
/// `alive` is the read end of a pipe only the supervisor can write to: at EOF it is gone.
static void run_inside(const struct slipway_sandbox *box, int alive) {
    int error_fd = box->error_fd;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(error_fd, "prctl");
    if (mount(0, "/", 0, MS_REC | MS_PRIVATE, 0) != 0) fail(error_fd, "make mounts private");
    if (mount(box->rootfs, box->rootfs, 0, MS_BIND | MS_REC, 0) != 0) fail(error_fd, "bind root");
    if (chdir(box->rootfs) != 0) fail(error_fd, "chdir root");
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0) != 0) fail(error_fd, "mount /proc");
    make_dev(error_fd);
    for (const char *const *b = box->binds; b && b[0] && b[1]; b += 2) {
        const char *target = b[1];
        int readonly = 0;
        if (target[0] == 'r' && target[1] == 'o' && target[2] == ':') { readonly = 1; target += 3; }
        if (mount(b[0], target, 0, MS_BIND | MS_REC, 0) != 0) fail(error_fd, target);
        if (readonly && mount(0, target, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, 0) != 0) fail(error_fd, target);
    }
    for (const char *const *t = box->tmpfs; t && *t; t++) {
        if (mount("tmpfs", *t, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) fail(error_fd, *t);
    }
    slipway_apply_mounts(box->mounts, box->mount_count, error_fd);
    if (box->new_network) loopback_up(error_fd);
    if (sethostname("buildkitsandbox", 15) != 0) fail(error_fd, "sethostname");
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail(error_fd, "pivot_root");
    if (umount2(".", MNT_DETACH) != 0) fail(error_fd, "detach old root");
    if (chdir("/") != 0 || chdir(box->workdir) != 0) fail(error_fd, box->workdir);
    if (!box->rootless && setgroups(0, 0) != 0) fail(error_fd, "setgroups");
    if (setgid(box->gid) != 0) fail(error_fd, "setgid");
    if (setuid(box->uid) != 0) fail(error_fd, "setuid");
    // A change of user clears the parent-death signal: set it again, then check that the
    // supervisor did not die before (Ctrl-C would leave a non-root USER's command running).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(error_fd, "prctl");
    struct pollfd supervisor = {alive, POLLIN, 0};
    if (poll(&supervisor, 1, 0) != 0) _exit(128 + SIGKILL);
    exec_command(box);
}

/// The supervisor's SIGTERM (slipway stopping RUN on Ctrl-C): kill the command's PID 1, which
/// takes the whole PID namespace with it; the supervisor's wait returns once all of it is gone.
static volatile pid_t command_pid;
static void stop_command(int number) {
    (void)number;
    if (command_pid > 0) kill(command_pid, SIGKILL);
}

pid_t slipway_sandbox_spawn(const struct slipway_sandbox *box) {
    char uid_map[32];
    char gid_map[32];
    format_map(uid_map, box->outer_uid);
    format_map(gid_map, box->outer_gid);
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (box->rootless) flags |= CLONE_NEWUSER;
    if (box->new_network) flags |= CLONE_NEWNET;

    pid_t pid = fork();
    if (pid != 0) return pid;

    // The supervisor: enters the namespaces, forks the command, reports its status.
    int error_fd = box->error_fd;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(box->output_fd, 1) < 0 || dup2(box->output_fd, 2) < 0) fail(error_fd, "redirect output");
    if (error_fd > 3) syscall(SYS_close_range, 3, error_fd - 1, 0);
    syscall(SYS_close_range, error_fd + 1, ~0U, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(error_fd, "prctl");
    if (unshare(flags) != 0) fail(error_fd, "unshare");
    if (box->rootless) {
        write_file("/proc/self/setgroups", "deny", error_fd);
        write_file("/proc/self/uid_map", uid_map, error_fd);
        write_file("/proc/self/gid_map", gid_map, error_fd);
    }
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) != 0) fail(error_fd, "pipe");
    pid_t child = fork();
    if (child < 0) fail(error_fd, "fork");
    if (child == 0) {
        close(alive[1]);
        run_inside(box, alive[0]);
    }
    close(alive[0]);
    close(error_fd);
    command_pid = child;
    struct sigaction on_term;
    memset(&on_term, 0, sizeof on_term);
    on_term.sa_handler = stop_command;
    sigaction(SIGTERM, &on_term, 0);
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) _exit(127);
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

int slipway_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long slipway_copy_file_range(int in, int out, long length) {
    return (long)copy_file_range(in, 0, out, 0, (size_t)length, 0);
}

long long slipway_birth_time(const char *path) {
    struct statx info;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &info) != 0) return 0;
    if (!(info.stx_mask & STATX_BTIME)) return 0;
    return (long long)info.stx_btime.tv_sec * 1000000000LL + info.stx_btime.tv_nsec;
}

// --- Subordinate IDs: slipway itself re-executed in a user namespace -------------------
// As rootlesskit and `buildah unshare` do: the child unshares a user namespace and waits on
// a pipe; the parent has newuidmap/newgidmap (setuid, from the uidmap package) write its
// maps, 0 to the caller and 1..N to the caller's /etc/subuid range; then the child, root of
// that namespace, execs slipway again. Only system calls after fork, as above.

pid_t slipway_userns_spawn(const char *exe, const char *const *argv, const char *const *envp,
                           int ready_fd, int go_fd) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(125);
    char status = unshare(CLONE_NEWUSER) == 0 ? '1' : '0';
    if (write(ready_fd, &status, 1) != 1 || status != '1') _exit(125);
    close(ready_fd);
    char go = 0;
    ssize_t n;
    do { n = read(go_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1 || go != '1') _exit(125);
    close(go_fd);
    // Root of the namespace for real, uid and gid, without the caller's supplementary groups
    // (unmapped inside).
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) _exit(125);
    if (setgroups(0, 0) != 0) _exit(125);
    execve(exe, (char *const *)argv, (char *const *)envp);
    _exit(125);
}

static volatile pid_t forwarded_child = 0;

static void forward_signal(int sig) {
    if (forwarded_child > 0) kill(forwarded_child, sig);
}

int slipway_userns_wait(pid_t child) {
    forwarded_child = child;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    // SIGINT and SIGHUP from a terminal reach the whole process group (the child too, which
    // cleans up on the first and dies at once on a second): ignored here, not passed on.
    // SIGTERM and SIGQUIT are sent to one process: passed on.
    sigaction(SIGTERM, &action, 0);
    sigaction(SIGQUIT, &action, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGQUIT);
    pthread_sigmask(SIG_UNBLOCK, &wanted, 0);
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}

dev_t slipway_make_device(unsigned int major_number, unsigned int minor_number) {
    return makedev(major_number, minor_number);
}

unsigned int slipway_device_major(dev_t device) { return major(device); }
unsigned int slipway_device_minor(dev_t device) { return minor(device); }

long slipway_llistxattr(const char *path, char *list, unsigned long size) { return (long)llistxattr(path, list, size); }
long slipway_lgetxattr(const char *path, const char *name, void *value, unsigned long size) { return (long)lgetxattr(path, name, value, size); }
int slipway_lsetxattr(const char *path, const char *name, const void *value, unsigned long size) { return lsetxattr(path, name, value, size, 0); }
