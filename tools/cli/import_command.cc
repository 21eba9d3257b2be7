// import FOLDER: enrolls FOLDER/<dog id>/<photos> through the gateway, in parallel, with a
// progress line. Resumable: a dog already enrolled only gets the photos it lacks (compared by
// SHA-256), so an interrupted import is finished by running it again.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/sha256.h"
#include "tools/cli/cli.h"

ABSL_FLAG(int, photos_per_dog, 0, "import: photos enrolled per dog (0 = all)");
ABSL_FLAG(int, parallel, 4, "import: dogs enrolled at once");
ABSL_FLAG(int, max_dogs, 0, "import: only the first N dog folders by name (0 = all)");

namespace dogsearch::cli {
namespace {

namespace fs = std::filesystem;
constexpr int kMaxPerCall = 32;

bool IsPhoto(const fs::path& p) {
  std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp";
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

struct DogJob {
  std::string id;
  std::vector<std::string> photos;
};

enum class Outcome { kEnrolled, kAdded, kUpToDate, kFailed };

struct Importer {
  explicit Importer(const Cli& c) : cli(c) {}
  const Cli& cli;
  std::mutex mu;  // Guards first_error and its code; counters are atomics.
  std::string first_error;
  int first_code = kExitOk;
  std::atomic<int> enrolled{0}, added{0}, up_to_date{0}, failed{0}, photos{0};

  // Calls with retries on UNAVAILABLE (the gateway restarting, a backend blip).
  template <typename Fn>
  grpc::Status Retry(Fn&& fn) {
    grpc::Status s;
    for (int attempt = 0; attempt < 4; ++attempt) {
      s = fn();
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return s;
      absl::SleepFor(absl::Milliseconds(500 << attempt));
    }
    return s;
  }

  grpc::Status AddInChunks(const std::string& id, const std::vector<v1::Photo>& list, size_t from) {
    for (size_t i = from; i < list.size(); i += kMaxPerCall) {
      v1::AddPhotosRequest req;
      req.set_dog_id(id);
      for (size_t j = i; j < std::min(list.size(), i + kMaxPerCall); ++j)
        *req.add_photos() = list[j];
      v1::AddPhotosResponse resp;
      grpc::Status s = Retry([&] {
        grpc::ClientContext ctx;
        cli.Prepare(&ctx);
        return cli.gateway->AddPhotos(&ctx, req, &resp);
      });
      if (!s.ok()) return s;
      photos += resp.added_photo_ids_size();
    }
    return grpc::Status::OK;
  }

  Outcome Run(const DogJob& job, grpc::Status* error) {
    std::vector<v1::Photo> list(job.photos.size());
    for (size_t i = 0; i < job.photos.size(); ++i) {
      if (!ReadPhoto(job.photos[i], &list[i])) {
        *error = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cannot read " + job.photos[i]);
        return Outcome::kFailed;
      }
    }
    v1::GetDogRequest get;
    get.set_dog_id(job.id);
    v1::Dog dog;
    grpc::Status s = Retry([&] {
      grpc::ClientContext ctx;
      cli.Prepare(&ctx);
      return cli.gateway->GetDog(&ctx, get, &dog);
    });
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      v1::EnrollRequest req;
      req.set_dog_id(job.id);
      req.set_name(job.id);
      for (size_t i = 0; i < list.size() && i < kMaxPerCall; ++i) *req.add_photos() = list[i];
      v1::Dog out;
      s = Retry([&] {
        grpc::ClientContext ctx;
        cli.Prepare(&ctx);
        return cli.gateway->Enroll(&ctx, req, &out);
      });
      if (s.ok()) photos += out.photos_size();
      if (s.ok()) s = AddInChunks(job.id, list, kMaxPerCall);
      *error = s;
      return s.ok() ? Outcome::kEnrolled : Outcome::kFailed;
    }
    if (!s.ok()) {
      *error = s;
      return Outcome::kFailed;
    }
    std::set<std::string> have;
    for (const v1::DogPhoto& p : dog.photos()) have.insert(p.photo_id());
    std::vector<v1::Photo> missing;
    for (const v1::Photo& p : list) {
      if (!have.count(Sha256::Hex(p.data()))) missing.push_back(p);
    }
    if (missing.empty()) return Outcome::kUpToDate;
    *error = AddInChunks(job.id, missing, 0);
    return error->ok() ? Outcome::kAdded : Outcome::kFailed;
  }
};

}  // namespace

int CmdImport(const Cli& cli, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Usage("usage: dogsearch import FOLDER [--photos_per_dog=N] [--parallel=N]");
  }
  std::error_code ec;
  if (!fs::is_directory(args[0], ec)) return Usage("import: " + args[0] + " is not a folder");
  std::vector<DogJob> jobs;
  int skipped_names = 0;
  for (const auto& entry : fs::directory_iterator(args[0], ec)) {
    if (!entry.is_directory()) continue;
    DogJob job{entry.path().filename().string(), {}};
    if (!ValidId(job.id)) {
      ++skipped_names;
      std::fprintf(stderr, "dogsearch import: skipping folder '%s' (not a valid dog id)\n",
                   job.id.c_str());
      continue;
    }
    for (const auto& f : fs::directory_iterator(entry.path(), ec)) {
      if (f.is_regular_file() && IsPhoto(f.path())) job.photos.push_back(f.path().string());
    }
    std::sort(job.photos.begin(), job.photos.end());
    const int per_dog = absl::GetFlag(FLAGS_photos_per_dog);
    if (per_dog > 0 && job.photos.size() > static_cast<size_t>(per_dog)) job.photos.resize(per_dog);
    if (!job.photos.empty()) jobs.push_back(std::move(job));
  }
  std::sort(jobs.begin(), jobs.end(), [](const DogJob& a, const DogJob& b) { return a.id < b.id; });
  if (const int max = absl::GetFlag(FLAGS_max_dogs);
      max > 0 && jobs.size() > static_cast<size_t>(max)) {
    jobs.resize(max);
  }

  Importer imp(cli);
  std::atomic<size_t> next{0}, done{0};
  const absl::Time start = absl::Now();
  const bool tty = isatty(STDERR_FILENO) && !cli.json;
  auto progress = [&](bool final_line) {
    const size_t d = done.load();
    const double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start));
    const int width = 30;
    const int filled = jobs.empty() ? width : static_cast<int>(width * d / jobs.size());
    std::fprintf(stderr,
                 "%s[%s%s] %zu/%zu dogs: %d enrolled, %d updated, %d up to date, "
                 "%d failed (%.1f dogs/s)%s",
                 tty ? "\r" : "", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), d, jobs.size(), imp.enrolled.load(),
                 imp.added.load(), imp.up_to_date.load(), imp.failed.load(), d / secs,
                 tty && !final_line ? "" : "\n");
  };
  std::vector<std::thread> workers;
  const int parallel = std::clamp(absl::GetFlag(FLAGS_parallel), 1, 32);
  for (int w = 0; w < parallel; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < jobs.size(); i = next++) {
        grpc::Status err;
        switch (imp.Run(jobs[i], &err)) {
          case Outcome::kEnrolled:
            ++imp.enrolled;
            break;
          case Outcome::kAdded:
            ++imp.added;
            break;
          case Outcome::kUpToDate:
            ++imp.up_to_date;
            break;
          case Outcome::kFailed: {
            ++imp.failed;
            std::lock_guard<std::mutex> l(imp.mu);
            const int code = Fail(err, "import " + jobs[i].id);
            if (imp.first_code == kExitOk) imp.first_code = code;
            break;
          }
        }
        const size_t d = ++done;
        if (tty || d % std::max<size_t>(1, jobs.size() / 10) == 0) {
          std::lock_guard<std::mutex> l(imp.mu);
          if (!cli.json) progress(false);
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  if (cli.json) {
    std::printf(
        "{\"dogs\":%zu,\"enrolled\":%d,\"updated\":%d,\"up_to_date\":%d,\"failed\":%d,"
        "\"photos_added\":%d,\"skipped_folders\":%d,\"seconds\":%.3f}\n",
        jobs.size(), imp.enrolled.load(), imp.added.load(), imp.up_to_date.load(),
        imp.failed.load(), imp.photos.load(), skipped_names,
        absl::ToDoubleSeconds(absl::Now() - start));
  } else {
    progress(true);
    std::printf(
        "Imported %zu dogs from %s: %d enrolled, %d updated, %d already up to date, "
        "%d failed; %d photos added.\n",
        jobs.size(), args[0].c_str(), imp.enrolled.load(), imp.added.load(), imp.up_to_date.load(),
        imp.failed.load(), imp.photos.load());
  }
  return imp.failed.load() > 0 ? imp.first_code : kExitOk;
}

}  // namespace dogsearch::cli
