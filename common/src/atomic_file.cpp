#include "qarch/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "qarch/common/error.h"

namespace qarch {
namespace {

// Directory part of a path ("." if none), for the temporary file and the directory fsync.
std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A temporary file is ".<target name>.tmp.<pid>.<n>" beside its target.
constexpr const char* kTempInfix = ".tmp.";

std::string base_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  if (path_.empty() || path_.back() == '/') throw Error("'" + path_ + "': not a file path");
  // Same directory as the target: rename() is atomic only within one file system.
  const std::string dir = directory_of(path_);
  const std::string stem = (dir == "/" ? "/" : dir + "/") + "." + base_of(path_) + kTempInfix;
  static std::atomic<uint64_t> counter{0};
  const uint64_t salt =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_ = stem + std::to_string(::getpid()) + "." +
            std::to_string((salt + counter.fetch_add(1)) % 1000000007u);
    // O_EXCL: never reuse (or follow a symlink planted at) an existing name. Mode 0666 lets
    // the umask decide, like any newly created file.
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST) {
      const int err = errno;
      temp_.clear();
      fail("cannot create a temporary file in '" + dir + "'", err);
    }
  }
  if (fd_ < 0) {
    temp_.clear();
    fail("cannot find a free temporary file name in '" + dir + "'", EEXIST);
  }
  // Replacing a file keeps its permissions (a 0600 secret stays 0600).
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    if (::fchmod(fd_, st.st_mode & 07777) != 0) fail("cannot set permissions", errno);
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

void AtomicFileWriter::fail(const std::string& what, int err) {
  discard();
  throw Error(path_ + ": " + what + ": " + std::strerror(err));
}

void AtomicFileWriter::write(const void* data, size_t size) {
  if (fd_ < 0) throw Error(path_ + ": write after commit or failure");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    // Linux caps one write() at about 2 GiB; larger requests just come back short.
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw Error(path_ + ": commit after commit or failure");
  // Data must be on disk before the rename makes it visible, or a crash could leave the
  // new name pointing at an empty file.
  if (::fsync(fd_) != 0) fail("fsync failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close failed", errno);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename the temporary file", errno);
  committed_ = true;
  temp_.clear();
  // Make the rename itself durable. Some file systems refuse fsync on a directory; the
  // file is complete either way, so that is not an error.
  const int dfd = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFileWriter w(path);
  w.write(data, size);
  w.commit();
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

void make_directories(const std::string& dir, const std::string& what) {
  if (dir.empty()) throw Error("cannot create " + what + ": empty path");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (std::filesystem::is_directory(dir)) return;
  throw Error(dir + ": cannot create " + what + " (" +
              (ec ? ec.message() : std::string("a file is in the way")) + ")");
}

size_t remove_stale_temporaries(const std::string& dir, int max_age_seconds) {
  std::vector<std::string> stale;
  std::error_code ec;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() < 2 || n[0] != '.' || n.find(kTempInfix) == std::string::npos) continue;
    std::error_code fe;
    if (!e.is_regular_file(fe)) continue;
    const auto t = std::filesystem::last_write_time(e.path(), fe);
    if (!fe && now - t > std::chrono::seconds(max_age_seconds)) stale.push_back(e.path().string());
  }
  size_t removed = 0;
  for (const auto& p : stale) removed += std::filesystem::remove(p, ec) ? 1 : 0;
  return removed;
}

}  // namespace qarch
