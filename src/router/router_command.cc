#include "router/router_command.h"

#include <signal.h>
#include <string.h>

#include <charconv>

#include <fmt/format.h>

#include "http/server.h"
#include "router/prometheus.h"
#include "router/stats_json.h"

namespace tauon::router {

namespace {

Result<int> ParsePort(std::string_view text, std::string_view what) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 ||
      port > 65535) {
    return Fail("{}: '{}' is not a port (1-65535)", what, text);
  }
  return port;
}

}  // namespace

Result<Backend> ParseReleaseSpec(std::string_view spec) {
  auto bad = [&](std::string_view why) {
    return Fail("invalid --release '{}': {} (expected NAME[@VERSION]=WEIGHT:HOST:PORT[,HOST:PORT...])",
                spec, why);
  };
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) return bad("no '='");
  Backend backend;
  std::string_view name = spec.substr(0, eq);
  size_t at = name.find('@');
  backend.release = std::string(name.substr(0, at));
  if (at != std::string_view::npos) {
    backend.version = std::string(name.substr(at + 1));
    if (backend.version.empty()) return bad("empty version after '@'");
  }
  if (backend.release.empty()) return bad("empty release name");
  std::string_view rest = spec.substr(eq + 1);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return bad("no ':' after the weight");
  std::string_view weight = rest.substr(0, colon);
  auto [end, ec] = std::from_chars(weight.data(), weight.data() + weight.size(), backend.weight);
  if (weight.empty() || ec != std::errc() || end != weight.data() + weight.size() ||
      backend.weight > 1'000'000) {
    return bad(fmt::format("weight '{}' is not a whole number from 0 to 1000000", weight));
  }
  rest.remove_prefix(colon + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view address = rest.substr(0, comma);
    size_t port_colon = address.rfind(':');
    if (port_colon == std::string_view::npos || port_colon == 0) {
      return bad(fmt::format("replica '{}' is not HOST:PORT", address));
    }
    Result<int> port = ParsePort(address.substr(port_colon + 1),
                                 fmt::format("invalid --release '{}'", spec));
    if (!port) return std::unexpected(port.error());
    backend.upstreams.push_back(
        {std::string(address), std::string(address.substr(0, port_colon)), *port});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return bad("trailing ','");
  }
  return backend;  // No replica ("canary=0:") is allowed: its requests get 503.
}

Result<std::pair<std::string, double>> ParseMirrorSpec(std::string_view spec) {
  size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Fail("invalid --mirror '{}': expected NAME:PERCENT", spec);
  }
  std::string_view percent_text = spec.substr(colon + 1);
  double percent = 0;
  auto [end, ec] =
      std::from_chars(percent_text.data(), percent_text.data() + percent_text.size(), percent);
  if (percent_text.empty() || ec != std::errc() ||
      end != percent_text.data() + percent_text.size() || percent < 0 || percent > 100) {
    return Fail("invalid --mirror '{}': '{}' is not a percentage from 0 to 100", spec,
                percent_text);
  }
  return std::make_pair(std::string(spec.substr(0, colon)), percent);
}

Result<RoutingTable> BuildTable(const RouterCommandOptions& options) {
  RoutingTable table;
  if (options.releases.empty()) return Fail("at least one --release is required");
  for (const std::string& spec : options.releases) {
    Result<Backend> backend = ParseReleaseSpec(spec);
    if (!backend) return std::unexpected(backend.error());
    table.backends.push_back(std::move(*backend));
  }
  if (!options.mirror.empty()) {
    Result<std::pair<std::string, double>> mirror = ParseMirrorSpec(options.mirror);
    if (!mirror) return std::unexpected(mirror.error());
    table.mirror_release = mirror->first;
    table.mirror_percent = mirror->second;
  }
  table.sticky_header = options.sticky_header;
  table.sticky_cookie = options.sticky_cookie;
  if (Status valid = ValidateTable(table); !valid) return std::unexpected(valid.error());
  return table;
}

int RouterCommand(const RouterCommandOptions& options) {
  Result<RoutingTable> table = BuildTable(options);
  if (!table) {
    fmt::print(stderr, "tauon: error: {}\n", table.error().message);
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Router router(options.environment, options.router);
  if (Status set = router.SetTable(*table); !set) {
    fmt::print(stderr, "tauon: error: {}\n", set.error().message);
    return 2;
  }
  Result<int> port = router.Start(options.listen);
  if (!port) {
    fmt::print(stderr, "tauon: error: {}\n", port.error().message);
    return 2;
  }
  http::Server metrics;
  int metrics_port = 0;
  if (!options.metrics_listen.empty()) {
    metrics.Route("GET", "/metrics", [&router](const http::Request&) {
      return http::Response::Text(200, PrometheusText({router.Stats()}),
                                  "text/plain; version=0.0.4; charset=utf-8");
    });
    metrics.Route("GET", "/stats", [&router](const http::Request&) {
      return http::Response::Json(200, StatsJson(router.Stats()));
    });
    Result<int> bound = metrics.Start(options.metrics_listen);
    if (!bound) {
      fmt::print(stderr, "tauon: error: metrics: {}\n", bound.error().message);
      return 2;
    }
    metrics_port = *bound;
  }
  if (!options.quiet) {
    std::string host = options.listen.substr(0, options.listen.rfind(':'));
    fmt::print(stderr, "tauon router: environment '{}' listening on {}:{}", options.environment,
               host.empty() ? "0.0.0.0" : host, *port);
    if (metrics_port) {
      std::string metrics_host =
          options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
      fmt::print(stderr, ", metrics on http://{}:{}/metrics",
                 metrics_host.empty() ? "0.0.0.0" : metrics_host, metrics_port);
    }
    fmt::print(stderr, "\n");
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (!options.quiet) fmt::print(stderr, "tauon router: {} received: stopping\n",
                                 sigabbrev_np(signal_number));
  metrics.Stop();
  router.Stop();
  return 0;
}

}  // namespace tauon::router
