// The `dogsearch` command-line client: connections, output and exit codes shared by the
// subcommands (gallery_commands.cc, train_commands.cc, import_command.cc).
//
// Exit codes: 0 success; 1 other failure; 2 usage error; 3 not found; 4 invalid input;
// 5 not authorised; 6 service unavailable or too slow; 7 already exists / conflict;
// 8 the photos are of different dogs (verify) or no confident match (search: a possible
// match or no enrolled dog close enough).
#ifndef DOGSEARCH_TOOLS_CLI_CLI_H_
#define DOGSEARCH_TOOLS_CLI_CLI_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "common/rpc/channel.h"
#include "dogsearch/v1/dogsearch.grpc.pb.h"
#include "dogsearch/v1/trainer.grpc.pb.h"
#include "google/protobuf/message.h"

namespace dogsearch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitInvalid = 4;
inline constexpr int kExitAuth = 5;
inline constexpr int kExitUnavailable = 6;
inline constexpr int kExitConflict = 7;
inline constexpr int kExitNoMatch = 8;

struct Cli {
  std::unique_ptr<v1::DogSearch::Stub> gateway;
  std::unique_ptr<v1::Trainer::Stub> trainer;
  rpc::ChannelOptions gateway_options;
  rpc::ChannelOptions trainer_options;
  bool json = false;
  absl::Duration timeout = absl::Seconds(60);

  void Prepare(grpc::ClientContext* ctx, bool trainer_call = false) const {
    rpc::PrepareContext(ctx, trainer_call ? trainer_options : gateway_options, timeout);
  }
};

// Maps an RPC status to an exit code and prints "dogsearch <what>: CODE: message" on stderr.
int Fail(const grpc::Status& status, const std::string& what);
int Usage(const std::string& message);
// Prints a message as JSON (proto field names) on stdout.
void PrintJson(const google::protobuf::Message& message);
// Reads a photo file into a Photo (name = file name). False (and a message) on error.
bool ReadPhoto(const std::string& path, v1::Photo* photo);

int CmdSearch(const Cli& cli, const std::vector<std::string>& args);
int CmdEnroll(const Cli& cli, const std::vector<std::string>& args);
int CmdDogs(const Cli& cli, const std::vector<std::string>& args);
int CmdVerify(const Cli& cli, const std::vector<std::string>& args);
int CmdStatus(const Cli& cli, const std::vector<std::string>& args);
int CmdImport(const Cli& cli, const std::vector<std::string>& args);
int CmdTrain(const Cli& cli, const std::vector<std::string>& args);
int CmdModels(const Cli& cli, const std::vector<std::string>& args);
int CmdHealth(const Cli& cli, const std::vector<std::string>& args);

}  // namespace dogsearch::cli

#endif  // DOGSEARCH_TOOLS_CLI_CLI_H_
