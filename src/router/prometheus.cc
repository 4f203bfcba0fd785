#include "router/prometheus.h"

#include <functional>

#include <fmt/format.h>

namespace tauon::router {

namespace {

constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

// The histogram buckets exposed: 1, 2.5 and 5 x 10^k of the internal ones,
// enough for dashboards without a series per internal bucket.
bool IsExposedBound(uint64_t micros) {
  while (micros % 10 == 0 && micros >= 10) micros /= 10;
  return micros == 1 || micros == 25 || micros == 5;
}

std::string Number(double value) {
  if (value == static_cast<double>(static_cast<int64_t>(value)) && value < 1e15 && value > -1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

class Writer {
 public:
  explicit Writer(const std::vector<Snapshot>& snapshots) : snapshots_(snapshots) {}

  // One family: header, then `emit` for each release of each environment.
  void Family(const char* name, const char* type, const char* help,
              const std::function<void(const std::string& labels, const ReleaseSnapshot&)>& emit) {
    Header(name, type, help);
    for (const Snapshot& snapshot : snapshots_) {
      for (const ReleaseSnapshot& release : snapshot.releases) {
        emit(fmt::format("environment=\"{}\",release=\"{}\"", EscapeLabelValue(snapshot.environment),
                         EscapeLabelValue(release.release)),
             release);
      }
    }
  }
  void EnvironmentFamily(const char* name, const char* type, const char* help,
                         const std::function<double(const Snapshot&)>& value) {
    Header(name, type, help);
    for (const Snapshot& snapshot : snapshots_) {
      Line(name, fmt::format("environment=\"{}\"", EscapeLabelValue(snapshot.environment)),
           value(snapshot));
    }
  }
  void Line(std::string_view name, const std::string& labels, double value) {
    fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, Number(value));
  }
  void Histogram(const std::string& name, const std::string& labels, const LatencyHistogram& h) {
    const auto& bounds = LatencyBoundsMicros();
    uint64_t cumulative = 0;
    for (int i = 0; i < kLatencyBounds; ++i) {
      cumulative += h.counts[i];
      if (!IsExposedBound(bounds[i])) continue;
      Line(name + "_bucket",
           fmt::format("{},le=\"{}\"", labels, Number(static_cast<double>(bounds[i]) / 1e6)),
           static_cast<double>(cumulative));
    }
    Line(name + "_bucket", labels + ",le=\"+Inf\"", static_cast<double>(h.count));
    Line(name + "_sum", labels, h.sum_seconds);
    Line(name + "_count", labels, static_cast<double>(h.count));
  }
  std::string Take() { return std::move(out_); }

 private:
  void Header(const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }

  const std::vector<Snapshot>& snapshots_;
  std::string out_;
};

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string PrometheusText(const std::vector<Snapshot>& snapshots) {
  Writer w(snapshots);
  w.Family("tauon_router_requests_total", "counter",
           "Requests answered, by release and status class.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             for (int c = 0; c < 5; ++c) {
               w.Line("tauon_router_requests_total",
                      fmt::format("{},code=\"{}\"", labels, kClasses[c]),
                      static_cast<double>(r.requests[c]));
             }
           });
  w.Family("tauon_router_upstream_errors_total", "counter",
           "Failed exchanges with a release's replicas, by kind (connect, timeout, protocol, "
           "closed).",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             for (int k = 0; k < kUpstreamErrorKinds; ++k) {
               w.Line("tauon_router_upstream_errors_total",
                      fmt::format("{},kind=\"{}\"", labels, UpstreamErrorName(k)),
                      static_cast<double>(r.upstream_errors[k]));
             }
           });
  w.Family("tauon_router_request_duration_seconds", "histogram",
           "Time from a request's head to the last byte of its response.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Histogram("tauon_router_request_duration_seconds", labels, r.latency);
           });
  w.Family("tauon_router_request_latency_seconds", "summary",
           "Latency percentiles over the last minute (sliding window); sum and count are "
           "cumulative.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             for (double q : {0.5, 0.95, 0.99}) {
               w.Line("tauon_router_request_latency_seconds",
                      fmt::format("{},quantile=\"{}\"", labels, Number(q)),
                      r.recent_latency.QuantileMs(q) / 1000.0);
             }
             w.Line("tauon_router_request_latency_seconds_sum", labels, r.latency.sum_seconds);
             w.Line("tauon_router_request_latency_seconds_count", labels,
                    static_cast<double>(r.latency.count));
           });
  w.Family("tauon_router_in_flight_requests", "gauge", "Requests being answered now.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Line("tauon_router_in_flight_requests", labels, static_cast<double>(r.in_flight));
           });
  w.Family("tauon_router_ready_replicas", "gauge", "Replicas in the routing table.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Line("tauon_router_ready_replicas", labels, r.ready_replicas);
           });
  w.Family("tauon_router_release_weight", "gauge",
           "The release's weight in the split (0 for a release only reachable by pin).",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Line("tauon_router_release_weight", labels, r.weight);
           });
  w.Family("tauon_router_mirror_requests_total", "counter",
           "Mirrored (shadow) requests a release answered, by status class.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             for (int c = 0; c < 5; ++c) {
               w.Line("tauon_router_mirror_requests_total",
                      fmt::format("{},code=\"{}\"", labels, kClasses[c]),
                      static_cast<double>(r.mirror_requests[c]));
             }
           });
  w.Family("tauon_router_mirror_upstream_errors_total", "counter",
           "Mirrored requests that got no response from the shadow release.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Line("tauon_router_mirror_upstream_errors_total", labels,
                    static_cast<double>(r.mirror_upstream_errors));
           });
  w.Family("tauon_router_mirror_duration_seconds", "histogram",
           "Latency of mirrored requests at the shadow release.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Histogram("tauon_router_mirror_duration_seconds", labels, r.mirror_latency);
           });
  w.Family("tauon_router_mirror_comparisons_total", "counter",
           "Mirrored requests whose primary and shadow responses were both JSON, by whether the "
           "documents were equal.",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             w.Line("tauon_router_mirror_comparisons_total", labels + ",result=\"agree\"",
                    static_cast<double>(r.mirror_agreed));
             w.Line("tauon_router_mirror_comparisons_total", labels + ",result=\"disagree\"",
                    static_cast<double>(r.mirror_disagreed));
           });
  w.Family("tauon_router_mirror_agreement_ratio", "gauge",
           "Share of compared mirrored responses equal to the primary's (1 before any comparison).",
           [&](const std::string& labels, const ReleaseSnapshot& r) {
             uint64_t compared = r.mirror_agreed + r.mirror_disagreed;
             w.Line("tauon_router_mirror_agreement_ratio", labels,
                    compared == 0 ? 1.0
                                  : static_cast<double>(r.mirror_agreed) /
                                        static_cast<double>(compared));
           });
  w.EnvironmentFamily("tauon_router_bad_requests_total", "counter",
                      "Requests refused before a release was chosen (malformed, too large, slow).",
                      [](const Snapshot& s) { return static_cast<double>(s.bad_requests); });
  w.EnvironmentFamily("tauon_router_connections_accepted_total", "counter",
                      "Client connections accepted.",
                      [](const Snapshot& s) { return static_cast<double>(s.connections_accepted); });
  w.EnvironmentFamily("tauon_router_open_connections", "gauge", "Client connections open now.",
                      [](const Snapshot& s) { return static_cast<double>(s.connections_open); });
  return w.Take();
}

}  // namespace tauon::router
