// search, enroll, dogs, verify, status.
#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/proto_json.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/cli/cli.h"
#include "tools/cli/search_answer.h"

ABSL_FLAG(int, k, 5, "search: dogs to show");
ABSL_FLAG(std::string, dog, "", "enroll: dog id");
ABSL_FLAG(std::string, name, "", "enroll: the dog's name");
ABSL_FLAG(std::string, notes, "", "enroll: notes");
ABSL_FLAG(int, page_size, 100, "dogs: dogs per page");
ABSL_FLAG(int, wait_seconds, 0, "health: keep checking this long until every server is SERVING");

namespace dogsearch::cli {

int Fail(const grpc::Status& status, const std::string& what) {
  // The numeric codes are the same in gRPC and Abseil (common/rpc/status_util.h).
  std::fprintf(stderr, "dogsearch %s: %s: %s\n", what.c_str(),
               absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
               status.error_message().c_str());
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitAuth;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kExitUnavailable;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return kExitConflict;
    default:
      return kExitFailure;
  }
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "dogsearch: %s\n", message.c_str());
  return kExitUsage;
}

void PrintJson(const google::protobuf::Message& message) {
  std::printf("%s\n", ProtoToJson(message, {/*all_fields=*/true}).value_or("{}").c_str());
}

bool ReadPhoto(const std::string& path, v1::Photo* photo) {
  auto data = ReadFile(path, 64 << 20);
  if (!data.ok()) {
    std::fprintf(stderr, "dogsearch: cannot read %s: %s\n", path.c_str(),
                 std::string(data.status().message()).c_str());
    return false;
  }
  photo->set_data(*std::move(data));
  photo->set_name(std::filesystem::path(path).filename().string());
  return true;
}

int CmdSearch(const Cli& cli, const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("usage: dogsearch search PHOTO [--k=N]");
  v1::SearchRequest req;
  if (!ReadPhoto(args[0], req.mutable_photo())) return kExitInvalid;
  req.set_k(static_cast<uint32_t>(absl::GetFlag(FLAGS_k)));
  grpc::ClientContext ctx;
  cli.Prepare(&ctx);
  v1::SearchResponse resp;
  if (grpc::Status s = cli.gateway->Search(&ctx, req, &resp); !s.ok()) return Fail(s, "search");
  if (cli.json) {
    PrintJson(resp);
  } else {
    std::printf("%s", SearchAnswerText(resp).c_str());
    std::printf("(model %s, %.0f ms)\n", resp.model_version().c_str(),
                1000 * (resp.embed_seconds() + resp.search_seconds()));
  }
  return resp.confident() ? kExitOk : kExitNoMatch;
}

int CmdEnroll(const Cli& cli, const std::vector<std::string>& args) {
  if (args.empty() || absl::GetFlag(FLAGS_dog).empty() || absl::GetFlag(FLAGS_name).empty()) {
    return Usage("usage: dogsearch enroll --dog=ID --name=NAME [--notes=TEXT] PHOTO...");
  }
  v1::EnrollRequest req;
  req.set_dog_id(absl::GetFlag(FLAGS_dog));
  req.set_name(absl::GetFlag(FLAGS_name));
  req.set_notes(absl::GetFlag(FLAGS_notes));
  for (const std::string& path : args) {
    if (!ReadPhoto(path, req.add_photos())) return kExitInvalid;
  }
  grpc::ClientContext ctx;
  cli.Prepare(&ctx);
  v1::Dog dog;
  if (grpc::Status s = cli.gateway->Enroll(&ctx, req, &dog); !s.ok()) return Fail(s, "enroll");
  if (cli.json) {
    PrintJson(dog);
  } else {
    std::printf("Enrolled %s (%s) with %d photo(s).\n", dog.name().c_str(), dog.dog_id().c_str(),
                dog.photos_size());
  }
  return kExitOk;
}

int CmdDogs(const Cli& cli, const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("usage: dogsearch dogs [--page_size=N]");
  v1::ListDogsRequest req;
  req.set_page_size(static_cast<uint32_t>(absl::GetFlag(FLAGS_page_size)));
  v1::ListDogsResponse all;
  do {
    grpc::ClientContext ctx;
    cli.Prepare(&ctx);
    v1::ListDogsResponse page;
    if (grpc::Status s = cli.gateway->ListDogs(&ctx, req, &page); !s.ok()) return Fail(s, "dogs");
    for (const v1::Dog& d : page.dogs()) {
      if (cli.json) {
        *all.add_dogs() = d;
      } else {
        std::printf("%-24s %-32s %3d photo(s)\n", d.dog_id().c_str(), d.name().c_str(),
                    d.photos_size());
      }
    }
    all.set_total_dogs(page.total_dogs());
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (cli.json) {
    PrintJson(all);
  } else {
    std::printf("%llu dog(s)\n", static_cast<unsigned long long>(all.total_dogs()));
  }
  return kExitOk;
}

int CmdVerify(const Cli& cli, const std::vector<std::string>& args) {
  if (args.size() != 2) return Usage("usage: dogsearch verify PHOTO_A PHOTO_B");
  v1::VerifyRequest req;
  if (!ReadPhoto(args[0], req.mutable_photo_a()) || !ReadPhoto(args[1], req.mutable_photo_b())) {
    return kExitInvalid;
  }
  grpc::ClientContext ctx;
  cli.Prepare(&ctx);
  v1::VerifyResponse resp;
  if (grpc::Status s = cli.gateway->Verify(&ctx, req, &resp); !s.ok()) return Fail(s, "verify");
  if (cli.json) {
    PrintJson(resp);
  } else {
    std::printf("%s (confidence %.1f%%, distance %.3f, threshold %.3f, model %s)\n",
                resp.same_dog() ? "Same dog" : "Different dogs", 100.0 * resp.confidence(),
                resp.distance(), resp.threshold(), resp.model_version().c_str());
  }
  return resp.same_dog() ? kExitOk : kExitNoMatch;
}

int CmdStatus(const Cli& cli, const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("usage: dogsearch status");
  grpc::ClientContext ctx;
  cli.Prepare(&ctx);
  v1::ModelStatus st;
  if (grpc::Status s = cli.gateway->GetModelStatus(&ctx, v1::GetModelStatusRequest(), &st);
      !s.ok()) {
    return Fail(s, "status");
  }
  if (cli.json) {
    PrintJson(st);
    return kExitOk;
  }
  std::printf("Serving model: %s\n",
              st.serving_version().empty() ? "(none yet)" : st.serving_version().c_str());
  if (st.metrics().verification_accuracy() > 0) {
    std::printf("  verification %.3f, rank-1 %.3f, same-dog threshold %.3f\n",
                st.metrics().verification_accuracy(), st.metrics().rank1(),
                st.metrics().threshold());
  }
  std::printf("Gallery: %llu dogs, %llu photos\n", static_cast<unsigned long long>(st.dogs()),
              static_cast<unsigned long long>(st.photos()));
  const v1::UpgradeProgress& u = st.upgrade();
  std::string upgrade = v1::UpgradeState_Name(u.state()).substr(strlen("UPGRADE_STATE_"));
  if (!u.to_version().empty())
    absl::StrAppend(&upgrade, " (", u.from_version(), " -> ", u.to_version(), ")");
  if (u.state() == v1::UPGRADE_STATE_REEMBEDDING) {
    absl::StrAppend(&upgrade,
                    absl::StrFormat(", %llu/%llu photos", u.photos_done(), u.photos_total()));
  }
  if (!u.state_reason().empty()) absl::StrAppend(&upgrade, ": ", u.state_reason());
  std::printf("Latest upgrade: %s\n", upgrade.c_str());
  const v1::Rollout& r = st.rollout();
  if (r.state() != v1::ROLLOUT_STATE_UNSPECIFIED) {
    std::string line = absl::StrCat(
        "Trainer promotes: ", r.promoted_version().empty() ? "(nothing)" : r.promoted_version(),
        " (",
        absl::AsciiStrToLower(v1::RolloutState_Name(r.state()).substr(strlen("ROLLOUT_STATE_"))),
        r.behind_seconds() > 0 ? absl::StrCat(", behind for ", r.behind_seconds(), " s") : "", ")");
    if (!r.detail().empty()) absl::StrAppend(&line, ": ", r.detail());
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

int CmdHealth(const Cli& cli, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("usage: dogsearch health [--wait_seconds=N] HOST:PORT...");
  const absl::Time give_up = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
  int result = kExitOk;
  for (const std::string& address : args) {
    auto channel = rpc::CreateChannel(address, cli.gateway_options);
    if (!channel.ok()) return Usage(std::string(channel.status().message()));
    auto stub = grpc::health::v1::Health::NewStub(*channel);
    std::string state;
    while (true) {
      grpc::ClientContext ctx;
      rpc::PrepareContext(&ctx, cli.gateway_options, absl::Seconds(2));
      grpc::health::v1::HealthCheckResponse resp;
      grpc::Status s = stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp);
      state = s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())
                     : "UNREACHABLE (" + s.error_message() + ")";
      if (s.ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) break;
      if (absl::Now() >= give_up) break;
      absl::SleepFor(absl::Milliseconds(250));
    }
    if (cli.json) {
      std::printf("{\"address\":\"%s\",\"status\":\"%s\"}\n", address.c_str(),
                  state.substr(0, state.find(' ')).c_str());
    } else {
      std::printf("%-24s %s\n", address.c_str(), state.c_str());
    }
    if (state != "SERVING") result = kExitUnavailable;
  }
  return result;
}

}  // namespace dogsearch::cli
