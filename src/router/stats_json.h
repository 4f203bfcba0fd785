// Router statistics as JSON, the shape the CLI and the HTTP API show.
#pragma once

#include <nlohmann/json.hpp>

#include "router/stats.h"

namespace tauon::router {

// {"environment", "uptime_seconds", "bad_requests", "connections_open",
//  "releases": [{"release", "version", "weight", "ready_replicas", "in_table",
//  "requests": {"total", "2xx", ...}, "upstream_errors": {"connect", ...},
//  "in_flight", "latency_ms": {"p50", "p95", "p99"} (sliding window),
//  "mirror": {"requests", "upstream_errors", "agreed", "disagreed",
//  "agreement"}}]}.
nlohmann::json StatsJson(const Snapshot& snapshot);

}  // namespace tauon::router
