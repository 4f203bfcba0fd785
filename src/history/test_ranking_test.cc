#include "history/test_ranking.h"

#include "history/changed_files.h"

#include <gtest/gtest.h>

#include "history/test_support.h"

namespace tauon::history {
namespace {

using test_support::Exec;

const RankedTest& Find(const TestRanking& ranking, const std::string& id) {
  for (const RankedTest& t : ranking.tests) {
    if (t.id == id) return t;
  }
  throw std::runtime_error("no test " + id);
}

TEST(TestRankingTest, LastFailedFirstWithReasons) {
  std::vector<TestExecution> history = {
      Exec(1, 1, "c1", "a", "passed"), Exec(1, 1, "c1", "b", "passed"),
      Exec(2, 1, "c2", "a", "passed"), Exec(2, 1, "c2", "b", "failed"),
  };
  TestRanking ranking = RankTests(history);
  EXPECT_EQ(ranking.cycles, 2);
  ASSERT_EQ(ranking.tests.size(), 2u);
  EXPECT_EQ(ranking.tests[0].id, "suite::b");
  EXPECT_EQ(ranking.tests[0].reasons, (std::vector<std::string>{"failed last run", "failure rate 1/2"}));
  EXPECT_EQ(ranking.tests[1].reasons, (std::vector<std::string>{"never failed in 2 runs"}));
  EXPECT_FALSE(ranking.tests[0].flaky.has_value());
  EXPECT_DOUBLE_EQ(ranking.tests[0].mean_duration_ms, 100);
}

TEST(TestRankingTest, SkippedResultsDoNotCount) {
  TestRanking ranking = RankTests({Exec(1, 1, "c1", "a", "skipped"), Exec(2, 1, "c2", "a", "passed")});
  ASSERT_EQ(ranking.tests.size(), 1u);
  EXPECT_EQ(ranking.tests[0].record.runs, 1);
  EXPECT_EQ(ranking.cycles, 1);
}

TEST(TestRankingTest, PassedAndFailedOnOneCommitIsFlaky) {
  // Attempt 1 fails, the retry passes, same commit: flaky, with the evidence.
  TestRanking ranking = RankTests({Exec(3, 1, "abcdef1234567890", "a", "failed"),
                                   Exec(3, 2, "abcdef1234567890", "a", "passed"),
                                   Exec(3, 1, "abcdef1234567890", "b", "failed"),
                                   Exec(4, 1, "fedcba", "b", "failed")});
  const RankedTest& a = Find(ranking, "suite::a");
  ASSERT_TRUE(a.flaky.has_value());
  EXPECT_EQ(a.flaky->reason, "passed and failed on the same commit");
  EXPECT_EQ(a.flaky->runs, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.flaky->commits, (std::vector<std::string>{"abcdef123456"}));
  EXPECT_EQ(a.reasons.back(), "flaky: passed and failed on the same commit");
  // Failing on two commits is not flaky: it is broken.
  EXPECT_FALSE(Find(ranking, "suite::b").flaky.has_value());
}

TEST(TestRankingTest, FlipsOftenIsFlaky) {
  std::vector<TestExecution> history;
  for (int run = 1; run <= 6; ++run) {
    history.push_back(Exec(run, 1, "c" + std::to_string(run), "a", run % 2 ? "failed" : "passed"));
    history.push_back(Exec(run, 1, "c" + std::to_string(run), "b", run >= 4 ? "failed" : "passed"));
  }
  TestRanking ranking = RankTests(history);
  const RankedTest& a = Find(ranking, "suite::a");
  ASSERT_TRUE(a.flaky.has_value());
  EXPECT_EQ(a.flaky->reason, "flips often: 5 changes of verdict in its last 6 runs");
  EXPECT_EQ(a.flaky->runs, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_FALSE(Find(ranking, "suite::b").flaky.has_value());  // One change: a regression.
}

TEST(TestRankingTest, RunnerReportedFlakyIsFlaky) {
  TestExecution e = Exec(1, 1, "c1", "a", "passed");
  e.flaky_marker = true;
  TestRanking ranking = RankTests({e});
  ASSERT_TRUE(ranking.tests[0].flaky.has_value());
  EXPECT_EQ(ranking.tests[0].flaky->reason, "passed only after failing within the test runner");
}

TEST(TestFileChangedTest, GuessesTheFileFromTheClassname) {
  std::vector<std::string> changed = {"README.md", "tests/test_math.py",
                                      "src/test/java/com/acme/MathTest.java", "cpp/GreetTest.cc"};
  EXPECT_TRUE(TestFileChanged("tests.test_math", changed));          // pytest function
  EXPECT_TRUE(TestFileChanged("tests.test_math.TestAdd", changed));  // pytest class
  EXPECT_TRUE(TestFileChanged("com.acme.MathTest", changed));        // Surefire
  EXPECT_TRUE(TestFileChanged("GreetTest", changed));                // GoogleTest suite
  EXPECT_FALSE(TestFileChanged("tests.test_other", changed));
  EXPECT_FALSE(TestFileChanged("acme.MathTest2", changed));
  EXPECT_FALSE(TestFileChanged("Test", changed));  // "GreetTest" does not end with "/Test".
  EXPECT_FALSE(TestFileChanged("", changed));
  EXPECT_FALSE(TestFileChanged("tests.test_math", {}));
}

TEST(TestRankingTest, ATestWhoseFileChangedRanksFirst) {
  std::vector<TestExecution> history = {Exec(1, 1, "c1", "a", "failed"),
                                        Exec(1, 1, "c1", "b", "passed"),
                                        Exec(2, 1, "c2", "a", "passed"),
                                        Exec(2, 1, "c2", "b", "passed")};
  history[1].classname = history[3].classname = "pkg.test_b";
  EXPECT_EQ(RankTests(history).tests[0].id, "suite::a");  // Failed before.
  Changes changes;
  changes.now = {"pkg/test_b.py"};
  TestRanking ranking = RankTests(history, changes);
  EXPECT_EQ(ranking.tests[0].id, "pkg.test_b::b");
  EXPECT_EQ(ranking.tests[0].reasons.front(), "its file changed in this commit");
}

}  // namespace
}  // namespace tauon::history
