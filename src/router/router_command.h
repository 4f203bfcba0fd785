// `tauon router`: one router in the foreground, configured on the command
// line, with its metrics on a separate address. Puts Tauon's router in front
// of any HTTP servers; the end-to-end tests and the benchmark use it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "router/router.h"
#include "util/error.h"

namespace tauon::router {

struct RouterCommandOptions {
  std::string listen = "127.0.0.1:8000";
  std::string metrics_listen;          // Empty: no metrics endpoint.
  std::string environment = "default";  // The metrics' environment label.
  std::vector<std::string> releases;   // NAME[@VERSION]=WEIGHT:HOST:PORT[,HOST:PORT...]
  std::string mirror;                  // NAME:PERCENT
  std::string sticky_header;
  std::string sticky_cookie;
  RouterOptions router;
  bool quiet = false;  // No "listening" line.
};

// "canary@digits@4=10:127.0.0.1:9001,127.0.0.1:9002" -> release "canary",
// version "digits@4", weight 10, two replicas named by their addresses.
// "canary=0:" is a release without replicas.
Result<Backend> ParseReleaseSpec(std::string_view spec);
// "shadow:25" -> {"shadow", 25}.
Result<std::pair<std::string, double>> ParseMirrorSpec(std::string_view spec);

// Builds the table from the options (errors name the offending option).
Result<RoutingTable> BuildTable(const RouterCommandOptions& options);

// Runs until SIGINT or SIGTERM; returns the exit code (2 for bad options or
// an address that cannot be bound).
int RouterCommand(const RouterCommandOptions& options);

}  // namespace tauon::router
