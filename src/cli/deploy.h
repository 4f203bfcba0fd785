// tauon deploy, tauon status and tauon logs ENV/REPLICA: deployments on a
// server, through its HTTP API.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/remote.h"
#include "util/clock.h"

namespace tauon::cli {

struct DeployOptions {
  std::string environment;
  std::string model;  // NAME, NAME@VERSION or NAME@ALIAS
  std::string repo;
  bool wait = true;   // Until the release is live or failed, printing its progress.
  Duration timeout{300'000};
  bool json = false;
  // tauon rollback: deploy again the version served before (or `to`).
  bool rollback = false;
  std::string to;
};
int DeployCommand(const Remote& remote, const DeployOptions& options);
// Follows `release` of `options.environment` (the resource as it is now)
// until it serves or will never serve, printing its progress; the exit code.
int Follow(const Remote& remote, const DeployOptions& options, nlohmann::json environment,
           int64_t release);

// Every environment in a line each, or one in detail.
int StatusCommand(const Remote& remote, const std::string& environment, bool json);

// tauon promote ENV / tauon abort ENV: `action` is "promote" or "abort";
// with options.wait, follows the environment's release afterwards.
int RolloutCommand(const Remote& remote, const std::string& action, const DeployOptions& options);

// True for "ENV/REPLICA" (not a run id or 'last').
bool IsReplicaLogRef(const std::string& text);
// `release`: that release's replica (e.g. one rolled back); 0: the current one.
int ReplicaLogsCommand(const Remote& remote, const std::string& ref, int64_t release = 0);

}  // namespace tauon::cli
