// Tauon's test ranking method: three candidate scorers, and for each cycle
// the one whose orders scored the best mean APFD over all the earlier cycles
// with both a failure and a pass ("follow the leader"). Candidates:
// - the learned pairwise ranker (ranker.h) over all the history features;
// - the per-test Markov estimate: the test's own failure rate after its last
//   verdict (TestRecord::NextFailure), a never-run test counting at the
//   failure rate seen so far of tests at their first run;
// - recently failed (decay 0.8), the strongest simple baseline.
// Which one leads differs between histories (the learned ranker where several
// features matter, the Markov estimate where each test's own past says most):
// choosing on the history being ranked, from its past only, needs no tuning
// per history, and keeps Tauon's order close to the best of the three even on
// a history unlike any it was developed on. Deterministic.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "history/ranker.h"
#include "history/test_record.h"

namespace tauon::history {

class EnsembleRanker {
 public:
  enum Candidate { kLearned, kMarkov, kRecentlyFailed, kCandidateCount };
  static constexpr std::array<std::string_view, kCandidateCount> kCandidateNames = {
      "learned", "markov", "recently-failed"};

  explicit EnsembleRanker(RankerOptions options = {});

  // The score of a test with these features (as they are before the cycle):
  // the leading candidate's.
  double Score(const Features& features) const { return CandidateScore(leader_, features); }
  double CandidateScore(Candidate candidate, const Features& features) const;
  // Learns from one finished cycle: each test's features (as they were before
  // the cycle) and whether it failed. Scores each candidate's order of the
  // cycle, chooses the leader for the next one, then trains the learned
  // ranker.
  void Learn(const std::vector<Features>& features, const std::vector<bool>& failed);

  Candidate leader() const { return leader_; }
  const LinearRanker& learned() const { return learned_; }
  // Each candidate's mean APFD over the cycles scored so far (0 before any).
  std::array<double, kCandidateCount> MeanApfd() const;
  int cycles_scored() const { return cycles_scored_; }

 private:
  LinearRanker learned_;
  std::array<double, kCandidateCount> apfd_sum_{};
  int cycles_scored_ = 0;
  Candidate leader_ = kLearned;
  double new_tests_ = 0, new_tests_failed_ = 0;  // Executions of never-run tests; failing.
};

}  // namespace tauon::history
