#include "logs/masker.h"

#include <gtest/gtest.h>

namespace tauon::logs {
namespace {

TEST(SecretMaskerTest, MasksEveryOccurrence) {
  SecretMasker masker({"hunter2"});
  EXPECT_EQ(masker.Mask("a hunter2 b hunter2"), "a *** b ***");
  EXPECT_EQ(masker.Mask("nothing here"), "nothing here");
}

TEST(SecretMaskerTest, MasksBase64Forms) {
  SecretMasker masker({"s3cr3t-value"});
  // printf %s s3cr3t-value | base64
  EXPECT_EQ(masker.Mask("token czNjcjN0LXZhbHVl end"), "token *** end");
  SecretMasker padded({"abcd"});  // base64 "YWJjZA==", also seen without padding.
  EXPECT_EQ(padded.Mask("x YWJjZA== y YWJjZA z"), "x *** y *** z");
}

TEST(SecretMaskerTest, OverlappingAndAdjacentOccurrencesBecomeOneMask) {
  SecretMasker masker({"abcabc", "cab"});
  EXPECT_EQ(masker.Mask("xabcabcabcy"), "x***y");
  SecretMasker two({"aa", "bb"});
  EXPECT_EQ(two.Mask("aabb"), "***");
}

TEST(SecretMaskerTest, MultiLineSecretsAreMaskedLineByLine) {
  SecretMasker masker({"-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"});
  EXPECT_EQ(masker.Mask("MIIBOgIBAAJBAK"), "***");
}

TEST(SecretMaskerTest, EmptySecretsAreIgnored) {
  SecretMasker masker({"", "  "});
  EXPECT_TRUE(masker.empty());
  EXPECT_EQ(masker.Mask("anything"), "anything");
}

TEST(MaskedLineBufferTest, EmitsCompleteLinesOnly) {
  MaskedLineBuffer buffer(nullptr);
  EXPECT_EQ(buffer.Feed("one\ntw"), "one\n");
  EXPECT_EQ(buffer.Feed("o\nthree"), "two\n");
  EXPECT_EQ(buffer.Finish(), "three\n");
  EXPECT_EQ(buffer.Finish(), "");
}

TEST(MaskedLineBufferTest, MasksASecretSplitAcrossReads) {
  SecretMasker masker({"abcdef"});
  MaskedLineBuffer buffer(&masker);
  std::string out = buffer.Feed("token=abc");
  out += buffer.Feed("def and more\n");
  EXPECT_EQ(out, "token=*** and more\n");
}

TEST(MaskedLineBufferTest, OverlongLinesAreCutButNeverInsideASecret) {
  const std::string secret = "SECRETSECRET";
  SecretMasker masker({secret});
  MaskedLineBuffer buffer(&masker);
  // A line longer than the limit with the secret right at the cut.
  std::string line(MaskedLineBuffer::kMaxLine - 5, 'x');
  std::string out = buffer.Feed(line + secret.substr(0, 7));
  out += buffer.Feed(secret.substr(7) + "y\n");
  out += buffer.Finish();
  EXPECT_EQ(out.find("SECRET"), std::string::npos);
  EXPECT_NE(out.find("***y\n"), std::string::npos);
  // Every byte of the input is accounted for.
  std::string expected_without_newlines = line + "***y";
  std::string got;
  for (char c : out) {
    if (c != '\n') got += c;
  }
  EXPECT_EQ(got, expected_without_newlines);
}

TEST(MaskedLineBufferTest, ByteByByteFeedingMasksToo) {
  SecretMasker masker({"p4ssw0rd"});
  MaskedLineBuffer buffer(&masker);
  std::string out;
  for (char c : std::string("login p4ssw0rd ok\npartial p4ss")) out += buffer.Feed(std::string(1, c));
  out += buffer.Finish();
  EXPECT_EQ(out, "login *** ok\npartial p4ss\n");
}

}  // namespace
}  // namespace tauon::logs
