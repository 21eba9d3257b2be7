#include "common/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/sha256.h"
#include "common/base/status_macros.h"

namespace dogsearch {
namespace {

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("write ", path));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncAndClose(FdCloser& fd, const std::string& path) {
  if (::fsync(fd.get()) != 0) return ErrnoToStatus(errno, absl::StrCat("fsync ", path));
  if (::close(fd.release()) != 0) return ErrnoToStatus(errno, absl::StrCat("close ", path));
  return absl::OkStatus();
}

std::string TempNameFor(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat(path, ".tmp.", ::getpid(), ".", rng() % 1000000007);
}

}  // namespace

absl::Status ErrnoToStatus(int err, absl::string_view context) {
  std::string msg = absl::StrCat(context, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    case EEXIST:
    case ENOTEMPTY:
      return absl::AlreadyExistsError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  FdCloser fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, absl::StrCat("stat ", path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is ", st.st_size, " bytes, more than the limit of ", max_bytes));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) break;  // File shrank under us: return what is there.
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

absl::StatusOr<std::string> ReadVerifiedFile(const std::string& path, uint64_t max_bytes,
                                             uint64_t want_bytes, absl::string_view want_sha256,
                                             absl::string_view what) {
  DS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, max_bytes));
  if (bytes.size() != want_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is ", bytes.size(),
                                                      " bytes, the manifest says ", want_bytes,
                                                      " (truncated or replaced)"));
  }
  if (Sha256::Hex(bytes) != want_sha256) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": SHA-256 does not match the manifest (corrupted or replaced)"));
  }
  return bytes;
}

absl::Status WriteNewFileSynced(const std::string& path, absl::string_view data) {
  FdCloser fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoToStatus(errno, absl::StrCat("create ", path));
  DS_RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  return SyncAndClose(fd, path);
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data) {
  const std::string tmp = TempNameFor(path);
  absl::Status s = WriteNewFileSynced(tmp, data);
  if (s.ok()) s = RenameDurably(tmp, path);
  // A crash before the rename leaves only the temp file, which readers never open.
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

absl::Status SyncPath(const std::string& path) {
  FdCloser fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  if (::fsync(fd.get()) != 0) return ErrnoToStatus(errno, absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("MakeDirs: empty path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  const std::string parent = DirName(path);
  if (parent != path) DS_RETURN_IF_ERROR(MakeDirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  }
  return SyncPath(parent);
}

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("rename ", from, " -> ", to));
  }
  const std::string to_dir = DirName(to);
  DS_RETURN_IF_ERROR(SyncPath(to_dir));
  const std::string from_dir = DirName(from);
  if (from_dir != to_dir) DS_RETURN_IF_ERROR(SyncPath(from_dir));
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;  // Ignore trailing slashes.
  size_t slash = path.rfind('/', end - 1);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status PublishDirectory(const std::string& root, const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& files) {
  DS_RETURN_IF_ERROR(MakeDirs(root));
  const std::string final_dir = absl::StrCat(root, "/", name);
  if (::access(final_dir.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, " already exists"));
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string tmp = absl::StrCat(root, "/.tmp-", name, "-", absl::Hex(rng()));
  absl::Status s = MakeDirs(tmp);
  for (size_t i = 0; s.ok() && i < files.size(); ++i) {
    s = WriteNewFileSynced(absl::StrCat(tmp, "/", files[i].first), files[i].second);
  }
  if (s.ok()) s = SyncPath(tmp);
  // rename(2) of a folder onto an existing non-empty one fails, so a concurrent publication of
  // the same name cannot be overwritten.
  if (s.ok()) s = RenameDurably(tmp, final_dir);
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    if (::access(final_dir.c_str(), F_OK) == 0 && !absl::IsAlreadyExists(s)) {
      return absl::AlreadyExistsError(absl::StrCat(final_dir, " already exists"));
    }
  }
  return s;
}

void MakeNewFilesPrivate() { ::umask(077); }

}  // namespace dogsearch
