#include "router/stats_json.h"

namespace tauon::router {

nlohmann::json StatsJson(const Snapshot& snapshot) {
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  nlohmann::json releases = nlohmann::json::array();
  for (const ReleaseSnapshot& r : snapshot.releases) {
    nlohmann::json requests = {{"total", r.total_requests()}};
    for (int c = 0; c < 5; ++c) requests[kClasses[c]] = r.requests[c];
    nlohmann::json errors = nlohmann::json::object();
    for (int k = 0; k < kUpstreamErrorKinds; ++k) errors[UpstreamErrorName(k)] = r.upstream_errors[k];
    uint64_t mirrored = 0;
    for (uint64_t n : r.mirror_requests) mirrored += n;
    uint64_t compared = r.mirror_agreed + r.mirror_disagreed;
    nlohmann::json mirror = {{"requests", mirrored},
                             {"upstream_errors", r.mirror_upstream_errors},
                             {"agreed", r.mirror_agreed},
                             {"disagreed", r.mirror_disagreed}};
    mirror["agreement"] = compared == 0 ? nlohmann::json(nullptr)
                                        : nlohmann::json(static_cast<double>(r.mirror_agreed) /
                                                         static_cast<double>(compared));
    releases.push_back({{"release", r.release},
                        {"version", r.version},
                        {"weight", r.weight},
                        {"ready_replicas", r.ready_replicas},
                        {"in_table", r.in_table},
                        {"requests", requests},
                        {"upstream_errors", errors},
                        {"in_flight", r.in_flight},
                        {"latency_ms",
                         {{"p50", r.recent_latency.QuantileMs(0.50)},
                          {"p95", r.recent_latency.QuantileMs(0.95)},
                          {"p99", r.recent_latency.QuantileMs(0.99)}}},
                        {"mirror", mirror}});
  }
  return {{"environment", snapshot.environment},
          {"uptime_seconds", snapshot.uptime_seconds},
          {"bad_requests", snapshot.bad_requests},
          {"connections_accepted", snapshot.connections_accepted},
          {"connections_open", snapshot.connections_open},
          {"releases", releases}};
}

}  // namespace tauon::router
