#include "services/index/core/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/crc32c.h"
#include "common/base/file_util.h"

namespace dogsearch::index {
namespace {

absl::Status WriteFully(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, absl::StrCat("write ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

std::string FrameRecord(RecordType type, absl::string_view payload) {
  std::string out(kRecordHeaderSize, '\0');
  const uint32_t length = static_cast<uint32_t>(payload.size());
  out[8] = static_cast<char>(type);
  out.append(payload.data(), payload.size());
  const uint32_t crc = crc32c::Mask(crc32c::Value(out.data() + 8, 1 + payload.size()));
  std::memcpy(out.data(), &crc, 4);
  std::memcpy(out.data() + 4, &length, 4);
  return out;
}

Wal::Wal(std::string path, int fd, uint64_t size, const WalOptions& options)
    : path_(std::move(path)), fd_(fd), options_(options), size_(size) {
  if (options_.policy == SyncPolicy::kInterval) {
    syncer_ = std::make_unique<PeriodicThread>(options_.interval, [this] { IntervalSync(); });
  }
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Create(const std::string& path, uint64_t first_sequence,
                                                 const WalOptions& options) {
  std::string header(kWalMagic, sizeof(kWalMagic));
  header.append(reinterpret_cast<const char*>(&first_sequence), 8);
  if (absl::Status s = WriteNewFileSynced(path, header); !s.ok()) return s;
  if (absl::Status s = SyncPath(DirName(path)); !s.ok()) return s;
  return OpenForAppend(path, header.size(), options);
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::OpenForAppend(const std::string& path,
                                                        uint64_t valid_bytes,
                                                        const WalOptions& options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  // Drop a torn tail so new records follow the last valid one.
  if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0 || ::fsync(fd) != 0 ||
      ::lseek(fd, static_cast<off_t>(valid_bytes), SEEK_SET) < 0) {
    absl::Status s = ErrnoToStatus(errno, absl::StrCat("truncate ", path));
    ::close(fd);
    return s;
  }
  return std::unique_ptr<Wal>(new Wal(path, fd, valid_bytes, options));
}

Wal::~Wal() {
  if (syncer_) syncer_->Stop();
  (void)Sync();
  ::close(fd_);
}

uint64_t Wal::Enqueue(RecordType type, absl::string_view payload) {
  std::string framed = FrameRecord(type, payload);
  std::lock_guard<std::mutex> lock(mu_);
  pending_ += framed;
  size_ += framed.size();
  return ++enqueued_;
}

absl::Status Wal::WaitDurable(uint64_t ticket) {
  return FlushUpTo(ticket, options_.policy == SyncPolicy::kAlways);
}

absl::Status Wal::Sync() {
  uint64_t ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ticket = enqueued_;
  }
  return FlushUpTo(ticket, /*force_sync=*/true);
}

absl::Status Wal::FlushUpTo(uint64_t ticket, bool force_sync) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!failed_.ok()) return failed_;
    if (written_ >= ticket && (!force_sync || synced_ >= ticket)) return absl::OkStatus();
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    // Become the leader for everything buffered so far.
    writing_ = true;
    std::string batch = std::move(pending_);
    pending_.clear();
    const uint64_t upto = enqueued_;
    lock.unlock();
    absl::Status s = WriteFully(fd_, batch, path_);
    if (s.ok() && force_sync && ::fdatasync(fd_) != 0) {
      s = ErrnoToStatus(errno, absl::StrCat("fdatasync ", path_));
    }
    lock.lock();
    writing_ = false;
    if (s.ok()) {
      written_ = upto;
      if (force_sync) synced_ = upto;
    } else {
      failed_ = s;
    }
    cv_.notify_all();
  }
}

void Wal::IntervalSync() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = written_;
  if (synced_ >= target) return;
  lock.unlock();
  const bool ok = ::fdatasync(fd_) == 0;
  lock.lock();
  if (ok && target > synced_) synced_ = target;
}

uint64_t Wal::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

}  // namespace dogsearch::index
