// Model metrics (`metrics: FILE` on a job) and the gates that judge them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/pipeline.h"
#include "util/error.h"

namespace tauon::reports {

// Metric name -> value. Names of nested objects are joined with dots:
// {"latency": {"p95_ms": 3}} -> "latency.p95_ms".
using Metrics = std::map<std::string, double>;

// Parses a metrics file: a JSON object whose leaves are numbers. Fails with
// the JSON parser's position for malformed JSON, and names the offending
// metric for anything that is not a number (strings, booleans, null,
// arrays, non-finite values).
Result<Metrics> ParseMetrics(std::string_view json);

struct GateResult {
  std::string expression;
  // "pass", "fail", "skipped" (it needs a baseline and there is none) or
  // "error" (it could not be evaluated, e.g. an unknown metric).
  std::string verdict;
  // The values it read, by name as written ("accuracy", "baseline.accuracy").
  std::map<std::string, double> values;
  std::string message;  // Why it was skipped or could not be evaluated.
};

// Evaluates `gates` against `metrics` and, for `baseline.NAME`, against
// `baseline` (nullopt when there is none: such gates are skipped, never
// passed).
std::vector<GateResult> EvaluateGates(const std::vector<spec::Condition>& gates,
                                      const Metrics& metrics,
                                      const std::optional<Metrics>& baseline);

// The gates as a table for people:
//   GATE                                    VALUES                          RESULT
//   accuracy >= 0.95                        accuracy=0.97                   pass
std::string RenderGates(const std::vector<GateResult>& results);

// How a value is shown: up to 6 significant digits, no trailing zeros.
std::string FormatMetric(double value);

}  // namespace tauon::reports
