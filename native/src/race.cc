// XFS fallocate() vs. in-flight async O_DIRECT write race (fixed upstream by 249bd9087a52, 5.5).
// Raw syscalls only: Linux AIO via __NR_io_*, io_uring via __NR_io_uring_*, UAPI headers.
#include "race.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <linux/io_uring.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef O_PATH
#define O_PATH 010000000
#endif

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
  uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif
#ifndef __NR_openat2
#define __NR_openat2 437  // the same number on every architecture (syscall table unification)
#endif

namespace xfsguard {

const char* errnoName(int e) {
  switch (e) {
#define X(n) \
  case n:    \
    return #n;
    X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD)
    X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR)
    X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS)
    X(EMLINK) X(EPIPE) X(ERANGE) X(ENAMETOOLONG) X(ENOSYS) X(ELOOP) X(EOPNOTSUPP) X(ETIMEDOUT)
    X(ECONNREFUSED) X(EDQUOT) X(ECANCELED) X(EPROTOTYPE) X(EAFNOSUPPORT) X(EADDRNOTAVAIL)
    X(ENOTCONN) X(EMSGSIZE) X(ENOBUFS) X(ENOTSOCK) X(EDESTADDRREQ) X(ESTALE) X(EOVERFLOW)
    X(ECONNRESET) X(EPROTONOSUPPORT)
#undef X
    default:
      return "EUNKNOWN";
  }
}

namespace {

// ---- raw syscalls -------------------------------------------------------------------------

long sys_io_setup(unsigned nr, aio_context_t* ctx) {
#if defined(__NR_io_setup)
  return syscall(__NR_io_setup, nr, ctx);
#else
  (void)nr, (void)ctx;
  errno = ENOSYS;
  return -1;
#endif
}
long sys_io_destroy(aio_context_t ctx) {
#if defined(__NR_io_destroy)
  return syscall(__NR_io_destroy, ctx);
#else
  (void)ctx;
  errno = ENOSYS;
  return -1;
#endif
}
long sys_io_submit(aio_context_t ctx, long n, struct iocb** iocbs) {
#if defined(__NR_io_submit)
  return syscall(__NR_io_submit, ctx, n, iocbs);
#else
  (void)ctx, (void)n, (void)iocbs;
  errno = ENOSYS;
  return -1;
#endif
}
long sys_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event* ev, struct timespec* ts) {
#if defined(__NR_io_getevents)
  return syscall(__NR_io_getevents, ctx, min_nr, nr, ev, ts);
#else
  (void)ctx, (void)min_nr, (void)nr, (void)ev, (void)ts;
  errno = ENOSYS;
  return -1;
#endif
}
long sys_io_uring_setup(unsigned entries, struct io_uring_params* p) {
#if defined(__NR_io_uring_setup)
  return syscall(__NR_io_uring_setup, entries, p);
#else
  (void)entries, (void)p;
  errno = ENOSYS;
  return -1;
#endif
}
long sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
#if defined(__NR_io_uring_enter)
  return syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0);
#else
  (void)fd, (void)to_submit, (void)min_complete, (void)flags;
  errno = ENOSYS;
  return -1;
#endif
}

double nowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

bool cancelled(const int32_t* c) { return c != nullptr && __atomic_load_n(c, __ATOMIC_SEQ_CST) != 0; }

struct Refusal {
  std::string stage;
  int err = 0;  // 0: not an errno
  std::string message;
};

// ---- engines ------------------------------------------------------------------------------

enum class Reap { Done, TimedOut, Cancelled, Error };

// After a cancel, how long to keep waiting for the write in flight before giving up on it.
constexpr double kCancelGraceMs = 2000;

class IoEngine {
 public:
  virtual ~IoEngine() = default;
  // 0 or errno; stage is set by the caller.
  virtual int setup() = 0;
  // 0 or errno (stage returned via *stage)
  virtual int submitWrite(int fd, void* buf, size_t len, uint64_t off, const char** stage) = 0;
  // Has the completion been posted? Looks at the user-mapped completion ring, no syscall.
  virtual bool completionPosted() = 0;
  // Waits for the one outstanding completion until deadline; *res = the write's result.
  virtual Reap reap(double deadline, const int32_t* cancel, int64_t* res, int* err) = 0;
  // Does destroying the engine wait until the kernel is done with a write still in flight?
  // Linux AIO: yes (io_destroy waits). io_uring: no (closing the ring does not wait).
  virtual bool teardownWaitsForIo() const = 0;
  // Releases the kernel objects (ring mappings, fds) but not the engine's memory.
  virtual void shutdown() {}
};

// Linux AIO: struct aio_ring lives at the address of the aio_context_t (fs/aio.c).
struct AioRing {
  unsigned id, nr, head, tail, magic, compat_features, incompat_features, header_length;
};
constexpr unsigned kAioRingMagic = 0xa10a10a1;

class AioEngine : public IoEngine {
 public:
  ~AioEngine() override {
    if (ctx_ != 0) sys_io_destroy(ctx_);  // waits for in-flight requests
  }
  int setup() override {
    ctx_ = 0;  // must be zero before io_setup
    if (sys_io_setup(4, &ctx_) != 0) {
      ctx_ = 0;
      return errno;
    }
    return 0;
  }
  int submitWrite(int fd, void* buf, size_t len, uint64_t off, const char** stage) override {
    memset(&cb_, 0, sizeof cb_);
    cb_.aio_fildes = static_cast<uint32_t>(fd);
    cb_.aio_lio_opcode = IOCB_CMD_PWRITE;
    cb_.aio_buf = reinterpret_cast<uintptr_t>(buf);
    cb_.aio_nbytes = len;
    cb_.aio_offset = static_cast<int64_t>(off);
    cb_.aio_data = 0x78667367;
    struct iocb* list[1] = {&cb_};
    stashed_ = false;
    *stage = "io_submit";
    long r = sys_io_submit(ctx_, 1, list);
    if (r == 1) return 0;
    return r < 0 ? errno : EAGAIN;
  }
  bool completionPosted() override {
    auto* ring = reinterpret_cast<AioRing*>(static_cast<uintptr_t>(ctx_));
    if (ring->magic == kAioRingMagic) {
      unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
      unsigned head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
      return head != tail;
    }
    // Unknown ring layout: ask the kernel without blocking and keep the event.
    if (stashed_) return true;
    struct timespec zero = {0, 0};
    if (sys_io_getevents(ctx_, 0, 1, &stash_, &zero) == 1) stashed_ = true;
    return stashed_;
  }
  bool teardownWaitsForIo() const override { return true; }
  Reap reap(double deadline, const int32_t* cancel, int64_t* res, int* err) override {
    if (stashed_) {
      stashed_ = false;
      *res = stash_.res;
      return Reap::Done;
    }
    for (;;) {
      if (cancelled(cancel)) return Reap::Cancelled;
      double left = deadline - nowMs();
      if (left <= 0) return Reap::TimedOut;
      double slice = std::min(left, 20.0);
      struct timespec ts = {0, static_cast<long>(slice * 1e6)};
      struct io_event ev;
      long r = sys_io_getevents(ctx_, 1, 1, &ev, &ts);
      if (r == 1) {
        *res = ev.res;
        return Reap::Done;
      }
      if (r < 0 && errno != EINTR) {
        *err = errno;
        return Reap::Error;
      }
    }
  }

 private:
  aio_context_t ctx_ = 0;
  struct iocb cb_;
  struct io_event stash_;
  bool stashed_ = false;
};

class UringEngine : public IoEngine {
 public:
  ~UringEngine() override { shutdown(); }
  bool teardownWaitsForIo() const override { return false; }
  void shutdown() override {
    if (sqes_ != MAP_FAILED && sqes_ != nullptr) munmap(sqes_, sqes_len_);
    if (cq_ring_ != MAP_FAILED && cq_ring_ != nullptr && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_len_);
    if (sq_ring_ != MAP_FAILED && sq_ring_ != nullptr) munmap(sq_ring_, sq_len_);
    if (fd_ >= 0) close(fd_);
    sqes_ = cq_ring_ = sq_ring_ = nullptr;
    fd_ = -1;
  }
  int setup() override {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long r = sys_io_uring_setup(4, &p);
    if (r < 0) return errno;
    fd_ = static_cast<int>(r);
    sq_len_ = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) sq_len_ = cq_len_ = std::max(sq_len_, cq_len_);
    sq_ring_ = mmap(nullptr, sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (sq_ring_ == MAP_FAILED) return errno;
    if (single) {
      cq_ring_ = sq_ring_;
    } else {
      cq_ring_ = mmap(nullptr, cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_CQ_RING);
      if (cq_ring_ == MAP_FAILED) return errno;
    }
    sqes_len_ = p.sq_entries * sizeof(struct io_uring_sqe);
    sqes_ = mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (sqes_ == MAP_FAILED) return errno;
    auto* sq = static_cast<char*>(sq_ring_);
    auto* cq = static_cast<char*>(cq_ring_);
    sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<struct io_uring_cqe*>(cq + p.cq_off.cqes);
    return 0;
  }
  int submitWrite(int fd, void* buf, size_t len, uint64_t off, const char** stage) override {
    iov_.iov_base = buf;
    iov_.iov_len = len;
    unsigned tail = __atomic_load_n(sq_tail_, __ATOMIC_RELAXED);
    unsigned idx = tail & sq_mask_;
    auto* sqe = static_cast<struct io_uring_sqe*>(sqes_) + idx;
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_WRITEV;  // IORING_OP_WRITE only exists since 5.6
    sqe->fd = fd;
    sqe->off = off;
    sqe->addr = reinterpret_cast<uintptr_t>(&iov_);
    sqe->len = 1;
    sqe->user_data = 0x78667367;
    sq_array_[idx] = idx;
    __atomic_store_n(sq_tail_, tail + 1, __ATOMIC_RELEASE);
    *stage = "io_uring_enter";
    for (;;) {
      long r = sys_io_uring_enter(fd_, 1, 0, 0);
      if (r == 1) return 0;
      if (r < 0 && errno == EINTR) continue;
      return r < 0 ? errno : EAGAIN;
    }
  }
  bool completionPosted() override {
    unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
    unsigned head = __atomic_load_n(cq_head_, __ATOMIC_RELAXED);
    return head != tail;
  }
  Reap reap(double deadline, const int32_t* cancel, int64_t* res, int* err) override {
    for (;;) {
      unsigned head = __atomic_load_n(cq_head_, __ATOMIC_RELAXED);
      unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      if (head != tail) {
        *res = cqes_[head & cq_mask_].res;
        __atomic_store_n(cq_head_, head + 1, __ATOMIC_RELEASE);
        return Reap::Done;
      }
      if (cancelled(cancel)) return Reap::Cancelled;
      double left = deadline - nowMs();
      if (left <= 0) return Reap::TimedOut;
      struct pollfd pfd = {fd_, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(std::min(left, 20.0)) + 1);
      if (r < 0 && errno != EINTR) {
        *err = errno;
        return Reap::Error;
      }
    }
  }

 private:
  int fd_ = -1;
  void* sq_ring_ = nullptr;
  void* cq_ring_ = nullptr;
  void* sqes_ = nullptr;
  size_t sq_len_ = 0, cq_len_ = 0, sqes_len_ = 0;
  unsigned* sq_tail_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* sq_array_ = nullptr;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  struct io_uring_cqe* cqes_ = nullptr;
  struct iovec iov_;
};

// ---- helpers ------------------------------------------------------------------------------

struct AlignedBuf {
  void* p = nullptr;
  size_t len = 0;
  ~AlignedBuf() { free(p); }
  bool alloc(size_t n) {
    free(p);
    p = nullptr;
    len = 0;
    if (posix_memalign(&p, 4096, n) != 0) {
      p = nullptr;
      return false;
    }
    len = n;
    return true;
  }
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

inline uint64_t patternWord(uint32_t iteration, uint64_t index) {
  return 0x5846534700000000ULL ^ (static_cast<uint64_t>(iteration + 1) << 24) ^ (index + 1);
}

void fillPattern(void* buf, size_t len, uint32_t iteration) {
  auto* w = static_cast<uint64_t*>(buf);
  for (size_t i = 0; i < len / 8; i++) w[i] = patternWord(iteration, i);
}

// Opens the scratch file in the open directory `dirfd`, never by path (`dir` is for messages).
// Returns fd or -1 with *ref set.
int openScratch(int dirfd, const std::string& dir, std::string* how, Refusal* ref) {
  int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    *how = "o_tmpfile";
    return fd;
  }
  int e = errno;
  if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL) {
    *ref = {"open", e, "cannot create a scratch file in " + dir + ": " + strerror(e)};
    return -1;
  }
  for (int attempt = 0; attempt < 16; attempt++) {
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd) rnd = static_cast<uint64_t>(nowMs() * 1000) ^ (attempt * 7919ULL);
    char name[96];
    snprintf(name, sizeof name, ".xfsguard-selftest-%d-%016llx", static_cast<int>(getpid()),
             static_cast<unsigned long long>(rnd));
    const std::string path = dir + "/" + name;
    fd = openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      int e2 = errno;
      *ref = {"open", e2, "cannot create a scratch file in " + dir + ": " + strerror(e2)};
      return -1;
    }
    if (unlinkat(dirfd, name, 0) != 0) {
      // Never run on a file that would outlive us; name it so that it can be removed by hand.
      int e2 = errno;
      close(fd);
      *ref = {"unlink", e2, "cannot remove the scratch file " + path + " just created: " + strerror(e2)};
      return -1;
    }
    *how = "unlinked_name";
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) != 0) {
      int e2 = errno;
      close(fd);
      *ref = {"open_o_direct", e2, std::string("the filesystem refuses O_DIRECT: ") + strerror(e2)};
      return -1;
    }
    return fd;
  }
  *ref = {"open", EEXIST, "could not find a free scratch name"};
  return -1;
}

// Fallback for kernels without openat2 (< 5.6): one component at a time, each O_NOFOLLOW.
int walkNoFollow(const std::string& path, int* err) {
  int cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) {
    *err = errno;
    return -1;
  }
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    const std::string comp = path.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      close(cur);
      *err = EXDEV;  // as openat2's RESOLVE_BENEATH refuses it
      return -1;
    }
    int next = openat(cur, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(cur);
    if (next < 0) {
      *err = e;
      return -1;
    }
    cur = next;
  }
  return cur;
}

}  // namespace

void openDirectoryNoFollow(const std::string& path, DirOpen& out) {
  out = DirOpen();
  const std::string padded = path + "/";
  if (path.empty() || path[0] != '/' || padded.find("/../") != std::string::npos) {
    out.err = EINVAL;
    out.stage = "directory_open";
    out.message = "not an absolute path without '..': " + path;
    return;
  }
  int fd = -1;
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root >= 0) {
    std::string rel = path.substr(path.find_first_not_of('/') == std::string::npos ? path.size() : path.find_first_not_of('/'));
    if (rel.empty()) rel = ".";
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
    long r;
    do {
      r = syscall(__NR_openat2, root, rel.c_str(), &how, sizeof how);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    int e = errno;
    close(root);
    if (r >= 0) {
      fd = static_cast<int>(r);
      out.resolver = "openat2";
    } else if (e != ENOSYS && e != E2BIG && e != EPERM) {  // EPERM: seccomp filters that predate openat2
      out.err = e;
    }
  }
  if (fd < 0 && out.err == 0) {
    fd = walkNoFollow(path, &out.err);
    out.resolver = "nofollow_walk";
  }
  if (fd < 0) {
    out.stage = "directory_open";
    out.message = "cannot open " + path + " without following symlinks: " + strerror(out.err) +
                  (out.err == ELOOP || out.err == ENOTDIR ? " (a component is a symlink or not a directory)" : "");
    return;
  }
  struct stat st;
  struct statfs sfs;
  if (fstat(fd, &st) != 0 || fstatfs(fd, &sfs) != 0) {
    out.err = errno;
    close(fd);
    out.stage = "directory_open";
    out.message = std::string("fstat/fstatfs of the opened directory failed: ") + strerror(out.err);
    return;
  }
  out.fd = fd;
  out.dev_major = major(st.st_dev);
  out.dev_minor = minor(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  out.magic = static_cast<int64_t>(static_cast<unsigned long>(sfs.f_type) & 0xffffffffUL);
}

void runRaceSync(const RaceParams& p, RaceOutput& out) {
  const double t0 = nowMs();
  Refusal ref;
  bool refused = false;
  auto refuse = [&](const std::string& stage, int e, const std::string& msg) {
    if (refused) return;
    refused = true;
    ref = {stage, e, msg};
  };

  Window window = p.window;
  if (window == Window::Auto) window = p.engine == Engine::IoUring ? Window::EofPrealloc : Window::BeyondEof;
  out.window = window == Window::EofPrealloc ? "eof_prealloc" : window == Window::BelowRange ? "below_range" : "beyond_eof";
  const bool below = window == Window::BelowRange;
  const int fmode = p.mode == FallocMode::ZeroRange ? FALLOC_FL_ZERO_RANGE : 0;

  do {
    // The directory is resolved at most once; every file the run makes is opened relative to it.
    Fd ownDir;
    int dirfd = p.directory_fd;
    if (dirfd < 0) {
      DirOpen d;
      openDirectoryNoFollow(p.directory, d);
      if (d.fd < 0) {
        refuse("open", d.err, d.message);
        break;
      }
      ownDir.fd = dirfd = d.fd;
    }
    Fd file;
    std::string how;
    file.fd = openScratch(dirfd, p.directory, &how, &ref);
    if (file.fd < 0) {
      refused = true;
      break;
    }
    out.scratch = how;
    const int fd = file.fd;

    struct stat st;
    if (fstat(fd, &st) != 0) {
      refuse("fstat", errno, strerror(errno));
      break;
    }
    struct statvfs sv;
    if (fstatvfs(fd, &sv) != 0) {
      refuse("statvfs", errno, strerror(errno));
      break;
    }
    uint64_t B = st.st_blksize > 0 ? static_cast<uint64_t>(st.st_blksize) : sv.f_bsize;
    if (B < 512) B = 512;
    if (B % 4096 != 0 && 4096 % B != 0) B = 4096;
    out.block_size = B;
    const uint64_t margin = 4ULL << 20;
    const uint64_t avail = static_cast<uint64_t>(sv.f_bavail) * (sv.f_frsize ? sv.f_frsize : sv.f_bsize);
    if (avail < p.max_bytes + margin) {
      refuse("statvfs", ENOSPC,
             "not enough free space: " + std::to_string(avail) + " bytes free, need " +
                 std::to_string(p.max_bytes + margin));
      break;
    }

    // Preflight the fallocate mode(s) on the empty file, before any write.
    if (fallocate(fd, fmode, 0, static_cast<off_t>(B)) != 0) {
      int e = errno;
      refuse("fallocate", e,
             std::string(p.mode == FallocMode::ZeroRange ? "fallocate(FALLOC_FL_ZERO_RANGE)" : "fallocate(mode 0)") +
                 " refused: " + strerror(e));
      break;
    }
    if (window == Window::EofPrealloc && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(B)) != 0) {
      int e = errno;
      refuse("fallocate_keep_size", e, std::string("fallocate(FALLOC_FL_KEEP_SIZE) refused: ") + strerror(e));
      break;
    }
    if (ftruncate(fd, 0) != 0) {
      refuse("ftruncate", errno, strerror(errno));
      break;
    }

    // Buffers are declared before the engine so that they outlive it. io_destroy waits for a write
    // still in flight; closing an io_uring does not, so a write never reaped is handled below.
    AlignedBuf wbuf, rbuf;
    bool outstanding = false;  // a write was submitted and its completion has not been reaped
    std::unique_ptr<IoEngine> eng;
    if (p.engine == Engine::IoUring)
      eng.reset(new UringEngine());
    else
      eng.reset(new AioEngine());
    if (int e = eng->setup()) {
      const char* stage = p.engine == Engine::IoUring ? "io_uring_setup" : "io_setup";
      refuse(stage, e, std::string(stage) + " refused: " + strerror(e));
      break;
    }

    // Escalating write sizes: a fast device completes a small write before fallocate starts.
    const uint64_t minIo = window == Window::EofPrealloc ? 2 * B : B;
    std::vector<uint64_t> ladder;
    for (uint64_t s : {4096ULL, 65536ULL, 1ULL << 20, 4ULL << 20, 16ULL << 20}) {
      uint64_t v = std::max(minIo, (s + B - 1) / B * B);
      if (ladder.empty() || ladder.back() < v) ladder.push_back(v);
    }
    const uint32_t perRung = 4;
    if (!wbuf.alloc(ladder.back()) || !rbuf.alloc(ladder.back())) {
      // fall back to smaller maxima
      while (ladder.size() > 1) {
        ladder.pop_back();
        if (wbuf.alloc(ladder.back()) && rbuf.alloc(ladder.back())) break;
      }
      if (wbuf.p == nullptr || rbuf.p == nullptr) {
        refuse("memory", ENOMEM, "cannot allocate I/O buffers");
        break;
      }
    }

    bool stop = false;
    while (!stop) {
      bool ranAny = false;
      for (size_t rung = 0; rung < ladder.size() && !stop; rung++) {
        const uint64_t io = ladder[rung];
        for (uint32_t k = 0; k < perRung && !stop; k++) {
          if (cancelled(p.cancel)) {
            out.cancelled = true;
            stop = true;
            break;
          }
          if (out.iterations >= p.max_iterations || nowMs() - t0 >= p.budget_ms) {
            stop = true;
            break;
          }
          if (out.bytes_written + io > p.max_bytes) break;  // try a smaller rung / next pass
          ranAny = true;
          const uint32_t it = out.iterations;
          if (std::find(out.io_sizes.begin(), out.io_sizes.end(), io) == out.io_sizes.end()) out.io_sizes.push_back(io);

          // BelowRange: the extending write [0, io) stays wholly below the zeroed range [F, F+B), which
          // starts one block past the write's end, beyond EOF before and after the write.
          const uint64_t W = window == Window::EofPrealloc || below ? 0 : B;
          const uint64_t FO = below ? io + B : 0;
          const uint64_t F = B;
          if (ftruncate(fd, 0) != 0) {
            refuse("ftruncate", errno, strerror(errno));
            stop = true;
            break;
          }
          if (window == Window::EofPrealloc &&
              fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(W), static_cast<off_t>(io)) != 0) {
            int e = errno;
            refuse("fallocate_keep_size", e, strerror(e));
            stop = true;
            break;
          }
          fillPattern(wbuf.p, io, it);

          const char* stage = "write";
          if (int e = eng->submitWrite(fd, wbuf.p, io, W, &stage)) {
            refuse(stage, e, std::string(stage) + " failed: " + strerror(e));
            stop = true;
            break;
          }
          out.bytes_written += io;
          out.iterations++;
          outstanding = true;
          const bool inFlight = !eng->completionPosted();
          int ferr = 0;
          if (fallocate(fd, fmode, static_cast<off_t>(FO), static_cast<off_t>(F)) != 0) ferr = errno;

          int64_t res = 0;
          int rerr = 0;
          const double deadline = nowMs() + std::max(0.0, p.budget_ms - (nowMs() - t0)) + 10000.0;
          Reap rr = eng->reap(deadline, p.cancel, &res, &rerr);
          if (rr == Reap::Cancelled) {
            // Stop after this iteration, but reap its write first (bounded): its buffer must not be
            // freed while the kernel may still read it. If it completes, the iteration is checked.
            out.cancelled = true;
            stop = true;
            rr = eng->reap(nowMs() + kCancelGraceMs, nullptr, &res, &rerr);
            if (rr != Reap::Done) break;  // still outstanding: unchecked, nothing tested
          }
          if (rr == Reap::TimedOut) {
            refuse("reap", ETIMEDOUT, "the write did not complete in time");
            stop = true;
            break;
          }
          if (rr == Reap::Error) {
            refuse("reap", rerr, std::string("waiting for the completion failed: ") + strerror(rerr));
            stop = true;
            break;
          }
          outstanding = false;
          if (ferr != 0) {
            refuse("fallocate", ferr, std::string("fallocate during the write failed: ") + strerror(ferr));
            stop = true;
            break;
          }
          if (res < 0) {
            int e = static_cast<int>(-res);
            refuse("write", e, std::string("async O_DIRECT write failed: ") + strerror(e));
            stop = true;
            break;
          }
          if (static_cast<uint64_t>(res) != io) {
            refuse("write", 0, "short async write: " + std::to_string(res) + " of " + std::to_string(io) + " bytes");
            stop = true;
            break;
          }

          struct stat after;
          if (fstat(fd, &after) != 0) {
            refuse("fstat", errno, strerror(errno));
            stop = true;
            break;
          }
          const uint64_t expected = below ? FO + F : W + io;
          const uint64_t actual = static_cast<uint64_t>(after.st_size);
          // Read back [W, W+io); with ZERO_RANGE over an overlapping range ([0,F) ∩ [W,W+io)),
          // zeroes there are legitimate (the fallocate may run after the write), so skip it.
          // A short read (EOF) is lost data; a read *error* says nothing about the race.
          bool mismatch = false;
          uint64_t got = 0;
          int rdErr = 0;
          while (got < io) {
            ssize_t r = pread(fd, static_cast<char*>(rbuf.p) + got, io - got, static_cast<off_t>(W + got));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) rdErr = errno;
            if (r <= 0) break;
            got += static_cast<uint64_t>(r);
          }
          if (rdErr != 0 && actual == expected) {
            refuse("read", rdErr, std::string("reading the written range back failed: ") + strerror(rdErr));
            stop = true;
            break;
          }
          if (rdErr == 0) {
            uint64_t from = (!below && fmode == FALLOC_FL_ZERO_RANGE && W < F) ? F - W : 0;
            if (got < io) mismatch = true;
            const auto* rw = static_cast<const uint64_t*>(rbuf.p);
            for (uint64_t i = from / 8; i < got / 8 && !mismatch; i++)
              if (rw[i] != patternWord(it, i)) mismatch = true;
          }
          // Only an iteration whose write completed and was checked counts as tested.
          if (inFlight) out.in_flight_iterations++; else out.completed_before_fallocate++;

          if (actual != expected || mismatch) {
            out.reproductions++;
            if (!out.has_first) {
              out.has_first = true;
              out.first_reproduction_ms = nowMs() - t0;
              out.first = {it, io, W, FO, F, expected, actual, mismatch};
            }
            if (p.stop_on_first) stop = true;
          }
        }
      }
      if (!ranAny) break;  // nothing fits in the remaining bytes, or a limit was hit
    }
    if (outstanding) {
      // A write was never reaped (cancel grace or deadline passed, or waiting failed). Do not
      // ftruncate (XFS would wait for it without bound). Linux AIO: io_destroy (engine teardown)
      // waits for it before the buffers are freed. io_uring: closing the ring does not, so keep
      // the write buffer and the engine (its iovec, read late by pre-5.5 io-wq) for the life of
      // the process instead of freeing memory the kernel may still read.
      if (!eng->teardownWaitsForIo()) {
        eng->shutdown();
        (void)eng.release();
        wbuf.p = nullptr;
        wbuf.len = 0;
      }
    } else if (ftruncate(fd, 0) != 0) { /* best effort: release the blocks before close */ }
  } while (false);

  out.duration_ms = nowMs() - t0;
  if (refused) {
    out.outcome = "unsupported";
    out.has_reason = true;
    out.reason_stage = ref.stage;
    out.reason_errno = ref.err ? errnoName(ref.err) : "";
    out.reason_message = ref.message;
    if (out.reproductions > 0) {  // a reproduction already proves the bug
      out.outcome = "reproduced";
      out.has_reason = false;
    }
    return;
  }
  if (out.reproductions > 0) {
    out.outcome = "reproduced";
  } else if (out.in_flight_iterations == 0) {
    out.outcome = "unsupported";
    out.has_reason = true;
    out.reason_stage = "race_window";
    out.reason_errno = "";
    out.reason_message = out.iterations == 0
                             ? (out.cancelled ? "cancelled before any iteration ran: nothing was tested"
                                              : "no iteration ran within the limits: nothing was tested")
                         : out.completed_before_fallocate == 0
                             ? "cancelled before any write completed and was checked: nothing was tested"
                             : "in all " + std::to_string(out.completed_before_fallocate) +
                                   " checked iterations the write had completed before fallocate was issued (the "
                                   "filesystem completes these writes synchronously): nothing was tested";
  } else {
    out.outcome = "not_reproduced";
  }
}

}  // namespace xfsguard
