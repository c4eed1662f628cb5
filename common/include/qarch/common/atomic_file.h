// Atomic file replacement for every file qarch writes (tensors, traces, reports, caches):
// the bytes go to a temporary file in the target's directory, which is fsync'ed and then
// renamed over the target. Readers see either the old file or the complete new one, never
// a partial file, even if the writer throws, is killed or the machine loses power
// (rename within one directory is atomic on POSIX file systems).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qarch {

/// Streams bytes into a temporary file next to `path` and renames it over `path` on
/// commit(). If the writer is destroyed without commit() (an exception, an early return),
/// the temporary file is removed and `path` is left untouched. Failures throw qarch::Error
/// naming `path` and the system error. A new file gets mode 0666 & ~umask; replacing an
/// existing file keeps that file's permission bits. If `path` is a symbolic link, the link
/// itself is replaced (rename semantics), not the file it points to.
class AtomicFileWriter {
 public:
  /// Creates the temporary file (throws if the directory is missing or not writable).
  explicit AtomicFileWriter(std::string path);
  /// Removes the temporary file unless commit() succeeded. Never throws.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes (retries short writes and EINTR).
  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  /// fsync()s the data, renames the temporary file over the target and fsync()s the
  /// directory so the rename is durable. The writer is finished afterwards.
  void commit();

  /// The target path.
  const std::string& path() const { return path_; }
  /// The temporary file (in the target's directory) that commit() renames.
  const std::string& temp_path() const { return temp_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void discard() noexcept;

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `size` bytes to `path` atomically (AtomicFileWriter + commit()).
void write_file_atomic(const std::string& path, const void* data, size_t size);
/// Writes `bytes` to `path` atomically.
void write_file_atomic(const std::string& path, std::string_view bytes);

/// Removes the temporary files AtomicFileWriter left in `dir` when its process was killed
/// before commit or abort: those older than `max_age_seconds` (a younger one may belong to a
/// writer still running, e.g. on another machine sharing the folder). Returns how many.
size_t remove_stale_temporaries(const std::string& dir, int max_age_seconds);

/// Creates `dir` and its missing parents (mkdir -p). Throws qarch::Error naming `dir` and
/// `what` it is ("the report directory") if it cannot, or if something that is not a directory
/// is in the way.
void make_directories(const std::string& dir, const std::string& what = "the directory");

}  // namespace qarch
