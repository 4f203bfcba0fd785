// Canary analysis: one interval's verdict from the checks of
// `strategy.canary.analysis` over the router's metrics of the canary and the
// stable release in that interval.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/metrics.h"
#include "router/stats.h"
#include "spec/pipeline.h"

namespace tauon::deploy {

// What the checks of one release read, for one interval.
struct ReleaseInterval {
  router::IntervalStats stats;
  std::optional<double> mirror_agreement;  // Only when mirrored responses were compared.
};

struct IntervalVerdict {
  // "pass", "fail", or "inconclusive": too few canary requests (fewer than
  // min_requests), or a check that could not be evaluated (its message says
  // why). Inconclusive intervals count neither way.
  std::string verdict;
  std::string reason;  // For fail and inconclusive.
  uint64_t canary_requests = 0;
  std::vector<reports::GateResult> checks;  // Each check with the values it read.
};

// The names checks read: `NAME` and `canary.NAME` for the canary, `stable.NAME`
// for the stable release (spec::kAnalysisMetrics).
reports::Metrics AnalysisMetrics(const ReleaseInterval& stable, const ReleaseInterval& canary);

IntervalVerdict Analyze(const spec::AnalysisSpec& analysis, const ReleaseInterval& stable,
                        const ReleaseInterval& canary);

}  // namespace tauon::deploy
