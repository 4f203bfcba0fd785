// Traffic through Tauon's own router: one router::Router per environment.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "deploy/traffic.h"
#include "router/router.h"

namespace tauon::deploy {

class RouterTraffic final : public Traffic {
 public:
  explicit RouterTraffic(router::RouterOptions options = {}) : options_(options) {}
  ~RouterTraffic() override;

  Result<int> Open(const std::string& environment, const std::string& address) override;
  void Route(const std::string& environment, std::vector<TrafficTarget> targets) override;
  void Close(const std::string& environment) override;
  // router::StatsJson of the environment's router.
  nlohmann::json Describe(const std::string& environment) const override;

  // Every environment's router statistics in Prometheus text format.
  std::string PrometheusText() const;
  std::optional<router::Snapshot> Sample(const std::string& environment) const override;
  int64_t InFlight(const std::string& environment, const std::string& host,
                   int port) const override;

 private:
  const router::RouterOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<router::Router>> routers_;
};

}  // namespace tauon::deploy
