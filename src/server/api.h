// The HTTP API (JSON; reference in docs/api.md), webhooks and /metrics.
// Every /api/v1 route needs `Authorization: Bearer TOKEN` except webhooks,
// which authenticate by signature; /healthz and /metrics are open.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/server.h"
#include "runs/layout.h"
#include "scm/webhook.h"
#include "server/dispatcher.h"
#include "server/watcher.h"
#include "store/store.h"

namespace tauon::server {

class Api {
 public:
  Api(runs::DataLayout layout, Dispatcher& dispatcher, Watcher& watcher, std::string token);

  // Adds the routes to `server`. Handlers run on the server's thread and use
  // one store connection opened on that thread.
  void Register(http::Server& server);
  // Adds more Prometheus text to /metrics (e.g. the routers' statistics).
  void AddMetrics(std::function<std::string()> metrics) { more_metrics_.push_back(std::move(metrics)); }

 private:
  http::Response Repos(const http::Request& request);
  http::Response AddRepo(const http::Request& request);
  http::Response RemoveRepo(const http::Request& request);
  http::Response Runs(const http::Request& request);
  http::Response Trigger(const http::Request& request);
  http::Response Run(const http::Request& request);
  http::Response Tests(const http::Request& request);
  http::Response Artifacts(const http::Request& request);
  http::Response Artifact(const http::Request& request);
  http::Response Cancel(const http::Request& request);
  http::Response Rerun(const http::Request& request);
  http::Response Logs(const http::Request& request);
  http::Response Webhook(scm::Forge forge, const http::Request& request);
  http::Response Models(const http::Request& request);
  http::Response Model(const http::Request& request);
  http::Response ModelLineage(const http::Request& request);
  http::Response ModelAlias(const http::Request& request);
  http::Response ModelDiff(const http::Request& request);
  http::Response Metrics(const http::Request& request);
  // For the dashboard (web_api.cc).
  http::Response Branches(const http::Request& request);
  http::Response RunStats(const http::Request& request);
  http::Response TestHistory(const http::Request& request);
  http::Response FlakyTests(const http::Request& request);
  http::Response TestRanking(const http::Request& request);

  // The store of the server thread, opened on first use.
  Result<store::Store*> Store();
  // Wraps `handler` with the bearer-token check.
  http::Handler Authenticated(http::Response (Api::*handler)(const http::Request&));

  const runs::DataLayout layout_;
  Dispatcher& dispatcher_;
  Watcher& watcher_;
  const std::string token_;
  std::unique_ptr<store::Store> store_;  // Server thread only.
  std::vector<std::function<std::string()>> more_metrics_;
};

// Wraps `handler` with the bearer-token check (401 without the right token).
http::Handler RequireToken(const std::string& token, http::Handler handler);

// The server's API token: read from DATA/token, created (random, mode 0600)
// if missing. `created` tells which.
Result<std::string> LoadOrCreateToken(const runs::DataLayout& layout, bool* created);

}  // namespace tauon::server
