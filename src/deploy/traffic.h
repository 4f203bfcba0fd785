// Where the deploy controller sends an environment's traffic: the router in
// production (router_traffic.cc), a recording fake in tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "router/stats.h"
#include "util/error.h"

namespace tauon::deploy {

// One release's share of an environment's traffic.
struct TrafficTarget {
  std::string release;  // "stable", "canary": the label of metrics and pinning.
  std::string version;  // "digits-classifier@3"
  uint32_t weight = 0;  // Relative.
  struct Upstream {
    std::string id;  // "r1"
    std::string host;
    int port = 0;
  };
  std::vector<Upstream> upstreams;  // The release's ready replicas.
};

class Traffic {
 public:
  virtual ~Traffic() = default;
  // Starts taking `environment`'s requests on `address` ("127.0.0.1:8080";
  // port 0 picks one). Returns the bound port.
  virtual Result<int> Open(const std::string& environment, const std::string& address) = 0;
  // Replaces where the environment's requests go, at once: requests in
  // flight finish where they are, new ones follow the new targets.
  virtual void Route(const std::string& environment, std::vector<TrafficTarget> targets) = 0;
  virtual void Close(const std::string& environment) = 0;
  // What the environment's traffic looks like now (requests, errors,
  // latency per release), for status; null when unknown.
  virtual nlohmann::json Describe(const std::string& environment) const = 0;
  // Requests the environment's router is sending to host:port now (for a
  // graceful stop: 0 once a replica out of the routing table is idle).
  virtual int64_t InFlight(const std::string& environment, const std::string& host,
                           int port) const = 0;
  // The environment's cumulative traffic statistics now, per release label
  // (the canary analysis diffs two of them); nullopt when unknown.
  virtual std::optional<router::Snapshot> Sample(const std::string& environment) const = 0;
};

}  // namespace tauon::deploy
