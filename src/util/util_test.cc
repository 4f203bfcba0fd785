#include <gtest/gtest.h>

#include "util/clock.h"
#include "util/strings.h"

namespace tauon {
namespace {

TEST(StringsTest, EditDistanceAndSuggestions) {
  EXPECT_EQ(EditDistance("need", "needs"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("trian", "train"), 1u);
  EXPECT_EQ(SuggestClosest("lnit", {"lint", "test"}), "lint");
  EXPECT_EQ(SuggestClosest("need", {"needs", "steps", "env"}), "needs");
  EXPECT_EQ(SuggestClosest("artefacts", {"artifacts", "reports"}), "artifacts");
  EXPECT_EQ(SuggestClosest("zzz", {"needs", "steps"}), std::nullopt);
  EXPECT_EQ(SuggestClosest("c", {"a", "b"}), std::nullopt);
}

TEST(StringsTest, GlobMatchesBranches) {
  EXPECT_TRUE(GlobMatch("main", "main"));
  EXPECT_FALSE(GlobMatch("main", "mainline"));
  EXPECT_TRUE(GlobMatch("release/*", "release/1.0"));
  EXPECT_FALSE(GlobMatch("release/*", "release/1.0/hotfix"));
  EXPECT_TRUE(GlobMatch("release/**", "release/1.0/hotfix"));
  EXPECT_TRUE(GlobMatch("feature-?", "feature-a"));
  EXPECT_FALSE(GlobMatch("feature-?", "feature-ab"));
  EXPECT_TRUE(GlobMatch("v[0-9]*", "v2.1"));
  EXPECT_FALSE(GlobMatch("v[0-9]*", "vx"));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_FALSE(GlobMatch("*", "a/b"));
  EXPECT_TRUE(GlobMatch("**", "a/b"));
}

TEST(StringsTest, Base64AndSha256) {
  EXPECT_EQ(Base64Encode("abcd"), "YWJjZA==");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(StringsTest, ShellQuote) { EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'"); }

TEST(ClockTest, ParsesDurations) {
  EXPECT_EQ(ParseDuration("500ms"), Duration(500));
  EXPECT_EQ(ParseDuration("30s"), Duration(30'000));
  EXPECT_EQ(ParseDuration("15m"), Duration(900'000));
  EXPECT_EQ(ParseDuration("1h30m"), Duration(5'400'000));
  EXPECT_EQ(ParseDuration("5").error().message, "invalid duration '5': missing unit (ms, s, m or h)");
  EXPECT_EQ(ParseDuration("1.5h").error().message,
            "invalid duration '1.5h': use whole numbers (e.g. 1h30m, 1500ms)");
  EXPECT_EQ(ParseDuration("5d").error().message,
            "invalid duration '5d': unknown unit 'd' (expected ms, s, m or h)");
  EXPECT_EQ(ParseDuration("soon").error().message,
            "invalid duration 'soon': expected a number followed by ms, s, m or h (e.g. 30s, 15m)");
}

TEST(ClockTest, FormatsDurations) {
  EXPECT_EQ(FormatDuration(Duration(850)), "850ms");
  EXPECT_EQ(FormatDuration(Duration(3400)), "3.4s");
  EXPECT_EQ(FormatDuration(Duration(125'000)), "2m05s");
  EXPECT_EQ(FormatDuration(Duration(3'720'000)), "1h02m");
}

TEST(ClockTest, TimesRoundTripAsRfc3339) {
  TimePoint t(Duration(1'764'077'777'123));
  EXPECT_EQ(FormatTime(t), "2025-11-25T13:36:17.123Z");
  EXPECT_EQ(ParseTime("2025-11-25T13:36:17.123Z"), t);
  EXPECT_EQ(ParseTime("2025-11-25T13:36:17Z"), TimePoint(Duration(1'764'077'777'000)));
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2025-11-25T13:36:17+01:00").has_value());
}

}  // namespace
}  // namespace tauon
