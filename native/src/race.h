// The XFS fallocate vs. in-flight AIO+DIO size race, as a bounded self-test.
// Plain C++: no N-API here (Execute() of the async worker calls runRaceSync on a libuv pool thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xfsguard {

enum class Engine { Aio, IoUring };
enum class FallocMode { ZeroRange, Alloc };
// Where the write goes relative to EOF.
//  BeyondEof: generic/586 shape; file empty, write [B, B+io), fallocate [0, B).
//  EofPrealloc: write [0, io) exactly at EOF into blocks preallocated with FALLOC_FL_KEEP_SIZE,
//    so XFS accepts an IOCB_NOWAIT issue inline (io_uring would otherwise punt the write to an
//    io-wq worker that may run after fallocate); fallocate [0, B) with io >= 2B.
//  BelowRange: an extending write [0, io) into an empty file stays in flight BELOW a beyond-EOF
//    fallocate [io+B, io+2B). QEMU's workaround (>= 4.1.1) serialises a post-EOF write-zeroes only
//    against requests at or above its offset, so loss here means that workaround does not suffice.
//  Auto: aio -> BeyondEof, io_uring -> EofPrealloc.
enum class Window { Auto, BeyondEof, EofPrealloc, BelowRange };

struct RaceParams {
  // For messages; the run itself never resolves it when directory_fd is given.
  std::string directory;
  // An open directory (O_PATH is enough) on the filesystem under test, or -1: then `directory` is
  // opened once here, without following symlinks. Not closed by the run.
  int directory_fd = -1;
  Engine engine = Engine::Aio;
  FallocMode mode = FallocMode::ZeroRange;
  uint32_t max_iterations = 1;
  double budget_ms = 1000;
  uint64_t max_bytes = 0;
  Window window = Window::Auto;
  bool stop_on_first = true;
  const int32_t* cancel = nullptr;  // element 0 of a shared Int32Array; kept alive by the caller
};

struct Reproduction {
  uint32_t iteration = 0;
  uint64_t io_size = 0;
  uint64_t write_offset = 0;
  uint64_t falloc_offset = 0;
  uint64_t falloc_len = 0;
  uint64_t expected_size = 0;
  uint64_t actual_size = 0;
  bool data_mismatch = false;
};

struct RaceOutput {
  std::string outcome = "not_reproduced";
  uint32_t iterations = 0;
  uint32_t reproductions = 0;
  uint32_t in_flight_iterations = 0;
  bool has_first = false;
  Reproduction first;
  std::vector<uint64_t> io_sizes;
  double duration_ms = 0;
  uint64_t bytes_written = 0;
  uint64_t block_size = 0;
  std::string scratch = "none";
  bool cancelled = false;
  bool has_reason = false;
  std::string reason_stage, reason_errno, reason_message;
  // extra measurements
  std::string window;
  double first_reproduction_ms = -1;
  uint32_t completed_before_fallocate = 0;
};

void runRaceSync(const RaceParams& p, RaceOutput& out);

// A directory opened once, with no symlink followed anywhere on its path, and what it is.
struct DirOpen {
  int fd = -1;
  std::string resolver;  // "openat2" (RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH) or "nofollow_walk"
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t ino = 0;
  int64_t magic = 0;  // statfs f_type
  int err = 0;        // errno when fd < 0
  std::string stage, message;
};
// `path` must be absolute; every component must be a real directory (no symlink, no "..").
void openDirectoryNoFollow(const std::string& path, DirOpen& out);

const char* errnoName(int e);

}  // namespace xfsguard
