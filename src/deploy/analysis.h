// Canary analysis: one interval's verdict from the checks of
// `strategy.canary.analysis` over the router's metrics of the canary and the
// stable release in that interval, and over what its providers measured
// (deploy/providers.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/providers.h"
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
  // Each provider: "check" is "prometheus 'NAME'" or "command 'NAME'",
  // "verdict" "ok" or "error", "values" what it measured, "message" its error.
  std::vector<reports::GateResult> providers;
};

// An interval whose router metrics are taken while its providers still run.
struct PendingInterval {
  ReleaseInterval stable, canary;
  TimePoint at;  // The interval's end.
  std::unique_ptr<ProviderRun> providers;
};

// The names checks read: `NAME` and `canary.NAME` for the canary, `stable.NAME`
// for the stable release (spec::kAnalysisMetrics).
reports::Metrics AnalysisMetrics(const ReleaseInterval& stable, const ReleaseInterval& canary);

// `providers`: the results of the interval's analysis.providers (none
// without). A provider's values join the router's metrics; its `check` is
// evaluated after the analysis' checks. The verdict, in this order: too few
// canary requests -> inconclusive; a check false -> fail; a provider that
// failed with `on_error: fail` -> fail; a provider that failed ->
// inconclusive; a check that cannot be evaluated -> inconclusive; else pass.
IntervalVerdict Analyze(const spec::AnalysisSpec& analysis, const ReleaseInterval& stable,
                        const ReleaseInterval& canary,
                        const std::vector<ProviderResult>& providers = {});

}  // namespace tauon::deploy
