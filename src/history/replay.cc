#include "history/replay.h"

#include <random>

#include "history/apfd.h"
#include "history/ensemble.h"

namespace tauon::history {
namespace {

enum Method { kRandom, kFailureRate, kRecentlyFailed, kTauon, kOptimal, kMethodCount };
const char* const kMethodNames[kMethodCount] = {"random", "failure-rate", "recently-failed",
                                                "tauon", "optimal"};

// The mean APFD of `orders` seeded shuffles: one shuffle alone swings the
// mean by several hundredths on a history of a hundred failing cycles.
double RandomApfd(const std::vector<bool>& failed, int orders, std::mt19937_64& random) {
  std::vector<bool> shuffled = failed;
  double sum = 0;
  for (int k = 0; k < orders; ++k) {
    for (size_t i = shuffled.size(); i > 1; --i) {
      std::vector<bool>::swap(shuffled[i - 1], shuffled[random() % i]);
    }
    sum += *Apfd(shuffled);
  }
  return sum / orders;
}

}  // namespace

ReplayResult Replay(const std::vector<Cycle>& cycles, const ReplayOptions& options) {
  ReplayResult result;
  TestRecords records;
  EnsembleRanker ranker(options.ranker);
  std::mt19937_64 random(options.random_seed);
  double sum_failing[kMethodCount] = {};
  double sum_nontrivial[kMethodCount] = {};
  std::vector<double> scores[kMethodCount];
  std::vector<Features> features;
  std::vector<bool> failed;
  for (const Cycle& cycle : cycles) {
    ++result.cycles;
    size_t n = cycle.executions.size();
    result.executions += static_cast<int>(n);
    features.clear();
    failed.clear();
    for (auto& s : scores) s.assign(n, 0);
    size_t failures = 0;
    for (size_t i = 0; i < n; ++i) {
      const Execution& e = cycle.executions[i];
      auto it = records.find(e.name);
      const TestRecord* record = it == records.end() ? nullptr : &it->second;
      features.push_back(FeaturesOf(record, cycle.id));
      failed.push_back(e.failed);
      failures += e.failed ? 1 : 0;
      scores[kFailureRate][i] = record ? record->FailureRate() : 0;
      scores[kRecentlyFailed][i] = record ? record->decay_80 : 0;
      scores[kTauon][i] = ranker.Score(features.back());
      scores[kOptimal][i] = e.failed ? 1 : 0;
    }
    if (failures > 0) {
      ++result.failing_cycles;
      bool nontrivial = n > 1 && failures < n;
      result.nontrivial_cycles += nontrivial ? 1 : 0;
      for (int m = 0; m < kMethodCount; ++m) {
        double apfd = m == kRandom ? RandomApfd(failed, options.random_orders, random)
                                   : *ExpectedApfd(scores[m], failed);
        sum_failing[m] += apfd;
        if (nontrivial) sum_nontrivial[m] += apfd;
      }
    }
    ranker.Learn(features, failed);
    for (const Execution& e : cycle.executions) {
      auto [it, inserted] = records.try_emplace(e.name);
      it->second.Observe(cycle.id, e.failed, e.duration);
    }
  }
  result.tests = static_cast<int>(records.size());
  for (int m = 0; m < kMethodCount; ++m) {
    MethodResult method{kMethodNames[m], 0, 0};
    if (result.failing_cycles) method.apfd_failing = sum_failing[m] / result.failing_cycles;
    if (result.nontrivial_cycles) method.apfd_nontrivial = sum_nontrivial[m] / result.nontrivial_cycles;
    result.methods.push_back(method);
  }
  result.tauon_weights = ranker.learned().weights();
  result.tauon_leader = ranker.leader();
  result.tauon_candidates = ranker.MeanApfd();
  return result;
}

}  // namespace tauon::history
