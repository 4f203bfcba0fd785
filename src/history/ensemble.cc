#include "history/ensemble.h"

#include "history/apfd.h"

namespace tauon::history {

EnsembleRanker::EnsembleRanker(RankerOptions options) : learned_(options) {}

namespace {

// Added by the fixed candidates when the test's own file changed in the
// commit: more than any recently-failed score (< 1 / (1 - 0.8)) or Markov
// estimate (<= 1), so such a test comes first whichever candidate leads.
// (The learned ranker learns its own weight for it.)
constexpr double kFileChangedBonus = 5;

}  // namespace

double EnsembleRanker::CandidateScore(Candidate candidate, const Features& f) const {
  double changed = f[kFileChanged] * kFileChangedBonus;
  switch (candidate) {
    case kLearned:
      return learned_.Score(f);
    case kMarkov:
      // One pseudo-run at 1/2 before any first run is seen.
      if (f[kNeverRun] != 0) return changed + (new_tests_failed_ + 0.5) / (new_tests_ + 1);
      return changed + f[kNextFailure];
    case kRecentlyFailed:
    case kCandidateCount:
      break;
  }
  return changed + f[kDecay80];
}

std::array<double, EnsembleRanker::kCandidateCount> EnsembleRanker::MeanApfd() const {
  std::array<double, kCandidateCount> mean{};
  for (size_t c = 0; c < kCandidateCount; ++c) {
    mean[c] = cycles_scored_ ? apfd_sum_[c] / cycles_scored_ : 0;
  }
  return mean;
}

void EnsembleRanker::Learn(const std::vector<Features>& features, const std::vector<bool>& failed) {
  size_t failures = 0;
  for (bool f : failed) failures += f ? 1 : 0;
  // Only cycles with a failure and a pass tell orders apart.
  if (failures > 0 && failures < failed.size()) {
    std::vector<double> scores(features.size());
    for (size_t c = 0; c < kCandidateCount; ++c) {
      for (size_t i = 0; i < features.size(); ++i) {
        scores[i] = CandidateScore(static_cast<Candidate>(c), features[i]);
      }
      apfd_sum_[c] += *ExpectedApfd(scores, failed);
    }
    ++cycles_scored_;
    // Another candidate must be strictly better to take the lead.
    leader_ = kLearned;
    for (size_t c = 0; c < kCandidateCount; ++c) {
      if (apfd_sum_[c] > apfd_sum_[leader_]) leader_ = static_cast<Candidate>(c);
    }
  }
  for (size_t i = 0; i < features.size(); ++i) {
    if (features[i][kNeverRun] != 0) {
      new_tests_ += 1;
      new_tests_failed_ += failed[i] ? 1 : 0;
    }
  }
  learned_.Learn(features, failed);
}

}  // namespace tauon::history
