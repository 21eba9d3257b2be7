// File helpers with the project's durability rules built in: a file that must appear whole is
// written to a temporary name, fsynced, renamed into place, and its directory fsynced.
// All functions are thread-safe with respect to each other (no shared state); concurrent
// writers to the same path race as rename(2) does (last rename wins, each file whole).
#ifndef DOGSEARCH_COMMON_BASE_FILE_UTIL_H_
#define DOGSEARCH_COMMON_BASE_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch {

// Maps an errno value to a Status (ENOENT -> NOT_FOUND, EACCES -> PERMISSION_DENIED,
// ENOSPC -> RESOURCE_EXHAUSTED, EEXIST -> ALREADY_EXISTS, else INTERNAL) with
// "<context>: <strerror>".
absl::Status ErrnoToStatus(int err, absl::string_view context);

// Reads a whole file. Refuses files larger than max_bytes with FAILED_PRECONDITION before
// reading them.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     uint64_t max_bytes = uint64_t{1} << 32);

// Reads a whole file that a manifest describes: it must be exactly `want_bytes` long and hash
// to `want_sha256` (lower-case hex SHA-256). FAILED_PRECONDITION otherwise, naming the file by
// `what` and the check that failed ("... is N bytes, the manifest says M (truncated or
// replaced)", "...: SHA-256 does not match the manifest (corrupted or replaced)"); ReadFile's
// errors for a missing or oversized file.
absl::StatusOr<std::string> ReadVerifiedFile(const std::string& path, uint64_t max_bytes,
                                             uint64_t want_bytes, absl::string_view want_sha256,
                                             absl::string_view what);

// Writes `data` to `path` so that after a crash the path holds either the old content or all
// of `data`: temp file in the same directory, write, fsync, rename, fsync the directory.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data);

// Writes `data` to a new file (fails with ALREADY_EXISTS if present) and fsyncs it.
absl::Status WriteNewFileSynced(const std::string& path, absl::string_view data);

// fsync(2) of an existing file or directory by path.
absl::Status SyncPath(const std::string& path);

// Creates a directory and its parents (like mkdir -p), fsyncing each parent it changed.
absl::Status MakeDirs(const std::string& path);

// rename(2) then fsync of the destination's parent directory (and the source's, if different).
absl::Status RenameDurably(const std::string& from, const std::string& to);

// Publishes a folder atomically: writes each (file name, bytes) into a temporary sibling
// "<root>/.tmp-<name>-<random>", fsyncs every file and the folder, then renames it to
// <root>/<name> and fsyncs <root>. ALREADY_EXISTS when <root>/<name> exists (also when another
// publisher wins the rename). On any failure the temporary folder is removed. Readers never
// see a partial folder; a crash leaves at most a ".tmp-" folder behind.
absl::Status PublishDirectory(const std::string& root, const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& files);

// The directory part of a path ("." when there is none).
std::string DirName(const std::string& path);

// Makes every file and folder this process creates from now on private to its user (umask
// 077: files 0600, folders 0700): galleries, photos, vectors and checkpoints are not for
// other local users. Servers call it first thing in main().
void MakeNewFilesPrivate();

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_FILE_UTIL_H_
