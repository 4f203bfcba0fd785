#include "history/ranker.h"

#include <algorithm>
#include <cmath>

namespace tauon::history {

LinearRanker::LinearRanker(RankerOptions options)
    : options_(options), random_(options.seed) {
  // Start as the per-test Markov estimate (the test's failure rate after its
  // last verdict; 1/2 for a test never run), so that the first cycles are
  // ranked sensibly before anything is learned.
  weights_[kNextFailure] = 1;
  weights_[kNeverRun] = 0.5;
  // A test whose own file changed is as suspect as one that always fails,
  // until the history says otherwise. (Replayed CSV histories never set it.)
  weights_[kFileChanged] = 1;
  averaged_ = weights_;
}

double LinearRanker::Score(const Features& features) const {
  double score = 0;
  for (size_t i = 0; i < kFeatureCount; ++i) score += averaged_[i] * features[i];
  return score;
}

Features LinearRanker::Contributions(const Features& features) const {
  Features out{};
  for (size_t i = 0; i < kFeatureCount; ++i) out[i] = averaged_[i] * features[i];
  return out;
}

uint64_t LinearRanker::Below(uint64_t n) { return random_() % n; }

void LinearRanker::Learn(const std::vector<Features>& features, const std::vector<bool>& failed) {
  ++cycles_learned_;
  Remembered cycle;
  for (size_t i = 0; i < features.size(); ++i) {
    (failed[i] ? cycle.failing : cycle.passing).push_back(features[i]);
  }
  if (!cycle.failing.empty() && !cycle.passing.empty()) {
    memory_.push_back(std::move(cycle));
    if (memory_.size() > options_.remembered_cycles) memory_.pop_front();
  }
  if (memory_.empty()) return;
  for (int step = 0; step < options_.pairs_per_cycle; ++step) {
    const Remembered& from = memory_[Below(memory_.size())];
    const Features& a = from.failing[Below(from.failing.size())];
    const Features& b = from.passing[Below(from.passing.size())];
    double margin = 0;
    for (size_t i = 0; i < kFeatureCount; ++i) margin += weights_[i] * (a[i] - b[i]);
    // Gradient of log(1 + exp(-margin)), clamped against overflow.
    double gradient = 1 / (1 + std::exp(std::clamp(margin, -50.0, 50.0)));
    for (size_t i = 0; i < kFeatureCount; ++i) {
      weights_[i] += options_.learning_rate * (gradient * (a[i] - b[i]) - options_.l2 * weights_[i]);
    }
  }
  for (size_t i = 0; i < kFeatureCount; ++i) {
    averaged_[i] = options_.average * averaged_[i] + (1 - options_.average) * weights_[i];
  }
}

}  // namespace tauon::history
