// The learned test ranking, one candidate of Tauon's method (ensemble.h): a
// linear score over history features (test_record.h), trained online as a
// pairwise ranker (RankNet with a linear model): after each cycle, for pairs
// (a failing test, a passing test) of recent cycles, the weights move to
// score the failing one higher. Scores use the weights averaged over the past
// cycles (an exponential moving average), which smooths out the noise of the
// stochastic steps. Only the past is ever used: Score() before a cycle,
// Learn() once its verdicts are known. Deterministic: the pair sampling uses
// a fixed seed.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "history/test_record.h"

namespace tauon::history {

struct RankerOptions {
  double learning_rate = 0.03;
  double l2 = 1e-4;
  int pairs_per_cycle = 300;     // SGD steps after each cycle.
  size_t remembered_cycles = 1000;  // Cycles with a failure kept to sample pairs from.
  uint64_t seed = 1;
  // After each cycle, averaged = average * averaged + (1 - average) * weights:
  // the scoring weights are those of about the last 1 / (1 - average) cycles.
  double average = 0.98;
};

class LinearRanker {
 public:
  explicit LinearRanker(RankerOptions options = {});

  double Score(const Features& features) const;
  // The weighted contribution of each feature to Score(), for explanations.
  Features Contributions(const Features& features) const;
  // Learns from one finished cycle: each test's features (as they were before
  // the cycle) and whether it failed. Cycles without both a failure and a pass
  // teach nothing about order and are only counted.
  void Learn(const std::vector<Features>& features, const std::vector<bool>& failed);

  // The weights Score() uses (averaged over the past cycles).
  const Features& weights() const { return averaged_; }
  int cycles_learned() const { return cycles_learned_; }

 private:
  struct Remembered {
    std::vector<Features> failing, passing;
  };
  uint64_t Below(uint64_t n);  // Uniform in [0, n), portable across standard libraries.

  RankerOptions options_;
  Features weights_{};   // Moved by each step.
  Features averaged_{};  // Their moving average, used to score.
  std::deque<Remembered> memory_;
  std::mt19937_64 random_;
  int cycles_learned_ = 0;
};

}  // namespace tauon::history
