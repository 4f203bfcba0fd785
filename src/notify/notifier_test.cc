#include "notify/notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>

namespace tauon::notify {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

constexpr std::string_view kSlackUrl = "https://hooks.slack.com/services/T0AAA/B0BBB/XyZsl4ckT0ken";
constexpr std::string_view kDingTalkUrl =
    "https://oapi.dingtalk.com/robot/send?access_token=d1ngT0ken";

Channel MakeChannel(Channel::Kind kind, std::string url, std::string secret = "") {
  Channel channel;
  channel.kind = kind;
  channel.url = std::move(url);
  channel.secret = std::move(secret);
  return channel;
}

RunNotice FailedRun() {
  RunNotice notice;
  notice.run_id = 12;
  notice.repo = "digits";
  notice.branch = "main";
  notice.commit = "3f2a1b9c0d1e2f30415263748596a7b8c9d0e1f2";
  notice.author = "Ada Lovelace";
  notice.message = "Tune the learning rate\n\nLonger explanation.";
  notice.status = "failed";
  notice.duration_ms = 65'000;
  notice.failed_jobs = {"train", "evaluate"};
  notice.failed_tests = {"tests.test_model::test_accuracy: accuracy 0.81 < 0.90"};
  notice.url = "http://localhost:8080/runs/12";
  return notice;
}

json BodyOf(const http::ClientRequest& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(body.is_discarded()) << request.body;
  return body;
}

// ---- ParseChannel --------------------------------------------------------

TEST(ParseChannelTest, ParsesEachKind) {
  Result<Channel> slack = ParseChannel(std::string("slack=") + std::string(kSlackUrl));
  ASSERT_TRUE(slack) << slack.error().message;
  EXPECT_EQ(slack->kind, Channel::Kind::kSlack);
  EXPECT_EQ(slack->url, kSlackUrl);
  EXPECT_EQ(slack->secret, "");

  Result<Channel> dingtalk = ParseChannel(std::string("dingtalk=") + std::string(kDingTalkUrl));
  ASSERT_TRUE(dingtalk) << dingtalk.error().message;
  EXPECT_EQ(dingtalk->kind, Channel::Kind::kDingTalk);
  EXPECT_EQ(dingtalk->url, kDingTalkUrl);
  EXPECT_EQ(dingtalk->secret, "");

  Result<Channel> signed_robot =
      ParseChannel(std::string("dingtalk=") + std::string(kDingTalkUrl) + ",secret=SECabc,=x");
  ASSERT_TRUE(signed_robot) << signed_robot.error().message;
  EXPECT_EQ(signed_robot->url, kDingTalkUrl);
  EXPECT_EQ(signed_robot->secret, "SECabc,=x");  // Everything after "secret=".

  Result<Channel> webhook = ParseChannel("  webhook=http://user:pw@[::1]:8080/hook?key=k  ");
  ASSERT_TRUE(webhook) << webhook.error().message;
  EXPECT_EQ(webhook->kind, Channel::Kind::kWebhook);
  EXPECT_EQ(webhook->url, "http://user:pw@[::1]:8080/hook?key=k");

  EXPECT_TRUE(ParseChannel("webhook=HTTPS://example.com"));
}

TEST(ParseChannelTest, ErrorsSayWhatIsWrong) {
  const std::string expected = "expected slack=URL, dingtalk=URL[,secret=S] or webhook=URL";
  struct Case {
    std::string spec;
    std::string error;
  };
  const Case cases[] = {
      {"", "invalid --notify '': " + expected},
      {"slack", "invalid --notify 'slack': " + expected},
      {"https://hooks.slack.com/services/T0AAA/B0BBB/XyZsl4ckT0ken",
       "invalid --notify 'https://hooks.slack.com/…': " + expected},
      {"https://example.com/hook?token=t0k",
       "invalid --notify 'https://example.com/…': " + expected},
      {"slak=https://hooks.slack.com/services/T0AAA/B0BBB/XyZsl4ckT0ken",
       "invalid --notify 'slak=https://hooks.slack.com/…': unknown kind 'slak' (did you mean "
       "'slack'?); " +
           expected},
      {"email=ops@example.com", "invalid --notify 'email=…': unknown kind 'email'; " + expected},
      {"slack=", "invalid --notify 'slack=': missing URL after 'slack='"},
      {"dingtalk=,secret=SEC1", "invalid --notify 'dingtalk=…': missing URL after 'dingtalk='"},
      {"slack=ftp://files.example.com/x",
       "invalid --notify 'slack=ftp://files.example.com/…': the URL must be http:// or https:// "
       "with a valid host"},
      {"slack=hooks.slack.com/services/T0AAA/B0BBB/XyZsl4ckT0ken",
       "invalid --notify 'slack=…': the URL must be http:// or https:// with a valid host"},
      {"webhook=https:///hook",
       "invalid --notify 'webhook=https:///…': the URL must be http:// "
       "or https:// with a valid host"},
      {"webhook=https://example.com:99999/hook",
       "invalid --notify 'webhook=https://example.com:99999/…': the URL must be http:// or "
       "https:// with a valid host"},
      {"webhook=https://example.com/a hook",
       "invalid --notify 'webhook=https://example.com/…': the URL must be http:// or https:// "
       "with a valid host"},
      {"webhook=https://example.com/hook,secret=s3cr3t",
       "invalid --notify 'webhook=https://example.com/…': secret= is only for dingtalk"},
      {"dingtalk=https://oapi.dingtalk.com/robot/send?access_token=d1ngT0ken,secret=",
       "invalid --notify 'dingtalk=https://oapi.dingtalk.com/…': empty secret"},
      {"dingtalk=https://oapi.dingtalk.com/robot/send?access_token=d1ngT0ken,sign=s3cr3t",
       "invalid --notify 'dingtalk=https://oapi.dingtalk.com/…': unknown option 'sign' "
       "(expected secret=S)"},
      {"dingtalk=https://oapi.dingtalk.com/robot/send?access_token=d1ngT0ken,s3cr3t",
       "invalid --notify 'dingtalk=https://oapi.dingtalk.com/…': unexpected text after the URL "
       "(expected ,secret=S)"},
  };
  for (const Case& c : cases) {
    Result<Channel> channel = ParseChannel(c.spec);
    ASSERT_FALSE(channel) << c.spec;
    EXPECT_EQ(channel.error().message, c.error) << c.spec;
  }
}

TEST(ParseChannelTest, ErrorsNeverQuoteSecretsOrTokens) {
  // Real ones are long: DingTalk secrets are "SEC" and 64 hex digits.
  const std::string secret = "SEC6b0d2f4e8a1c3b5d7f9e0a2c4b6d8f0e";
  const std::string token = "5a1f3c9e7b2d4f6a8c0e1b3d5f7a9c2e";
  const std::string password = "pa55w0rd";
  const std::vector<std::string> specs = {
      token,
      secret + "=" + token,
      "https://user:" + password + "@example.com/hook?" + token,
      "slak=https://hooks.slack.com/services/T0AAA/B0BBB/" + token,
      "slack=https://user:" + password + "@hooks.slack.com/services/T0/B0/" + token +
          ",secret=" + secret,
      "slack=https://" + password + "," + secret + "@hooks.slack.com",
      "webhook=https://example.com,secret=" + secret,
      "webhook=https://example.com/hook?" + token + ",secret=" + secret,
      "webhook=ftp://user:" + password + "@example.com/" + token,
      "webhook=https://example.com:1234567/" + token,
      "webhook=https://example.com/a b?" + token,
      "dingtalk=https://oapi.dingtalk.com/robot/send?access_token=" + token + ",secret=",
      "dingtalk=https://oapi.dingtalk.com/robot/send?access_token=" + token + "," + token + "=" +
          secret,
      "dingtalk=https://oapi.dingtalk.com/robot/send?access_token=" + token + "," + secret,
      "dingtalk=" + token + ",secret=" + secret,
      token + ",secret=" + secret,
      "slack=" + secret,
  };
  for (const std::string& spec : specs) {
    Result<Channel> channel = ParseChannel(spec);
    ASSERT_FALSE(channel) << spec;
    for (const std::string& hidden : {secret, token, password}) {
      EXPECT_EQ(channel.error().message.find(hidden), std::string::npos)
          << spec << " -> " << channel.error().message;
    }
  }
}

// ---- Describe --------------------------------------------------------------

TEST(ChannelDescribeTest, HidesCredentials) {
  EXPECT_EQ(MakeChannel(Channel::Kind::kSlack, std::string(kSlackUrl)).Describe(),
            "slack https://hooks.slack.com/services/…");
  EXPECT_EQ(MakeChannel(Channel::Kind::kSlack, "https://hooks.slack.com/services").Describe(),
            "slack https://hooks.slack.com/services");
  EXPECT_EQ(MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl), "SECabc").Describe(),
            "dingtalk https://oapi.dingtalk.com/robot/send?…");
  EXPECT_EQ(MakeChannel(Channel::Kind::kWebhook,
                        "https://bot:pa55@ci.example.com:8443/hooks/"
                        "tauon?key=t0k3n#frag")
                .Describe(),
            "webhook https://ci.example.com:8443/hooks/tauon?…");
  EXPECT_EQ(MakeChannel(Channel::Kind::kWebhook, "http://example.com").Describe(),
            "webhook http://example.com");
  // Channels made by hand may hold anything; Describe still hides it.
  EXPECT_EQ(MakeChannel(Channel::Kind::kWebhook, "t0k3n").Describe(), "webhook …");
}

// ---- BuildRequest ----------------------------------------------------------

const TimePoint kNow{std::chrono::milliseconds(1'700'000'000'123)};

TEST(BuildRequestTest, EveryKindPostsJsonAsTauon) {
  for (Channel::Kind kind :
       {Channel::Kind::kSlack, Channel::Kind::kDingTalk, Channel::Kind::kWebhook}) {
    http::ClientRequest request =
        BuildRequest(MakeChannel(kind, "https://example.com/hook"), FailedRun(), kNow);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, "https://example.com/hook");
    EXPECT_EQ(request.headers.Get("content-type"), "application/json");
    EXPECT_EQ(request.headers.Get("User-Agent"), "tauon");
    EXPECT_EQ(request.timeout, Duration(5'000));
    EXPECT_TRUE(BodyOf(request).is_object());
  }
}

TEST(BuildRequestTest, DeployNoticesForEachKind) {
  DeployNotice notice;
  notice.environment = "production";
  notice.release_id = 3;
  notice.version = "digits@3";
  notice.event = "rolled-back";
  notice.why = "analysis failed 1 interval in a row: error_rate < 0.01 (error_rate=0.5)";
  notice.url = "http://localhost:8080/environments/production";
  json slack = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, std::string(kSlackUrl)),
                                   notice, kNow));
  EXPECT_EQ(slack["text"], "⚠ production: digits@3 rolled back (release 3)");
  EXPECT_EQ(slack["blocks"][0]["text"]["text"],
            "*⚠ production: digits@3 rolled back (release 3)*\n"
            "analysis failed 1 interval in a row: error_rate &lt; 0.01 (error_rate=0.5)\n"
            "<http://localhost:8080/environments/production|environment production>");
  json ding = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=t"),
                                  notice, kNow));
  EXPECT_EQ(ding["markdown"]["title"], "⚠ production: digits@3 rolled back (release 3)");
  EXPECT_NE(ding["markdown"]["text"].get<std::string>().find("Sent by tauon"), std::string::npos);
  json webhook = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kWebhook, "https://example.com/h"),
                                     notice, kNow));
  EXPECT_EQ(webhook, (json{{"event", "deploy.rolled_back"},
                           {"environment", "production"},
                           {"release", 3},
                           {"version", "digits@3"},
                           {"why", notice.why},
                           {"url", notice.url}}));
  notice.event = "live";
  notice.why = "";
  EXPECT_EQ(BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, std::string(kSlackUrl)), notice,
                                kNow))["text"],
            "✓ production: digits@3 is live (release 3)");
}

TEST(BuildRequestTest, SlackHasOneLineTextAndAMrkdwnSection) {
  http::ClientRequest request =
      BuildRequest(MakeChannel(Channel::Kind::kSlack, std::string(kSlackUrl)), FailedRun(), kNow);
  EXPECT_EQ(request.url, kSlackUrl);
  json body = BodyOf(request);
  EXPECT_EQ(body["text"], "✗ digits main@3f2a1b9c failed in 1m05s — run #12");
  ASSERT_TRUE(body["blocks"].is_array());
  ASSERT_EQ(body["blocks"].size(), 1u);
  const json& section = body["blocks"][0];
  EXPECT_EQ(section["type"], "section");
  EXPECT_EQ(section["text"]["type"], "mrkdwn");
  EXPECT_EQ(section["text"]["text"],
            "*✗ digits* <http://localhost:8080/runs/12|run #12> failed in 1m05s\n"
            "*Branch:* main\n"
            "*Commit:* `3f2a1b9c` Tune the learning rate\n"
            "*Author:* Ada Lovelace\n"
            "*Status:* failed\n"
            "*Duration:* 1m05s\n"
            "*Failed jobs:* train, evaluate\n"
            "*Failed tests:*\n"
            "• tests.test_model::test_accuracy: accuracy 0.81 &lt; 0.90");
}

TEST(BuildRequestTest, KnownFlakyFailuresAreListedApart) {
  RunNotice notice = FailedRun();
  notice.flaky_failed_tests = {"tests.test_io::test_net (known flaky: flips often)"};
  json slack = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), notice, kNow));
  std::string text = slack["blocks"][0]["text"]["text"];
  EXPECT_NE(
      text.find("*Failed tests:*\n• tests.test_model::test_accuracy: accuracy 0.81 &lt; 0.90\n"
                "*Known-flaky failures:*\n• tests.test_io::test_net (known flaky: flips often)"),
      std::string::npos)
      << text;
  json ding =
      BodyOf(BuildRequest(MakeChannel(Channel::Kind::kDingTalk, "https://x"), notice, kNow));
  std::string markdown = ding["markdown"]["text"];
  EXPECT_NE(markdown.find("**Known-flaky failures:**\n\n- tests.test_io::test_net (known flaky: "
                          "flips often)\n"),
            std::string::npos)
      << markdown;
}

TEST(BuildRequestTest, SlackHeadlineForEachStatus) {
  RunNotice notice = FailedRun();
  const std::pair<std::string, std::string> cases[] = {
      {"success", "✓ digits main@3f2a1b9c succeeded in 1m05s — run #12"},
      {"cancelled", "⊘ digits main@3f2a1b9c was cancelled in 1m05s — run #12"},
      {"interrupted", "⚠ digits main@3f2a1b9c was interrupted in 1m05s — run #12"},
      {"skipped\nx", "• digits main@3f2a1b9c ended with status skipped in 1m05s — run #12"},
  };
  for (const auto& [status, text] : cases) {
    notice.status = status;
    json body = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), notice, kNow));
    EXPECT_EQ(body["text"], text);
  }
  RunNotice bare;
  bare.run_id = 3;
  bare.status = "success";
  bare.duration_ms = 850;
  json body = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), bare, kNow));
  EXPECT_EQ(body["text"], "✓ succeeded in 850ms — run #3");
  EXPECT_EQ(body["blocks"][0]["text"]["text"],
            "*✓* run #3 succeeded in 850ms\n*Status:* success\n*Duration:* 850ms");
}

TEST(BuildRequestTest, SlackListsAtMostTenTestsEachCut) {
  RunNotice notice = FailedRun();
  notice.failed_tests.clear();
  for (int i = 0; i < 13; ++i) notice.failed_tests.push_back(fmt::format("suite::test_{}", i));
  notice.failed_tests[0] = std::string(500, 'x') + "\nsecond line";
  json body = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), notice, kNow));
  std::string text = body["blocks"][0]["text"]["text"];
  EXPECT_NE(text.find("• " + std::string(200, 'x') + "…\n"), std::string::npos);
  EXPECT_EQ(text.find("second line"), std::string::npos);
  EXPECT_NE(text.find("• suite::test_9\n• … and 3 more"), std::string::npos) << text;
  EXPECT_EQ(text.find("test_10"), std::string::npos);
}

TEST(BuildRequestTest, SlackSectionStaysUnderSlacksLimit) {
  RunNotice notice = FailedRun();
  notice.failed_jobs.assign(200, std::string(90, 'j'));
  json body = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), notice, kNow));
  std::string text = body["blocks"][0]["text"]["text"];
  EXPECT_LE(text.size(), 3000u);
  EXPECT_TRUE(text.ends_with("…"));
}

TEST(BuildRequestTest, SlackEscapesControlCharacters) {
  RunNotice notice = FailedRun();
  notice.repo = "<!channel> & co";
  notice.url = "https://ci.example.com/runs/12?a=1|2";
  json body = BodyOf(BuildRequest(MakeChannel(Channel::Kind::kSlack, "https://x"), notice, kNow));
  std::string text = body["blocks"][0]["text"]["text"];
  EXPECT_TRUE(
      text.starts_with("*✗ &lt;!channel&gt; &amp; co* "
                       "<https://ci.example.com/runs/12?a=1%7C2|run #12>"))
      << text;
}

TEST(BuildRequestTest, DingTalkMarkdown) {
  http::ClientRequest request = BuildRequest(
      MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl)), FailedRun(), kNow);
  EXPECT_EQ(request.url, kDingTalkUrl);  // Unsigned without a secret.
  json body = BodyOf(request);
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_EQ(body["markdown"]["title"], "✗ digits main@3f2a1b9c failed in 1m05s — run #12");
  EXPECT_EQ(body["markdown"]["text"],
            "#### ✗ digits main@3f2a1b9c failed in 1m05s — run #12\n"
            "\n"
            "- **Repo:** digits\n"
            "- **Branch:** main\n"
            "- **Commit:** 3f2a1b9c Tune the learning rate\n"
            "- **Author:** Ada Lovelace\n"
            "- **Status:** failed\n"
            "- **Duration:** 1m05s\n"
            "- **Failed jobs:** train, evaluate\n"
            "\n"
            "**Failed tests:**\n"
            "\n"
            "- tests.test_model::test_accuracy: accuracy 0.81 < 0.90\n"
            "\n"
            "[View run #12](http://localhost:8080/runs/12)\n"
            "\n"
            "Sent by tauon\n");
  EXPECT_EQ(body.size(), 2u);
}

// Expected signatures computed independently:
//   python3 -c 'import hmac,hashlib,base64,urllib.parse; ts="1700000000123"; s="SEC0005";
//     print(urllib.parse.quote_plus(base64.b64encode(hmac.new(s.encode(),
//     (ts+"\n"+s).encode(), hashlib.sha256).digest())))'
// and checked with
//   printf '1700000000123\nSEC0005' | openssl dgst -sha256 -hmac SEC0005 -binary | base64
//   -> fQKuH7W0Su5fuXOUZbfe1Ur08bkM+HVFw+uwEl/1ELA=
TEST(BuildRequestTest, DingTalkSignatureAppendedToTheQuery) {
  http::ClientRequest request =
      BuildRequest(MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl), "SEC0005"),
                   FailedRun(), kNow);
  EXPECT_EQ(request.url, std::string(kDingTalkUrl) +
                             "&timestamp=1700000000123"
                             "&sign=fQKuH7W0Su5fuXOUZbfe1Ur08bkM%2BHVFw%2BuwEl%2F1ELA%3D");
}

TEST(BuildRequestTest, DingTalkSignatureStartsAQueryWhenThereIsNone) {
  http::ClientRequest request =
      BuildRequest(MakeChannel(Channel::Kind::kDingTalk, "https://robot.example.com/send",
                               "SEC0123456789abcdef0123456789abcdef"),
                   FailedRun(), kNow);
  EXPECT_EQ(request.url,
            "https://robot.example.com/send?timestamp=1700000000123"
            "&sign=RJSy35h38CnlhhVbDVC4mP8mJp86O4gB70JzBX17Npw%3D");

  // A different time is a different signature (2020-01-01T00:00:00Z).
  request =
      BuildRequest(MakeChannel(Channel::Kind::kDingTalk, "https://r.example.com/s?", "SECxyz"),
                   FailedRun(), TimePoint(std::chrono::milliseconds(1'577'836'800'000)));
  EXPECT_EQ(request.url,
            "https://r.example.com/s?timestamp=1577836800000"
            "&sign=O4gE9lpINPQqQUpdfzo7hUJNxXdyWWRvHBIq2pbJCxI%3D");
}

TEST(BuildRequestTest, GenericWebhookCarriesTheNotice) {
  RunNotice notice = FailedRun();
  notice.failed_tests.push_back("b::c: boom");
  notice.flaky_failed_tests = {"b::d (known flaky: flips often)"};
  json body = BodyOf(BuildRequest(
      MakeChannel(Channel::Kind::kWebhook, "https://ci.example.com/hook"), notice, kNow));
  json expected = {
      {"event", "run.finished"},
      {"run_id", 12},
      {"repo", "digits"},
      {"branch", "main"},
      {"commit", "3f2a1b9c0d1e2f30415263748596a7b8c9d0e1f2"},
      {"author", "Ada Lovelace"},
      {"message", "Tune the learning rate\n\nLonger explanation."},
      {"status", "failed"},
      {"duration_ms", 65000},
      {"failed_jobs", {"train", "evaluate"}},
      {"failed_tests", {"tests.test_model::test_accuracy: accuracy 0.81 < 0.90", "b::c: boom"}},
      {"flaky_failed_tests", {"b::d (known flaky: flips often)"}},
      {"url", "http://localhost:8080/runs/12"},
  };
  EXPECT_EQ(body, expected);
}

TEST(BuildRequestTest, InvalidUtf8IsReplacedNotThrown) {
  RunNotice notice = FailedRun();
  notice.message = "bad \xff\xfe bytes";
  notice.failed_tests = {"t: \xc3"};
  notice.repo = "é" + std::string(300, 'r');  // Cut on a character boundary.
  for (Channel::Kind kind :
       {Channel::Kind::kSlack, Channel::Kind::kDingTalk, Channel::Kind::kWebhook}) {
    http::ClientRequest request = BuildRequest(MakeChannel(kind, "https://x"), notice, kNow);
    EXPECT_TRUE(BodyOf(request).is_object()) << static_cast<int>(kind);
  }
}

// ---- Notifier --------------------------------------------------------------

// Lines given to the notifier's log, for assertions.
class LogLines {
 public:
  Notifier::Log Sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A receiver whose answers the test scripts: `answer(n, request)` gives the
// n-th (0-based) attempt's result. Records every request it sees.
class FakeReceiver {
 public:
  using Answer =
      std::function<Result<http::ClientResponse>(int attempt, const http::ClientRequest&)>;
  explicit FakeReceiver(Answer answer) : answer_(std::move(answer)) {}

  Notifier::Send Send() {
    return [this](const http::ClientRequest& request) {
      int attempt;
      {
        std::lock_guard lock(mutex_);
        attempt = static_cast<int>(requests_.size());
        requests_.push_back(request);
        times_.push_back(steady_clock::now());
      }
      return answer_(attempt, request);
    };
  }
  std::vector<http::ClientRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<steady_clock::time_point> times() const {
    std::lock_guard lock(mutex_);
    return times_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  Answer answer_;
  mutable std::mutex mutex_;
  std::vector<http::ClientRequest> requests_;    // GUARDED_BY(mutex_)
  std::vector<steady_clock::time_point> times_;  // GUARDED_BY(mutex_)
};

http::ClientResponse Status(int status, std::string body = "") {
  http::ClientResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

FakeReceiver::Answer Always(int status, std::string body = "") {
  return [=](int, const http::ClientRequest&) -> Result<http::ClientResponse> {
    return Status(status, body);
  };
}

// Fails `failures` times with `failure`, then answers 200 "ok".
FakeReceiver::Answer FailThenOk(int failures, FakeReceiver::Answer failure) {
  return [=](int attempt, const http::ClientRequest& request) -> Result<http::ClientResponse> {
    if (attempt < failures) return failure(attempt, request);
    return Status(200, "ok");
  };
}

FakeReceiver::Answer TransportError() {
  return [](int, const http::ClientRequest& request) -> Result<http::ClientResponse> {
    return Fail("connect to {} failed: connection refused", request.url);
  };
}

NotifierOptions Fast(int max_attempts = 5) {
  NotifierOptions options;
  options.max_attempts = max_attempts;
  options.first_backoff = Duration(1);
  options.max_backoff = Duration(5);
  return options;
}

// Waits (for real, briefly) until `done` holds; false after 10s.
bool Eventually(const std::function<bool()>& done) {
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

const Channel kSlack = MakeChannel(Channel::Kind::kSlack, std::string(kSlackUrl));
const Channel kHook = MakeChannel(Channel::Kind::kWebhook, "https://ci.example.com/hook?key=k3y");

TEST(NotifierTest, DeliversToEveryChannel) {
  FakeReceiver receiver(Always(200, "ok"));
  LogLines log;
  Notifier notifier({kSlack, kHook}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  std::vector<http::ClientRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  // Channels deliver from their own threads, in any order between them.
  std::sort(requests.begin(), requests.end(),
            [](const auto& a, const auto& b) { return a.url < b.url; });
  EXPECT_EQ(requests[1].url, kSlackUrl);
  EXPECT_EQ(requests[0].url, "https://ci.example.com/hook?key=k3y");
  EXPECT_EQ(BodyOf(requests[0])["event"], "run.finished");
  EXPECT_TRUE(log.lines().empty());
}

TEST(NotifierTest, RetriesTransportErrorsAndLogsEachWithoutTheUrl) {
  FakeReceiver receiver(FailThenOk(2, TransportError()));
  LogLines log;
  Notifier notifier({kHook}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 3u);
  EXPECT_EQ(log.lines(),
            (std::vector<std::string>{
                "webhook https://ci.example.com/hook?…: run #12: attempt 1/5 failed: connect to … "
                "failed: connection refused; retrying in 1ms",
                "webhook https://ci.example.com/hook?…: run #12: attempt 2/5 failed: connect to … "
                "failed: connection refused; retrying in 2ms",
            }));
}

TEST(NotifierTest, Retries503) {
  FakeReceiver receiver(FailThenOk(1, Always(503)));
  LogLines log;
  Notifier notifier({kSlack}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 2u);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "slack https://hooks.slack.com/services/…: run #12: attempt 1/5 "
                             "failed: HTTP 503; retrying in 1ms"}));
}

TEST(NotifierTest, DoesNotRetry400AndLogsTheErrorCodeOnly) {
  FakeReceiver receiver(Always(400, "invalid_payload"));
  LogLines log;
  Notifier notifier({kSlack}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "slack https://hooks.slack.com/services/…: run #12: giving up after "
                             "1 attempt: HTTP 400 (invalid_payload)"}));
}

TEST(NotifierTest, NeverLogsBodies) {
  FakeReceiver receiver(Always(404, "<html>Not found: /services/T0AAA/B0BBB/XyZsl4ckT0ken</html>"));
  LogLines log;
  Notifier notifier({kSlack}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "slack https://hooks.slack.com/services/…: run #12: giving up after "
                             "1 attempt: HTTP 404"}));
}

TEST(NotifierTest, GivesUpAfterMaxAttempts) {
  FakeReceiver receiver(Always(500));
  LogLines log;
  Notifier notifier({kHook}, Fast(3), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 3u);
  std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2],
            "webhook https://ci.example.com/hook?…: run #12: giving up after 3 attempts: HTTP 500");
}

TEST(NotifierTest, BackoffDoublesUpToTheCap) {
  FakeReceiver receiver(Always(502));
  LogLines log;
  NotifierOptions options;
  options.max_attempts = 5;
  options.first_backoff = Duration(5);
  options.max_backoff = Duration(12);
  Notifier notifier({kHook}, options, receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  std::vector<steady_clock::time_point> times = receiver.times();
  ASSERT_EQ(times.size(), 5u);
  const int expected_ms[] = {5, 10, 12, 12};
  for (size_t i = 0; i + 1 < times.size(); ++i) {
    EXPECT_GE(times[i + 1] - times[i], Duration(expected_ms[i])) << i;
  }
  std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(lines[0].ends_with("retrying in 5ms"));
  EXPECT_TRUE(lines[1].ends_with("retrying in 10ms"));
  EXPECT_TRUE(lines[2].ends_with("retrying in 12ms"));
  EXPECT_TRUE(lines[3].ends_with("retrying in 12ms"));
}

TEST(NotifierTest, HonoursRetryAfterUpToTheCap) {
  FakeReceiver receiver(
      FailThenOk(1, [](int, const http::ClientRequest&) -> Result<http::ClientResponse> {
        http::ClientResponse response = Status(429, "rate_limited");
        response.headers.Add("Retry-After", "30");
        return response;
      }));
  LogLines log;
  NotifierOptions options = Fast();
  options.max_backoff = Duration(40);
  Notifier notifier({kSlack}, options, receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  std::vector<steady_clock::time_point> times = receiver.times();
  ASSERT_EQ(times.size(), 2u);
  EXPECT_GE(times[1] - times[0], Duration(40));
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "slack https://hooks.slack.com/services/…: run #12: attempt 1/5 "
                             "failed: HTTP 429 (rate_limited); retrying in 40ms"}));
}

TEST(NotifierTest, DingTalkErrcodeIsAFailure) {
  const Channel robot = MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl), "SEC0005");
  {
    // Signature, keyword and IP whitelist errors: resending cannot help.
    FakeReceiver receiver(
        Always(200, R"({"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc]"})"));
    LogLines log;
    Notifier notifier({robot}, Fast(), receiver.Send(), log.Sink());
    notifier.Notify(FailedRun());
    notifier.WaitIdle();
    EXPECT_EQ(receiver.count(), 1u);
    EXPECT_EQ(log.lines(),
              (std::vector<std::string>{
                  "dingtalk https://oapi.dingtalk.com/robot/send?…: run #12: giving up after 1 "
                  "attempt: DingTalk errcode 310000: sign not match, more: [https://ding-doc]"}));
  }
  {
    // "System busy" is retried; each attempt is signed afresh.
    FakeReceiver receiver(FailThenOk(1, Always(200, R"({"errcode":-1,"errmsg":"busy"})")));
    LogLines log;
    Notifier notifier({robot}, Fast(), receiver.Send(), log.Sink());
    notifier.Notify(FailedRun());
    notifier.WaitIdle();
    ASSERT_EQ(receiver.count(), 2u);
    EXPECT_NE(receiver.requests()[0].url.find("&timestamp="), std::string::npos);
    ASSERT_EQ(log.lines().size(), 1u);
    EXPECT_NE(log.lines()[0].find("DingTalk errcode -1: busy; retrying"), std::string::npos);
  }
  {
    // errcode 0, and bodies that are not DingTalk's JSON, are deliveries.
    FakeReceiver receiver([](int attempt, const http::ClientRequest&) {
      return Status(200, attempt == 0 ? R"({"errcode":0,"errmsg":"ok"})" : "fine");
    });
    LogLines log;
    Notifier notifier({robot}, Fast(), receiver.Send(), log.Sink());
    notifier.Notify(FailedRun());
    notifier.Notify(FailedRun());
    notifier.WaitIdle();
    EXPECT_EQ(receiver.count(), 2u);
    EXPECT_TRUE(log.lines().empty());
  }
}

TEST(NotifierTest, SlackOkStatusWithoutOkBodyIsAFailure) {
  FakeReceiver receiver(Always(200, "no_service"));
  LogLines log;
  Notifier notifier({kSlack}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "slack https://hooks.slack.com/services/…: run #12: giving up after "
                             "1 attempt: HTTP 200 without \"ok\" (no_service)"}));
}

TEST(NotifierTest, LogsNeverHoldSecretsEvenWhenTheTransportQuotesThem) {
  const Channel robot = MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl), "SEC0005");
  FakeReceiver receiver(
      [](int, const http::ClientRequest& request) -> Result<http::ClientResponse> {
        if (request.url.starts_with("https://oapi.dingtalk.com")) {
          return Fail("TLS error talking to {} (secret SEC0005, token d1ngT0ken)", request.url);
        }
        return Fail("POST /services/T0AAA/B0BBB/XyZsl4ckT0ken to {}: reset (XyZsl4ckT0ken)",
                    request.url);
      });
  LogLines log;
  Notifier notifier({robot, kSlack}, Fast(2), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) {
    for (std::string_view secret : {"SEC0005", "d1ngT0ken", "XyZsl4ckT0ken", "B0BBB", "sign="}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
    }
  }
  // Channels log from their own threads, in any order between them.
  EXPECT_THAT(lines, ::testing::Contains(
                         "dingtalk https://oapi.dingtalk.com/robot/send?…: run #12: attempt 1/2 "
                         "failed: TLS error talking to … (secret …, token …); retrying in 1ms"));
}

TEST(NotifierTest, LongTransportErrorsAreScrubbedBeforeTheyAreCut) {
  const Channel robot = MakeChannel(Channel::Kind::kDingTalk, std::string(kDingTalkUrl));
  // The URL straddles the point where the logged reason is cut.
  FakeReceiver receiver(
      [](int, const http::ClientRequest& request) -> Result<http::ClientResponse> {
        return Fail("{} {}", std::string(445, 'x'), request.url);  // Cut after "d1ng".
      });
  LogLines log;
  Notifier notifier({robot}, Fast(1), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  ASSERT_EQ(log.lines().size(), 1u);
  EXPECT_EQ(log.lines()[0].find("access_token"), std::string::npos) << log.lines()[0];
  EXPECT_EQ(log.lines()[0].find("d1ng"), std::string::npos) << log.lines()[0];
}

TEST(NotifierTest, SurvivesAThrowingSendAndLog) {
  FakeReceiver receiver(
      [](int attempt, const http::ClientRequest&) -> Result<http::ClientResponse> {
        if (attempt == 0) throw std::runtime_error("boom");
        return Status(200, "ok");
      });
  std::atomic<int> calls = 0;
  Notifier notifier({kSlack}, Fast(), receiver.Send(), [&](const std::string&) {
    ++calls;
    throw std::runtime_error("log is broken");
  });
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 2u);
  EXPECT_EQ(calls, 1);
}

// Blocks every send until Open(); counts sends started.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    opened_.notify_all();
    opened_.wait(lock, [this] { return open_; });
  }
  void WaitForSends(int n) {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;  // GUARDED_BY(mutex_)
  int waiting_ = 0;    // GUARDED_BY(mutex_)
};

TEST(NotifierTest, NotifyDoesNotWaitForASlowSend) {
  Gate gate;
  FakeReceiver receiver([&](int, const http::ClientRequest&) -> Result<http::ClientResponse> {
    gate.Pass();
    return Status(200, "ok");
  });
  LogLines log;
  Notifier notifier({kSlack, kHook}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  gate.WaitForSends(2);  // Each channel's first send is now stuck in the network.
  auto start = steady_clock::now();
  for (int i = 0; i < 100; ++i) notifier.Notify(FailedRun());
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(receiver.count(), 2u);
  gate.Open();
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 202u);
}

TEST(NotifierTest, AHangingReceiverDoesNotDelayOtherChannels) {
  Gate gate;
  FakeReceiver receiver([&](int, const http::ClientRequest& request)
                            -> Result<http::ClientResponse> {
    if (request.url == kSlackUrl) gate.Pass();  // Slack hangs until the gate opens.
    return Status(200, "ok");
  });
  LogLines log;
  Notifier notifier({kSlack, kHook}, Fast(), receiver.Send(), log.Sink());
  for (int i = 0; i < 3; ++i) notifier.Notify(FailedRun());
  gate.WaitForSends(1);
  // The webhook channel delivers all three while Slack is stuck on its first.
  for (int i = 0; i < 200 && receiver.count() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(receiver.count(), 4u);
  gate.Open();
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 6u);
}

TEST(NotifierTest, AChannelBackingOffDoesNotHoldUpOthers) {
  const Channel broken = MakeChannel(Channel::Kind::kWebhook, "https://broken.example.com/");
  FakeReceiver receiver(
      [](int, const http::ClientRequest& request) -> Result<http::ClientResponse> {
        if (request.url == "https://broken.example.com/") return Status(503);
        return Status(200, "ok");
      });
  NotifierOptions options;
  options.max_attempts = 2;
  options.first_backoff = Duration(300);
  options.max_backoff = Duration(300);
  LogLines log;
  Notifier notifier({broken, kHook}, options, receiver.Send(), log.Sink());
  RunNotice first = FailedRun(), second = FailedRun();
  second.run_id = 13;
  notifier.Notify(first);
  notifier.Notify(second);
  notifier.WaitIdle();
  std::vector<std::string> order;
  for (const http::ClientRequest& request : receiver.requests()) {
    order.push_back(fmt::format("{} {}",
                                request.url.starts_with("https://broken") ? "broken" : "ok",
                                BodyOf(request)["run_id"].get<int>()));
  }
  // Each channel keeps its own order; the healthy one gets both notices
  // while the broken one backs off on its first.
  std::vector<std::string> broken_order, ok_order;
  for (const std::string& entry : order) {
    (entry.starts_with("broken") ? broken_order : ok_order).push_back(entry);
  }
  EXPECT_EQ(broken_order,
            (std::vector<std::string>{"broken 12", "broken 12", "broken 13", "broken 13"}));
  EXPECT_EQ(ok_order, (std::vector<std::string>{"ok 12", "ok 13"}));
  auto position = [&](const std::string& entry, int nth) {
    int seen = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      if (order[i] == entry && ++seen == nth) return i;
    }
    return order.size();
  };
  EXPECT_LT(position("ok 13", 1), position("broken 12", 2));
}

TEST(NotifierTest, DestructorDoesNotHangWhenSendKeepsFailing) {
  FakeReceiver receiver(TransportError());
  LogLines log;
  auto start = steady_clock::now();
  {
    NotifierOptions options;
    options.max_attempts = 1'000'000;
    options.first_backoff = Duration(1);
    options.max_backoff = Duration(50);
    Notifier notifier({kSlack, kHook}, options, receiver.Send(), log.Sink());
    notifier.Notify(FailedRun());
    notifier.Notify(FailedRun());
    EXPECT_TRUE(Eventually([&] { return receiver.count() >= 4; }));
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  std::vector<std::string> lines = log.lines();
  int given_up = 0;
  for (const std::string& line : lines) {
    if (line.find("giving up at shutdown") != std::string::npos) ++given_up;
  }
  EXPECT_EQ(given_up, 4);  // Two notices, two channels.
}

TEST(NotifierTest, DestructorGivesUpAtOnceOnARetryPastItsDeadline) {
  Gate gate;
  FakeReceiver receiver([&](int, const http::ClientRequest&) -> Result<http::ClientResponse> {
    gate.Pass();
    return Status(503);
  });
  LogLines log;
  auto notifier = std::make_unique<Notifier>(
      std::vector<Channel>{kHook},
      NotifierOptions{
          .max_attempts = 5, .first_backoff = Duration(60'000), .max_backoff = Duration(60'000)},
      receiver.Send(), log.Sink());
  RunNotice queued = FailedRun();
  queued.run_id = 13;
  notifier->Notify(FailedRun());
  notifier->Notify(queued);
  gate.WaitForSends(1);
  // Let the send fail only after shutdown has begun: its 60s retry falls past
  // the deadline, so it is given up at once rather than waited for.
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    gate.Open();
  });
  auto start = steady_clock::now();
  notifier.reset();
  opener.join();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(receiver.count(), 2u);  // Run 13 still had its attempt before the deadline.
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "webhook https://ci.example.com/hook?…: run #12: giving up at "
                             "shutdown after 1 attempt: HTTP 503",
                             "webhook https://ci.example.com/hook?…: run #13: giving up at "
                             "shutdown after 1 attempt: HTTP 503"}));
}

TEST(NotifierTest, DestructorWithNothingQueuedIsImmediate) {
  FakeReceiver receiver(Always(200, "ok"));
  LogLines log;
  auto start = steady_clock::now();
  { Notifier notifier({kSlack}, NotifierOptions{}, receiver.Send(), log.Sink()); }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(NotifierTest, NoChannelsNoSends) {
  FakeReceiver receiver(Always(200, "ok"));
  LogLines log;
  Notifier notifier({}, Fast(), receiver.Send(), log.Sink());
  notifier.Notify(FailedRun());
  notifier.WaitIdle();
  EXPECT_EQ(receiver.count(), 0u);
}

}  // namespace
}  // namespace tauon::notify
