// Force-included into every addon source (binding.gyp: -include) so the prebuilt addon loads on
// glibc 2.28 (RHEL 8, Ubuntu 20.04 has 2.31). Built against a newer glibc, calls to the stat
// family bind to versions added in 2.33 (fstat64@GLIBC_2.33 …): before 2.33 they were inline
// wrappers around __fxstat64, so no older version of the symbol exists to pin with .symver.
// The stat family is a plain system call on x86_64 (glibc's struct stat is the kernel's), so
// call the kernel directly, as the addon already does for AIO and io_uring.
// test/package-glibc.test.ts asserts that no GLIBC_ version above 2.28 is imported.
#ifndef XFSGUARD_GLIBC_COMPAT_H
#define XFSGUARD_GLIBC_COMPAT_H

#include <features.h>

#if defined(__GLIBC__) && defined(__x86_64__)

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int xfsguard_compat_fstat(int fd, struct stat *st) {
  return (int)syscall(SYS_fstat, fd, st);
}
static inline int xfsguard_compat_stat(const char *path, struct stat *st) {
  return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}
static inline int xfsguard_compat_lstat(const char *path, struct stat *st) {
  return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
static inline int xfsguard_compat_fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

// Function-like macros: only calls are redirected; `struct stat` keeps its meaning.
#define fstat(fd, st) xfsguard_compat_fstat((fd), (st))
#define stat(path, st) xfsguard_compat_stat((path), (st))
#define lstat(path, st) xfsguard_compat_lstat((path), (st))
#define fstatat(dirfd, path, st, flags) xfsguard_compat_fstatat((dirfd), (path), (st), (flags))

#endif  // __GLIBC__ && __x86_64__
#endif  // XFSGUARD_GLIBC_COMPAT_H
