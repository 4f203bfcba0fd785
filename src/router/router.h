// The traffic router: an HTTP/1.1 reverse proxy in front of the replicas of
// an environment's releases, splitting traffic by weight, with pinning,
// sticky keys, mirroring and per-release statistics.
//
// Threads: Start() runs `options.threads` I/O threads, each with its own
// event loop, listening socket (SO_REUSEPORT), upstream connection pool,
// weighted picker and statistics shard, so the request path takes no lock.
// SetTable(), Stats() and Stop() may be called from any thread.
//
// See docs/router.md for the behaviour at the edges (limits, timeouts,
// retries, hop-by-hop headers, status codes the router answers itself).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "router/stats.h"
#include "util/clock.h"
#include "util/error.h"

namespace tauon::router {

// One ready replica.
struct Upstream {
  std::string id;    // Shown in errors and logs, e.g. "r1".
  std::string host;  // An IP address or "localhost".
  int port = 0;
};

// One release of the environment's model.
struct Backend {
  std::string release;  // Label: "stable", "canary", ... (metrics label, pin value).
  std::string version;  // E.g. "digits-classifier@3" (also accepted by the pin header).
  uint32_t weight = 0;  // Relative; 0 = no weighted traffic (still reachable by pin).
  std::vector<Upstream> upstreams;  // Round robin inside a release.
};

struct RoutingTable {
  std::vector<Backend> backends;  // Release labels are unique.
  // Mirror `mirror_percent`% of the requests that go to other releases to
  // this one as well; its responses are discarded and recorded.
  std::string mirror_release;
  double mirror_percent = 0;
  // Sticky routing: requests carrying this header (or cookie) go to the
  // release their value hashes to, in proportion to the weights. The header
  // wins when both are set and present.
  std::string sticky_header;
  std::string sticky_cookie;
};

// Checks a table: labels unique and non-empty, ports in range, the mirror
// release present and its percent within [0, 100].
Status ValidateTable(const RoutingTable& table);

struct RouterOptions {
  int threads = 0;                        // I/O threads; 0 = hardware concurrency.
  size_t max_header_bytes = 64 * 1024;    // Request heads over this get 431; response heads 502.
  size_t max_request_body_bytes = 16 * 1024 * 1024;    // Larger bodies get 413.
  uint64_t max_response_body_bytes = 1ull << 32;       // Larger responses are cut off (502 if
                                                       // nothing was sent yet).
  Duration header_timeout{10'000};    // A client must send a request's head (and body) this fast.
  Duration idle_timeout{60'000};      // Idle client keep-alive connections are closed after this;
                                      // also bounds each write to a client.
  Duration connect_timeout{2'000};    // Connecting to a replica.
  Duration read_timeout{60'000};      // Waiting for each read from a replica (first byte included).
  Duration upstream_idle_timeout{30'000};  // Pooled connections unused this long are not reused.
  size_t max_idle_per_upstream = 256;  // Per I/O thread.
  Duration down_after_connect_failure{1'000};  // A replica refusing connections is skipped this
                                               // long (unless every replica is down).
  size_t mirror_max_body_bytes = 1024 * 1024;  // Larger requests are not mirrored; larger JSON
                                               // responses are not compared.
};

class Router {
 public:
  // `environment` labels the metrics.
  explicit Router(std::string environment, RouterOptions options = {});
  ~Router();  // Stops.
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Binds `address` ("127.0.0.1:8080", "[::1]:0", ":8080" for every IPv4
  // address; port 0 picks a free one) and starts the I/O threads. Returns the
  // bound port. Call once.
  Result<int> Start(const std::string& address);

  // Replaces the routing table. Requests already being answered finish on
  // the replicas they were sent to; every request that starts after this
  // returns sees the new table. No connection is dropped. The table must be
  // valid (ValidateTable); an invalid one is refused and the old one kept.
  Status SetTable(RoutingTable table);
  RoutingTable table() const;

  // Requests being answered by the replica at host:port now (primary and
  // mirrored, whichever table they started under); 0 for an unknown one.
  // For a graceful stop: take the replica out of the table, wait for 0, then
  // signal it. Pooled idle connections to a replica that left the table are
  // closed within 100 ms.
  int64_t InFlight(const std::string& host, int port) const;

  // Cumulative statistics of every release seen since the router was created.
  Snapshot Stats() const;

  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

  const std::string& environment() const;

  struct Impl;  // In worker.h (its I/O threads share it).

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tauon::router
