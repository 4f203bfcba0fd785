// The canary analysis as Prometheus metrics, on the server's /metrics:
// the values of each environment's last judged interval and a count of
// verdicts. Thread-safe: the controller records under its own mutex, the
// API reads from its thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "deploy/analysis.h"

namespace tauon::deploy {

class AnalysisExport {
 public:
  // An interval of `release` in `environment` was judged.
  void Record(const std::string& environment, int64_t release, const IntervalVerdict& verdict);

  // tauon_analysis_value{environment,release,metric} (gauge: the values the
  // last interval's checks read and its providers measured) and
  // tauon_analysis_intervals_total{environment,verdict} (counter).
  std::string PrometheusText() const;

 private:
  struct Last {
    int64_t release = 0;
    std::map<std::string, double> values;
  };
  mutable std::mutex mu_;
  std::map<std::string, Last> last_;                                  // By environment.
  std::map<std::pair<std::string, std::string>, uint64_t> verdicts_;  // (environment, verdict).
};

}  // namespace tauon::deploy
