#include "deploy/router_traffic.h"

#include <fmt/format.h>

#include <algorithm>

#include "router/prometheus.h"
#include "router/stats_json.h"

namespace tauon::deploy {

RouterTraffic::~RouterTraffic() {
  std::lock_guard lock(mu_);
  for (auto& [name, router] : routers_) router->Stop();
}

Result<int> RouterTraffic::Open(const std::string& environment, const std::string& address) {
  auto router = std::make_unique<router::Router>(environment, options_);
  Result<int> port = router->Start(address);
  if (!port) return std::unexpected(port.error());
  std::lock_guard lock(mu_);
  if (auto it = routers_.find(environment); it != routers_.end()) it->second->Stop();
  routers_[environment] = std::move(router);
  return port;
}

void RouterTraffic::Route(const std::string& environment, std::vector<TrafficTarget> targets) {
  router::RoutingTable table;
  for (TrafficTarget& target : targets) {
    router::Backend backend;
    backend.release = std::move(target.release);
    backend.version = std::move(target.version);
    backend.weight = target.weight;
    for (TrafficTarget::Upstream& upstream : target.upstreams) {
      backend.upstreams.push_back({std::move(upstream.id), std::move(upstream.host), upstream.port});
    }
    table.backends.push_back(std::move(backend));
  }
  std::lock_guard lock(mu_);
  auto it = routers_.find(environment);
  if (it == routers_.end()) return;
  if (Status ok = it->second->SetTable(std::move(table)); !ok) {
    // The controller builds tables from live replicas: a refusal is a bug.
    fmt::print(stderr, "tauon: {}: routing table refused: {}\n", environment, ok.error().message);
  }
}

void RouterTraffic::Close(const std::string& environment) {
  std::lock_guard lock(mu_);
  auto it = routers_.find(environment);
  if (it == routers_.end()) return;
  it->second->Stop();
  routers_.erase(it);
}

std::string RouterTraffic::PrometheusText() const {
  std::vector<router::Snapshot> snapshots;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, router] : routers_) snapshots.push_back(router->Stats());
  }
  return router::PrometheusText(snapshots);
}

std::optional<router::Snapshot> RouterTraffic::Sample(const std::string& environment) const {
  std::lock_guard lock(mu_);
  auto it = routers_.find(environment);
  if (it == routers_.end()) return std::nullopt;
  return it->second->Stats();
}

int64_t RouterTraffic::InFlight(const std::string& environment, const std::string& host,
                                int port) const {
  std::lock_guard lock(mu_);
  auto it = routers_.find(environment);
  return it == routers_.end() ? 0 : it->second->InFlight(host, port);
}

nlohmann::json RouterTraffic::Describe(const std::string& environment) const {
  std::optional<router::Snapshot> stats = Sample(environment);
  if (!stats) return nullptr;
  nlohmann::json out = router::StatsJson(*stats);
  // Requests per second over the sliding window (the last minute, or less
  // for a young router).
  const double window = std::min<double>(router::kWindowSlots * router::kWindowSlotSeconds,
                                         std::max(1.0, stats->uptime_seconds));
  for (size_t i = 0; i < stats->releases.size(); ++i) {
    out["releases"][i]["rate_per_second"] =
        static_cast<double>(stats->releases[i].recent_latency.count) / window;
  }
  return out;
}

}  // namespace tauon::deploy
