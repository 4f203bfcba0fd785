#include "deploy/analysis_export.h"

#include <fmt/format.h>

#include <cmath>

#include "router/prometheus.h"

namespace tauon::deploy {

void AnalysisExport::Record(const std::string& environment, int64_t release,
                            const IntervalVerdict& verdict) {
  std::lock_guard lock(mu_);
  Last& last = last_[environment];
  last.release = release;
  last.values.clear();
  for (const reports::GateResult& check : verdict.checks) {
    last.values.insert(check.values.begin(), check.values.end());
  }
  for (const reports::GateResult& provider : verdict.providers) {
    last.values.insert(provider.values.begin(), provider.values.end());
  }
  // Every verdict of an environment appears once seen, so that rate() starts from 0.
  for (const char* v : {"pass", "fail", "inconclusive"}) verdicts_[{environment, v}] += 0;
  verdicts_[{environment, verdict.verdict}]++;
}

std::string AnalysisExport::PrometheusText() const {
  std::lock_guard lock(mu_);
  std::string out;
  if (last_.empty()) return out;
  out +=
      "# HELP tauon_analysis_value A value of the last judged canary analysis interval: what "
      "its checks read and its providers measured.\n"
      "# TYPE tauon_analysis_value gauge\n";
  for (const auto& [environment, last] : last_) {
    for (const auto& [metric, value] : last.values) {
      if (!std::isfinite(value)) continue;
      out += fmt::format(
          "tauon_analysis_value{{environment=\"{}\",release=\"{}\",metric=\"{}\"}} {}\n",
          router::EscapeLabelValue(environment), last.release, router::EscapeLabelValue(metric),
          value);
    }
  }
  out +=
      "# HELP tauon_analysis_intervals_total Canary analysis intervals judged, by verdict.\n"
      "# TYPE tauon_analysis_intervals_total counter\n";
  for (const auto& [key, count] : verdicts_) {
    out += fmt::format("tauon_analysis_intervals_total{{environment=\"{}\",verdict=\"{}\"}} {}\n",
                       router::EscapeLabelValue(key.first), key.second, count);
  }
  return out;
}

}  // namespace tauon::deploy
