// dogsearch: the command-line client of a dogsearch deployment. Wires flags to connections and
// dispatches to the subcommands; see `dogsearch help`.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/base/env_flags.h"
#include "tools/cli/cli.h"

ABSL_FLAG(std::string, gateway, "127.0.0.1:50050", "Gateway address (DogSearch API)");
ABSL_FLAG(std::string, trainer, "127.0.0.1:50053", "Trainer address (train, models)");
ABSL_FLAG(std::string, token, "", "Bearer token (needed for enroll, import, train, promote)");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA to verify the servers (enables TLS)");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (servers that require mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "", "Name checked on the server certificates");
ABSL_FLAG(bool, json, false, "Print JSON instead of text");
ABSL_FLAG(int, timeout_seconds, 60, "Deadline of each call");

namespace {

constexpr char kHelp[] = R"(dogsearch — find a dog by a photo of its face.

Usage: dogsearch [--gateway=HOST:PORT] [--token=T] [--json] COMMAND [ARGS]

  search PHOTO [--k=N]                 the most likely enrolled dogs
  enroll --dog=ID --name=NAME [--notes=TEXT] PHOTO...
                                       enroll a dog with 1..32 photos
  import FOLDER [--photos_per_dog=N] [--max_dogs=N] [--parallel=N]
                                       enroll every FOLDER/<dog id>/*.jpg; resumable: dogs
                                       and photos already enrolled are skipped
  dogs [--page_size=N]                 list enrolled dogs
  verify PHOTO_A PHOTO_B               same dog or not
  train start --dataset=NAME [--config=FILE.json] [--epochs=N] [--time_budget=S]
              [--auto_promote]
  train watch JOB | train cancel JOB | train list
  models list | models promote VERSION
  status                               serving model, gallery size, upgrade progress
  health [--wait_seconds=N] HOST:PORT...
                                       gRPC health of any dogsearch servers (0 = all SERVING)

Every flag may also be set as DOGSEARCH_<FLAG> in the environment (e.g. DOGSEARCH_TOKEN).
Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 invalid input, 5 not authorised,
6 unavailable, 7 already exists, 8 no match (search) / different dogs (verify).
)";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kHelp);
  std::vector<char*> positional = dogsearch::ParseFlagsWithEnv(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty() || args[0] == "help") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? dogsearch::cli::kExitUsage : 0;
  }
  using namespace dogsearch;
  cli::Cli c;
  c.json = absl::GetFlag(FLAGS_json);
  c.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  rpc::ChannelOptions o;
  o.bearer_token = absl::GetFlag(FLAGS_token);
  o.tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  o.max_receive_message_bytes = 256 << 20;
  c.gateway_options = o;
  c.trainer_options = o;
  auto gw = rpc::CreateChannel(absl::GetFlag(FLAGS_gateway), o);
  auto tr = rpc::CreateChannel(absl::GetFlag(FLAGS_trainer), o);
  if (!gw.ok() || !tr.ok()) {
    std::fprintf(stderr, "dogsearch: %s\n",
                 std::string((gw.ok() ? tr.status() : gw.status()).message()).c_str());
    return cli::kExitUsage;
  }
  c.gateway = v1::DogSearch::NewStub(*gw);
  c.trainer = v1::Trainer::NewStub(*tr);
  const std::string cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "search") return cli::CmdSearch(c, rest);
  if (cmd == "enroll") return cli::CmdEnroll(c, rest);
  if (cmd == "import") return cli::CmdImport(c, rest);
  if (cmd == "dogs") return cli::CmdDogs(c, rest);
  if (cmd == "verify") return cli::CmdVerify(c, rest);
  if (cmd == "status") return cli::CmdStatus(c, rest);
  if (cmd == "train") return cli::CmdTrain(c, rest);
  if (cmd == "models") return cli::CmdModels(c, rest);
  if (cmd == "health") return cli::CmdHealth(c, rest);
  return cli::Usage("unknown command '" + cmd + "' (see dogsearch help)");
}
