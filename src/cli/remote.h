// The commands that talk to a `tauon serve` over its HTTP API.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace tauon::cli {

// Where the server is and how to authenticate: --server URL (else
// $TAUON_SERVER, else http://127.0.0.1:8080) and the token from
// $TAUON_TOKEN, else DATA/token.
struct Remote {
  std::string url;
  std::string token;
};
Result<Remote> ConnectRemote(const std::string& server, const std::filesystem::path& data_dir);

// Calls the API. Fails with the server's own error message for 4xx/5xx
// ("no run 7 (HTTP 404)"); `status` (if set) receives the HTTP status.
Result<nlohmann::json> CallApi(const Remote& remote, const std::string& method,
                               const std::string& path,
                               const std::optional<nlohmann::json>& body = std::nullopt,
                               int* status = nullptr);

struct RepoAddOptions {
  std::string name;
  std::string url;
  std::vector<std::string> branches;
  std::string poll = "10s";
  std::optional<std::filesystem::path> webhook_secret_file;
};
int RepoAddCommand(const Remote& remote, const RepoAddOptions& options);
int RepoListCommand(const Remote& remote, bool json);
int RepoRemoveCommand(const Remote& remote, const std::string& name);
int TriggerCommand(const Remote& remote, const std::string& repo, const std::string& ref,
                   bool json);
int CancelCommand(const Remote& remote, const std::string& run);
int RerunCommand(const Remote& remote, const std::string& run, bool failed_only, bool json);
int RemoteRunsCommand(const Remote& remote, const std::optional<std::string>& repo,
                      const std::optional<std::string>& branch,
                      const std::optional<std::string>& status, int limit, bool json);
int RemoteShowCommand(const Remote& remote, const std::string& run, bool json);
int RemoteArtifactsCommand(const Remote& remote, const std::string& run, bool json);
// A run's output so far (no following); `job` keeps one job's lines.
int RemoteLogsCommand(const Remote& remote, const std::string& run, const std::string& job);
// Streams a run's output until it ends (Server-Sent Events). Exit code:
// the run's, as for `tauon run`.
int RemoteFollowCommand(const Remote& remote, const std::string& run);
// The same over a local data directory, by polling it.
int LocalFollowCommand(const std::filesystem::path& data_dir, const std::string& run);

}  // namespace tauon::cli
