#include "router/balancer.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace tauon::router {
namespace {

TEST(WeightedPickerTest, ExactOverEveryCycleAndInterleaved) {
  WeightedPicker picker({90, 10});
  int counts[2] = {0, 0};
  int longest_run = 0, run = 0;
  for (int i = 0; i < 10'000; ++i) {
    int pick = picker.Next();
    ASSERT_GE(pick, 0);
    ++counts[pick];
    run = pick == 0 ? run + 1 : 0;
    longest_run = std::max(longest_run, run);
    if ((i + 1) % 100 == 0) {
      EXPECT_EQ(counts[1], (i + 1) / 10) << "after " << i + 1;
    }
  }
  EXPECT_EQ(counts[0], 9000);
  EXPECT_EQ(counts[1], 1000);
  EXPECT_LE(longest_run, 9);  // 90:10 alternates nine and one, never bunches.
}

TEST(WeightedPickerTest, ThreeWaysAndZeroWeights) {
  WeightedPicker picker({5, 0, 3, 2});
  std::map<int, int> counts;
  for (int i = 0; i < 1000; ++i) ++counts[picker.Next()];
  EXPECT_EQ(counts[0], 500);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 300);
  EXPECT_EQ(counts[3], 200);
  EXPECT_EQ(WeightedPicker({0, 0}).Next(), -1);
  EXPECT_EQ(WeightedPicker().Next(), -1);
}

TEST(PickByKeyTest, StableAndProportional) {
  std::vector<uint32_t> weights = {80, 20};
  EXPECT_EQ(PickByKey(weights, "user-1"), PickByKey(weights, "user-1"));
  int canary = 0;
  for (int i = 0; i < 20'000; ++i) canary += PickByKey(weights, "user-" + std::to_string(i)) == 1;
  EXPECT_NEAR(canary / 20'000.0, 0.20, 0.015);
  EXPECT_EQ(PickByKey({0, 5}, "x"), 1);
  EXPECT_EQ(PickByKey({0, 0}, "x"), -1);
  // The hash is fixed: stickiness survives restarts and upgrades.
  EXPECT_EQ(StableHash("user-1"), StableHash(std::string("user-1")));
}

TEST(PercentSamplerTest, ExactShare) {
  PercentSampler ten(10);
  int picked = 0;
  for (int i = 0; i < 1000; ++i) picked += ten.Next();
  EXPECT_EQ(picked, 100);
  PercentSampler none(0), all(100), third(33.3);
  int n = 0, a = 0, t = 0;
  for (int i = 0; i < 1000; ++i) {
    n += none.Next();
    a += all.Next();
    t += third.Next();
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(a, 1000);
  EXPECT_EQ(t, 333);
}

}  // namespace
}  // namespace tauon::router
