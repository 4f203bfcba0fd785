#include "router/stats.h"

#include <gtest/gtest.h>

#include "router/prometheus.h"
#include "router/stats_json.h"

namespace tauon::router {
namespace {

TEST(LatencyBucketsTest, BoundsAndLookup) {
  const auto& bounds = LatencyBoundsMicros();
  EXPECT_EQ(bounds.front(), 100u);
  EXPECT_EQ(bounds[1], 125u);
  EXPECT_EQ(bounds[10], 1000u);
  EXPECT_EQ(bounds.back(), 100'000'000u);
  EXPECT_EQ(LatencyBucket(0), 0);
  EXPECT_EQ(LatencyBucket(100), 0);
  EXPECT_EQ(LatencyBucket(101), 1);
  EXPECT_EQ(LatencyBucket(1000), 10);
  EXPECT_EQ(LatencyBucket(200'000'000), kLatencyBounds);
}

TEST(LatencyHistogramTest, QuantilesInterpolateInsideBuckets) {
  LatencyHistogram h;
  EXPECT_EQ(h.QuantileMs(0.5), 0);
  // 100 requests uniformly in (1 ms, 1.25 ms]: bucket 11.
  h.counts[LatencyBucket(1200)] = 100;
  h.count = 100;
  EXPECT_DOUBLE_EQ(h.QuantileMs(0.5), 1.125);
  EXPECT_DOUBLE_EQ(h.QuantileMs(1.0), 1.25);
  // One slow request among them: p99 stays in the fast bucket, p100 not.
  h.counts[LatencyBucket(2'000'000)] += 1;
  h.count += 1;
  EXPECT_LT(h.QuantileMs(0.99), 1.25);
  EXPECT_GT(h.QuantileMs(1.0), 1500);
}

TEST(ReleaseCountersTest, CountsAcrossShardsAndIntervalsFromDifferences) {
  ReleaseCounters counters(2);
  int64_t now = 1000;
  for (int i = 0; i < 90; ++i) counters.RecordResponse(i % 2, 200, 1000, now);
  for (int i = 0; i < 10; ++i) counters.RecordResponse(0, 503, 50'000, now);
  counters.RecordUpstreamError(1, UpstreamError::kConnect);
  counters.AddInFlight(0, 2);
  counters.AddInFlight(1, -1);
  ReleaseSnapshot before;
  counters.AddTo(&before, now);
  EXPECT_EQ(before.total_requests(), 100u);
  EXPECT_EQ(before.requests[1], 90u);
  EXPECT_EQ(before.requests[4], 10u);
  EXPECT_EQ(before.upstream_errors[0], 1u);
  EXPECT_EQ(before.in_flight, 1);
  EXPECT_EQ(before.latency.count, 100u);
  EXPECT_EQ(before.recent_latency.count, 100u);

  for (int i = 0; i < 100; ++i) counters.RecordResponse(1, 200, 2000, now + 5);
  ReleaseSnapshot after;
  counters.AddTo(&after, now + 5);
  IntervalStats interval = Interval(before, after, 5.0);
  EXPECT_EQ(interval.requests, 100u);
  EXPECT_EQ(interval.errors, 0u);
  EXPECT_DOUBLE_EQ(interval.request_rate, 20.0);
  EXPECT_DOUBLE_EQ(interval.error_rate, 0.0);
  EXPECT_GT(interval.p50_ms, 1.5);
  EXPECT_LE(interval.p99_ms, 2.0);
  IntervalStats first = Interval(ReleaseSnapshot{}, before, 10.0);
  EXPECT_DOUBLE_EQ(first.error_rate, 0.1);
  EXPECT_GT(first.p99_ms, 40.0);
}

TEST(ReleaseCountersTest, TheWindowForgetsOldSlots) {
  ReleaseCounters counters(1);
  counters.RecordResponse(0, 200, 1000, 100);
  ReleaseSnapshot later;
  counters.AddTo(&later, 100 + kWindowSlots * kWindowSlotSeconds);
  EXPECT_EQ(later.latency.count, 1u);
  EXPECT_EQ(later.recent_latency.count, 0u);
  counters.RecordResponse(0, 200, 1000, 100 + kWindowSlots * kWindowSlotSeconds);
  ReleaseSnapshot now;
  counters.AddTo(&now, 100 + kWindowSlots * kWindowSlotSeconds);
  EXPECT_EQ(now.recent_latency.count, 1u);  // The reused slot was cleared first.
}

TEST(PrometheusTest, FamiliesOnceLabelsEscaped) {
  ReleaseCounters counters(1);
  counters.RecordResponse(0, 200, 3000, 10);
  counters.RecordMirrorComparison(0, true);
  counters.RecordMirrorComparison(0, false);
  Snapshot a;
  a.environment = "prod\"x";
  ReleaseSnapshot stable;
  stable.release = "stable";
  stable.weight = 90;
  counters.AddTo(&stable, 10);
  a.releases.push_back(stable);
  Snapshot b = a;
  b.environment = "staging";
  std::string text = PrometheusText({a, b});
  EXPECT_EQ(text.find("# TYPE tauon_router_requests_total counter"),
            text.rfind("# TYPE tauon_router_requests_total counter"));
  EXPECT_NE(text.find("tauon_router_requests_total{environment=\"prod\\\"x\",release=\"stable\","
                      "code=\"2xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tauon_router_request_duration_seconds_bucket{environment=\"staging\","
                      "release=\"stable\",le=\"0.0025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("tauon_router_request_duration_seconds_bucket{environment=\"staging\","
                      "release=\"stable\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tauon_router_mirror_agreement_ratio{environment=\"staging\","
                      "release=\"stable\"} 0.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("tauon_router_release_weight{environment=\"staging\",release=\"stable\"} 90"),
            std::string::npos);
  nlohmann::json json = StatsJson(b);
  EXPECT_EQ(json["releases"][0]["requests"]["2xx"], 1);
  EXPECT_EQ(json["releases"][0]["mirror"]["agreement"], 0.5);
}

}  // namespace
}  // namespace tauon::router
