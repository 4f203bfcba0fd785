#include "deploy/analysis.h"

#include <fmt/format.h>

namespace tauon::deploy {
namespace {

void Add(reports::Metrics& out, const std::string& prefix, const ReleaseInterval& release) {
  const router::IntervalStats& s = release.stats;
  out[prefix + "error_rate"] = s.error_rate;
  out[prefix + "request_rate"] = s.request_rate;
  out[prefix + "requests"] = static_cast<double>(s.requests);
  out[prefix + "latency_p50_ms"] = s.p50_ms;
  out[prefix + "latency_p95_ms"] = s.p95_ms;
  out[prefix + "latency_p99_ms"] = s.p99_ms;
  if (release.mirror_agreement) out[prefix + "mirror_agreement"] = *release.mirror_agreement;
}

}  // namespace

reports::Metrics AnalysisMetrics(const ReleaseInterval& stable, const ReleaseInterval& canary) {
  reports::Metrics out;
  Add(out, "", canary);
  Add(out, "canary.", canary);
  Add(out, "stable.", stable);
  return out;
}

IntervalVerdict Analyze(const spec::AnalysisSpec& analysis, const ReleaseInterval& stable,
                        const ReleaseInterval& canary,
                        const std::vector<ProviderResult>& providers) {
  IntervalVerdict verdict;
  verdict.canary_requests = canary.stats.requests;
  reports::Metrics metrics = AnalysisMetrics(stable, canary);
  std::vector<spec::Condition> checks = analysis.checks;
  const ProviderResult* failed = nullptr;  // The first provider that failed; on_error: fail first.
  for (const ProviderResult& result : providers) {
    reports::GateResult shown;
    shown.expression = result.provider->Describe();
    shown.verdict = result.error.empty() ? "ok" : "error";
    shown.values = result.values;
    shown.message = result.error;
    verdict.providers.push_back(std::move(shown));
    for (const auto& [name, value] : result.values) metrics[name] = value;
    if (result.provider->check) checks.push_back(*result.provider->check);
    if (!result.error.empty() &&
        (!failed || (result.provider->fail_on_error && !failed->provider->fail_on_error))) {
      failed = &result;
    }
  }
  verdict.checks = reports::EvaluateGates(checks, metrics, std::nullopt);
  if (canary.stats.requests < static_cast<uint64_t>(analysis.min_requests)) {
    verdict.verdict = "inconclusive";
    verdict.reason = fmt::format("{} canary request{} (fewer than min_requests {})",
                                 canary.stats.requests, canary.stats.requests == 1 ? "" : "s",
                                 analysis.min_requests);
    return verdict;
  }
  for (const reports::GateResult& check : verdict.checks) {
    if (check.verdict == "fail") {
      std::vector<std::string> values;
      for (const auto& [name, value] : check.values) {
        values.push_back(fmt::format("{}={}", name, reports::FormatMetric(value)));
      }
      verdict.verdict = "fail";
      verdict.reason = fmt::format("{} ({})", check.expression, fmt::join(values, ", "));
      return verdict;
    }
  }
  if (failed) {
    verdict.verdict = failed->provider->fail_on_error ? "fail" : "inconclusive";
    verdict.reason = fmt::format("{}: {}", failed->provider->Describe(), failed->error);
    return verdict;
  }
  for (const reports::GateResult& check : verdict.checks) {
    if (check.verdict != "pass") {
      verdict.verdict = "inconclusive";
      verdict.reason = fmt::format("{}: {}", check.expression, check.message);
      return verdict;
    }
  }
  verdict.verdict = "pass";
  return verdict;
}

}  // namespace tauon::deploy
