#include <zlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "history/apfd.h"
#include "history/ensemble.h"
#include "history/history_file.h"
#include "history/ranker.h"
#include "history/replay.h"
#include "history/test_record.h"

namespace tauon::history {
namespace {

constexpr std::string_view kHeader = "Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle\n";

TEST(ApfdTest, KnownOrders) {
  // n = 4, m = 1 at position 1: 1 - 1/4 + 1/8.
  EXPECT_DOUBLE_EQ(*Apfd({true, false, false, false}), 1 - 0.25 + 0.125);
  // At the end: 1 - 4/4 + 1/8.
  EXPECT_DOUBLE_EQ(*Apfd({false, false, false, true}), 0.125);
  // Two failures at 2 and 3 of 5: 1 - 5/10 + 1/10.
  EXPECT_DOUBLE_EQ(*Apfd({false, true, true, false, false}), 0.6);
  // One test that fails: 1 - 1 + 1/2.
  EXPECT_DOUBLE_EQ(*Apfd({true}), 0.5);
  EXPECT_FALSE(Apfd({false, false}).has_value());
  EXPECT_FALSE(Apfd({}).has_value());
}

TEST(ApfdTest, TiesCountAtTheirExpectedPosition) {
  // Distinct scores: the plain order.
  EXPECT_DOUBLE_EQ(*ExpectedApfd({3, 2, 1}, {false, true, false}), *Apfd({false, true, false}));
  // All tied: the failure is at position 2 of 3 on average.
  EXPECT_DOUBLE_EQ(*ExpectedApfd({0, 0, 0}, {false, false, true}), 1 - 2.0 / 3 + 1.0 / 6);
  // One above a tie of two holding the failure: position 2.5.
  EXPECT_DOUBLE_EQ(*ExpectedApfd({5, 1, 1}, {false, true, false}), 1 - 2.5 / 3 + 1.0 / 6);
  EXPECT_FALSE(ExpectedApfd({1, 2}, {false, false}).has_value());
}

TEST(HistoryFileTest, ParsesAndGroupsCyclesInOrder) {
  std::string text = std::string(kHeader) +
                     "1;a;1.5;0;2015-02-13 16:13:00;[];1;2\r\n"
                     "2;b;0;0;x;[1, 0];0;1\n"
                     "3;a;2;0;x;[];0;2\n"
                     "\n";
  Result<std::vector<Cycle>> cycles = ParseHistory(text);
  ASSERT_TRUE(cycles) << cycles.error().message;
  ASSERT_EQ(cycles->size(), 2u);
  EXPECT_EQ((*cycles)[0].id, 1);
  ASSERT_EQ((*cycles)[1].executions.size(), 2u);
  EXPECT_EQ((*cycles)[1].executions[0].name, "a");
  EXPECT_TRUE((*cycles)[1].executions[0].failed);
  EXPECT_DOUBLE_EQ((*cycles)[1].executions[0].duration, 1.5);
  EXPECT_FALSE((*cycles)[1].executions[1].failed);
}

TEST(HistoryFileTest, MalformedLinesNameTheLine) {
  auto error = [](std::string body) {
    Result<std::vector<Cycle>> cycles = ParseHistory(std::string(kHeader) + body);
    return cycles ? std::string("ok") : cycles.error().message;
  };
  EXPECT_EQ(error("1;a;1;0;x;[];1;1\n2;a;1;0;x;[];2;1\n"), "3: Verdict must be 0 or 1, found '2'");
  EXPECT_EQ(error("1;a;1;0;x;[];1\n"),
            "2: expected 8 ';'-separated fields "
            "(Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle), found 7");
  EXPECT_EQ(error("1;a;-1;0;x;[];1;1\n"), "2: Duration must be a number >= 0, found '-1'");
  EXPECT_EQ(error("1;a;1;0;x;[];1;c7\n"), "2: Cycle must be an integer, found 'c7'");
  EXPECT_EQ(error("1;;1;0;x;[];1;1\n"), "2: Name is empty");
  Result<std::vector<Cycle>> header = ParseHistory("Id,Name\n");
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().message,
            "1: expected the header 'Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle',"
            " found 'Id,Name'");
  EXPECT_FALSE(ParseHistory(""));
}

TEST(HistoryFileTest, ReadsPlainAndGzipFiles) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tauon_history_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string text = std::string(kHeader) + "1;a;1;0;x;[];1;1\n2;b;1;0;x;[];0;1\n";
  std::ofstream(dir / "plain.csv") << text;
  gzFile gz = gzopen((dir / "packed.csv.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  for (const char* name : {"plain.csv", "packed.csv.gz"}) {
    Result<std::vector<Cycle>> cycles = ReadHistoryFile(dir / name);
    ASSERT_TRUE(cycles) << cycles.error().message;
    ASSERT_EQ(cycles->size(), 1u);
    EXPECT_EQ((*cycles)[0].executions.size(), 2u);
  }
  std::ofstream(dir / "bad.csv") << kHeader << "1;a;1;0;x;[];yes;1\n";
  Result<std::vector<Cycle>> bad = ReadHistoryFile(dir / "bad.csv");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            (dir / "bad.csv").string() + ":2: Verdict must be 0 or 1, found 'yes'");
  EXPECT_FALSE(ReadHistoryFile(dir / "missing.csv"));
  std::filesystem::remove_all(dir);
}

TEST(TestRecordTest, CountsDecaysAndWindows) {
  TestRecord r;
  r.Observe(1, true, 2);
  r.Observe(2, false, 3);
  r.Observe(4, true, 4);
  EXPECT_EQ(r.runs, 3);
  EXPECT_EQ(r.failures, 2);
  EXPECT_EQ(r.flips, 2);
  EXPECT_DOUBLE_EQ(r.decay_80, 0.64 + 1);
  EXPECT_DOUBLE_EQ(r.FailureRate(), 2.0 / 3);
  EXPECT_EQ(r.RecentFailures(1), 1);
  EXPECT_EQ(r.RecentFailures(2), 1);
  EXPECT_EQ(r.RecentFailures(10), 2);
  Features f = FeaturesOf(&r, 6);
  EXPECT_EQ(f[kNeverRun], 0);
  EXPECT_EQ(f[kLastFailed], 1);
  EXPECT_EQ(f[kSecondLastFailed], 0);
  Features unknown = FeaturesOf(nullptr, 6);
  EXPECT_EQ(unknown[kNeverRun], 1);
  EXPECT_EQ(unknown[kDecay80], 0);
}

// Three tests over six cycles: x fails in cycles 1 and 2, y in 5 and 6.
std::vector<Cycle> TinyHistory() {
  std::vector<Cycle> cycles;
  const char* failing[] = {"x", "x", "", "", "y", "y"};
  for (int c = 1; c <= 6; ++c) {
    Cycle cycle{c, {}};
    for (const char* name : {"x", "y", "z"}) {
      cycle.executions.push_back({name, 1.0, std::string_view(failing[c - 1]) == name});
    }
    cycles.push_back(cycle);
  }
  return cycles;
}

TEST(ReplayTest, BaselinesOnATinyHistory) {
  ReplayResult result = Replay(TinyHistory());
  EXPECT_EQ(result.cycles, 6);
  EXPECT_EQ(result.failing_cycles, 4);
  EXPECT_EQ(result.nontrivial_cycles, 4);
  EXPECT_EQ(result.tests, 3);
  ASSERT_EQ(result.methods.size(), 5u);
  double first = 1 - 1.0 / 3 + 1.0 / 6;   // The failure ranked first of 3.
  double second = 1 - 2.0 / 3 + 1.0 / 6;  // Second (or tied among all three).
  double tied_last_two = 1 - 2.5 / 3 + 1.0 / 6;
  // Cycle 1: nothing known. Cycle 2: x failed before. Cycle 5: y never failed,
  // tied with z behind x. Cycle 6: failure rate ranks x (2/5) above y (1/5);
  // recently failed ranks y (1) above x (1.8 * 0.8^3).
  EXPECT_EQ(result.methods[1].name, "failure-rate");
  EXPECT_DOUBLE_EQ(result.methods[1].apfd_failing, (second + first + tied_last_two + second) / 4);
  EXPECT_EQ(result.methods[2].name, "recently-failed");
  EXPECT_DOUBLE_EQ(result.methods[2].apfd_failing, (second + first + tied_last_two + first) / 4);
  EXPECT_EQ(result.methods[4].name, "optimal");
  EXPECT_DOUBLE_EQ(result.methods[4].apfd_failing, first);
  EXPECT_DOUBLE_EQ(result.methods[4].apfd_nontrivial, first);
  EXPECT_EQ(result.methods[0].name, "random");
  EXPECT_GT(result.methods[0].apfd_failing, 0.3);
  EXPECT_LT(result.methods[0].apfd_failing, 0.8);
  // Deterministic: the same figures every time.
  EXPECT_EQ(Replay(TinyHistory()).methods[0].apfd_failing, result.methods[0].apfd_failing);
  EXPECT_EQ(Replay(TinyHistory()).methods[3].apfd_failing, result.methods[3].apfd_failing);
}

TEST(ReplayTest, NoFailingCycleGivesZeroes) {
  std::vector<Cycle> cycles = {{1, {{"a", 1, false}}}};
  ReplayResult result = Replay(cycles);
  EXPECT_EQ(result.failing_cycles, 0);
  EXPECT_EQ(result.methods[3].apfd_failing, 0);
}

TEST(TestRecordTest, MarkovEstimatesCountTransitions) {
  TestRecord r;
  EXPECT_EQ(r.NextFailure(), 0);  // Never run.
  // Prior alone: 1 in 5 after a pass, 1 in 2 after a failure.
  EXPECT_DOUBLE_EQ(r.FailureAfterPass(), 0.2);
  EXPECT_DOUBLE_EQ(r.FailureAfterFailure(), 0.5);
  // P P F F P: after a pass, P->P, P->F; after a failure, F->F, F->P.
  for (bool failed : {false, false, true, true, false}) r.Observe(1, failed, 1);
  EXPECT_EQ(r.passes_then_passed, 1);
  EXPECT_EQ(r.passes_then_failed, 1);
  EXPECT_EQ(r.failures_then_failed, 1);
  EXPECT_EQ(r.failures_then_passed, 1);
  EXPECT_DOUBLE_EQ(r.FailureAfterPass(), 1.2 / 3);
  EXPECT_DOUBLE_EQ(r.FailureAfterFailure(), 1.5 / 3);
  EXPECT_DOUBLE_EQ(r.NextFailure(), r.FailureAfterPass());  // Last run passed.
  r.Observe(2, true, 1);
  EXPECT_DOUBLE_EQ(r.NextFailure(), r.FailureAfterFailure());
  Features f = FeaturesOf(&r, 3);
  EXPECT_DOUBLE_EQ(f[kFailureAfterPass], 2.2 / 4);
  EXPECT_DOUBLE_EQ(f[kFailureAfterFailure], 1.5 / 3);
  EXPECT_DOUBLE_EQ(f[kNextFailure], 1.5 / 3);
}

TEST(RankerTest, LearnsThatNewTestsFail) {
  // Every cycle, the never-run test fails and the known ones pass: the ranker
  // must learn to put never-run tests first, which the baselines cannot.
  LinearRanker ranker;
  Features fresh = FeaturesOf(nullptr, 10);
  TestRecord old;
  for (int c = 0; c < 5; ++c) old.Observe(c, c >= 3, 1);  // Failed its last two runs.
  Features known = FeaturesOf(&old, 10);
  // Starts as the Markov estimate: 1/2 for a new test, (1 + 0.5) / 2 here.
  EXPECT_DOUBLE_EQ(ranker.Score(fresh), 0.5);
  EXPECT_DOUBLE_EQ(ranker.Score(known), 0.75);
  for (int c = 0; c < 100; ++c) ranker.Learn({fresh, known}, {true, false});
  EXPECT_GT(ranker.Score(fresh), ranker.Score(known));
  EXPECT_EQ(ranker.cycles_learned(), 100);
}

TEST(RankerTest, ScoresWithAveragedWeights) {
  // With average = 0.5, each cycle moves the scoring weights half-way to the
  // stepped ones; with 0 they are the stepped ones.
  Features fresh = FeaturesOf(nullptr, 10);
  Features known = FeaturesOf(nullptr, 10);
  known[kNeverRun] = 0;
  known[kNextFailure] = 0.5;
  LinearRanker stepped(RankerOptions{.average = 0});
  LinearRanker averaged(RankerOptions{.average = 0.5});
  stepped.Learn({fresh, known}, {true, false});
  averaged.Learn({fresh, known}, {true, false});
  for (size_t i = 0; i < kFeatureCount; ++i) {
    double start = i == kNextFailure || i == kFileChanged ? 1 : i == kNeverRun ? 0.5 : 0;
    EXPECT_DOUBLE_EQ(averaged.weights()[i], (start + stepped.weights()[i]) / 2) << kFeatureNames[i];
  }
}

TEST(EnsembleTest, FollowsTheCandidateWithTheBestPastApfd) {
  // Test a failed recently (high decay score) but passes after failures as a
  // rule (low Markov estimate); b the other way round. a fails, b passes:
  // recently failed orders them right, the Markov estimate (and the learned
  // ranker, which starts as it) wrong.
  Features a{}, b{};
  a[kDecay80] = 1;
  a[kNextFailure] = 0.1;
  b[kDecay80] = 0.2;
  b[kNextFailure] = 0.9;
  EnsembleRanker ranker;
  EXPECT_EQ(ranker.leader(), EnsembleRanker::kLearned);
  EXPECT_LT(ranker.Score(a), ranker.Score(b));
  ranker.Learn({a, b}, {true, false});
  EXPECT_EQ(ranker.cycles_scored(), 1);
  EXPECT_EQ(ranker.leader(), EnsembleRanker::kRecentlyFailed);
  EXPECT_GT(ranker.Score(a), ranker.Score(b));
  auto mean = ranker.MeanApfd();
  EXPECT_DOUBLE_EQ(mean[EnsembleRanker::kRecentlyFailed], 1 - 1.0 / 2 + 1.0 / 4);  // First of 2.
  EXPECT_DOUBLE_EQ(mean[EnsembleRanker::kMarkov], 1 - 2.0 / 2 + 1.0 / 4);          // Second.
  EXPECT_DOUBLE_EQ(mean[EnsembleRanker::kLearned], 1 - 2.0 / 2 + 1.0 / 4);
  // A cycle where every test fails tells orders apart no more: not scored.
  ranker.Learn({a, b}, {true, true});
  EXPECT_EQ(ranker.cycles_scored(), 1);
  // Whichever candidate leads, a test whose own file changed comes first.
  Features changed = b;
  changed[kFileChanged] = 1;
  EXPECT_GT(ranker.Score(changed), ranker.Score(a));
  EXPECT_GT(ranker.CandidateScore(EnsembleRanker::kMarkov, changed),
            ranker.CandidateScore(EnsembleRanker::kMarkov, a));
}

TEST(EnsembleTest, MarkovRatesNewTestsAtTheirObservedFailureRate) {
  EnsembleRanker ranker;
  Features fresh = FeaturesOf(nullptr, 1);
  EXPECT_DOUBLE_EQ(ranker.CandidateScore(EnsembleRanker::kMarkov, fresh), 0.5);
  // Three first runs: two failed.
  ranker.Learn({fresh, fresh, fresh}, {true, true, false});
  EXPECT_DOUBLE_EQ(ranker.CandidateScore(EnsembleRanker::kMarkov, fresh), 2.5 / 4);
}

}  // namespace
}  // namespace tauon::history
