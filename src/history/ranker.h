// Tauon's learned test ranking: a linear score over history features
// (test_record.h), trained online as a pairwise ranker (RankNet with a linear
// model): after each cycle, for pairs (a failing test, a passing test) of
// recent cycles, the weights move to score the failing one higher. Only the
// past is ever used: Score() before a cycle, Learn() once its verdicts are
// known. Deterministic: the pair sampling uses a fixed seed.
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

  const Features& weights() const { return weights_; }
  int cycles_learned() const { return cycles_learned_; }

 private:
  struct Remembered {
    std::vector<Features> failing, passing;
  };
  uint64_t Below(uint64_t n);  // Uniform in [0, n), portable across standard libraries.

  RankerOptions options_;
  Features weights_{};
  std::deque<Remembered> memory_;
  std::mt19937_64 random_;
  int cycles_learned_ = 0;
};

}  // namespace tauon::history
