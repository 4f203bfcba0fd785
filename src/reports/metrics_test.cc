#include "reports/metrics.h"

#include <gtest/gtest.h>

#include "spec/parser.h"

namespace tauon::reports {
namespace {

std::vector<spec::Condition> Gates(const std::vector<std::string>& texts) {
  std::vector<spec::Condition> gates;
  for (const std::string& text : texts) {
    auto expression = spec::Expression::Parse(text);
    EXPECT_TRUE(expression.has_value()) << text;
    gates.push_back({std::move(*expression), {}});
  }
  return gates;
}

TEST(MetricsTest, FlattensNestedObjects) {
  Result<Metrics> metrics =
      ParseMetrics(R"({"accuracy": 0.97, "latency": {"p95_ms": 3, "p50_ms": 1.5},
                       "f1": {"0": 0.99, "9": 0.95}})");
  ASSERT_TRUE(metrics.has_value()) << metrics.error().message;
  EXPECT_EQ(*metrics, (Metrics{{"accuracy", 0.97},
                               {"f1.0", 0.99},
                               {"f1.9", 0.95},
                               {"latency.p50_ms", 1.5},
                               {"latency.p95_ms", 3}}));
}

TEST(MetricsTest, RefusesWhatIsNotANumber) {
  EXPECT_EQ(ParseMetrics(R"({"accuracy": "high"})").error().message,
            "metric 'accuracy' must be a number, got a string");
  EXPECT_EQ(ParseMetrics(R"({"latency": {"p95": null}})").error().message,
            "metric 'latency.p95' must be a number, got null");
  EXPECT_EQ(ParseMetrics(R"({"ok": true})").error().message,
            "metric 'ok' must be a number, got a boolean");
  EXPECT_EQ(ParseMetrics(R"({"losses": [1, 2]})").error().message,
            "metric 'losses' must be a number, got a list");
  EXPECT_EQ(ParseMetrics(R"([1, 2])").error().message, "expected a JSON object of numbers");
  EXPECT_EQ(ParseMetrics(R"({"a.b": 1})").error().message,
            "metric name 'a.b' must be non-empty and without dots (nest objects instead)");
  EXPECT_EQ(ParseMetrics(R"({"accuracy": 0.9,})").error().message.substr(0, 30),
            "malformed JSON: parse error at");
  EXPECT_FALSE(ParseMetrics("").has_value());
  EXPECT_EQ(ParseMetrics(R"({"huge": 1e999})").error().message.substr(0, 31),
            "malformed JSON: number overflow");
}

TEST(GatesTest, PassFailAndTheValuesUsed) {
  Metrics metrics{{"accuracy", 0.97}, {"latency.p95_ms", 12}};
  Metrics baseline{{"accuracy", 0.98}};
  std::vector<GateResult> results = EvaluateGates(
      Gates({"accuracy >= 0.95", "accuracy >= baseline.accuracy - 0.005", "latency.p95_ms < 10"}),
      metrics, baseline);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].verdict, "pass");
  EXPECT_EQ(results[0].values, (std::map<std::string, double>{{"accuracy", 0.97}}));
  EXPECT_EQ(results[1].verdict, "fail");
  EXPECT_EQ(results[1].values,
            (std::map<std::string, double>{{"accuracy", 0.97}, {"baseline.accuracy", 0.98}}));
  EXPECT_EQ(results[2].verdict, "fail");
}

TEST(GatesTest, WithoutABaselineBaselineGatesAreSkippedNotPassed) {
  std::vector<GateResult> results =
      EvaluateGates(Gates({"accuracy >= baseline.accuracy", "accuracy >= 0.5"}),
                    Metrics{{"accuracy", 0.9}}, std::nullopt);
  EXPECT_EQ(results[0].verdict, "skipped");
  EXPECT_EQ(results[0].message, "skipped: no baseline");
  EXPECT_EQ(results[1].verdict, "pass");
}

TEST(GatesTest, MissingMetricsAndBadResultsAreErrors) {
  std::vector<GateResult> results =
      EvaluateGates(Gates({"precision > 0.9", "accuracy > baseline.recall", "accuracy + 1"}),
                    Metrics{{"accuracy", 0.9}}, Metrics{{"accuracy", 0.8}});
  EXPECT_EQ(results[0].verdict, "error");
  EXPECT_EQ(results[0].message, "no metric 'precision' in the metrics file");
  EXPECT_EQ(results[1].message, "the baseline has no metric 'recall'");
  EXPECT_EQ(results[2].message, "a gate must be true or false, got 1.9");
}

TEST(GatesTest, RendersATable) {
  std::vector<GateResult> results =
      EvaluateGates(Gates({"accuracy >= 0.95", "accuracy >= baseline.accuracy"}),
                    Metrics{{"accuracy", 0.97}}, std::nullopt);
  EXPECT_EQ(RenderGates(results),
            "GATE                           VALUES         RESULT\n"
            "accuracy >= 0.95               accuracy=0.97  pass\n"
            "accuracy >= baseline.accuracy                 skipped: no baseline\n");
}

}  // namespace
}  // namespace tauon::reports
