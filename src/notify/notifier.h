// Notifications: a message to Slack, DingTalk or any JSON webhook when a run
// finishes (and, later, when a deployment does something). Sent from a
// background thread with retries and backoff; a failing receiver never
// blocks or fails a run, it is only logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "http/client.h"
#include "util/clock.h"

namespace tauon::notify {

// Where notifications go: `--notify slack=URL`, `--notify dingtalk=URL[,secret=S]`
// (DingTalk's signed custom robot), `--notify webhook=URL` (generic JSON).
struct Channel {
  enum class Kind { kSlack, kDingTalk, kWebhook };
  Kind kind = Kind::kWebhook;
  std::string url;
  std::string secret;  // DingTalk signing secret; "" if none.
  // For logs, never the secret or a token in the URL: the kind and the URL
  // without userinfo, query ("?…") or fragment; for Slack, whose token is the
  // path, only the first path segment: "slack https://hooks.slack.com/services/…".
  std::string Describe() const;
};

// Parses a --notify value: KIND=URL[,secret=S]. The URL ends at the first
// comma (write a comma in a URL as %2C) and must be http(s) with a host;
// `secret=` is only for dingtalk. Errors quote the value with everything
// after the URL's host replaced by "…", so they never include the secret, a
// token in the path or query, or userinfo.
Result<Channel> ParseChannel(std::string_view spec);

// A finished run, as notifications tell it.
struct RunNotice {
  int64_t run_id = 0;
  std::string repo;
  std::string branch;
  std::string commit;  // Full sha.
  std::string author;
  std::string message;  // Commit subject.
  std::string status;   // "success", "failed", "cancelled", "interrupted"
  int64_t duration_ms = 0;
  std::vector<std::string> failed_jobs;
  std::vector<std::string> failed_tests;  // "classname::name: message", at most 10.
  // Failures of tests known to be flaky, apart from the real ones above:
  // "classname::name (known flaky: why)", at most 10.
  std::vector<std::string> flaky_failed_tests;
  std::string url;                        // Link to the run (dashboard or API).
};

// A deployment that ended one way or another, as notifications tell it.
struct DeployNotice {
  std::string environment;
  int64_t release_id = 0;
  std::string version;  // "digits-classifier@3"
  std::string event;    // "live", "rolled-back" or "failed"
  std::string why;
  std::string url;  // Link to the environment (API).
};

using Notice = std::variant<RunNotice, DeployNotice>;

// The HTTP request that delivers `notice` to `channel` (pure: used by the
// Notifier and by tests): a POST of JSON with User-Agent "tauon" and a 10s
// timeout. `now` signs DingTalk requests that have a secret. Never throws,
// whatever the notice holds (invalid UTF-8 is replaced).
http::ClientRequest BuildRequest(const Channel& channel, const Notice& notice, TimePoint now);

struct NotifierOptions {
  int max_attempts = 5;
  Duration first_backoff{1000};  // Doubles after each failed attempt.
  Duration max_backoff{30'000};
  // At shutdown, how long queued notices may still take before they are
  // given up (a request in flight may add up to its timeout, 5 s).
  Duration shutdown_grace{5'000};
};

// Delivers notices to every channel, each channel from its own thread.
//
// Each (channel, notice) pair is one delivery, tried up to
// `options.max_attempts` times. Retried: transport errors, HTTP 5xx, 408 and
// 429 (waiting at least Retry-After, capped at max_backoff), and DingTalk's
// "system busy" (-1) and "send too fast" (130101). Everything else fails
// once and is given up: other 1xx/3xx/4xx, a Slack 2xx whose body is not
// "ok", any other DingTalk errcode (310000 covers a bad signature, a missing
// keyword and an IP not in the whitelist; resending cannot fix those).
//
// Deliveries to one channel go out in the order queued; a channel that is
// backing off does not hold up the others. There is one sending thread, so a
// send that hangs (up to the request timeout) does delay every channel.
class Notifier {
 public:
  using Send = std::function<Result<http::ClientResponse>(const http::ClientRequest&)>;
  using Log = std::function<void(const std::string&)>;

  // `send` defaults to http::Fetch; `log` receives one line per failed
  // attempt that will be retried and one per delivery given up (the last
  // attempt's reason is on that line), never secrets or bodies. By default
  // lines go to stderr prefixed "tauon: notify: ". Both are called on the
  // notifier's thread, never with a lock held; they must not call WaitIdle.
  Notifier(std::vector<Channel> channels, NotifierOptions options = {}, Send send = nullptr,
           Log log = nullptr);
  // Keeps delivering queued notices (and retrying) for up to
  // `options.max_backoff`, then gives up on the rest, logging each. A retry
  // that would fall after that deadline is given up at once, so this returns
  // as soon as nothing useful is left to do; only a send already in progress
  // can hold it longer (bounded by the request timeout).
  ~Notifier();

  // Queues `notice` for every channel; never blocks on the network.
  void Notify(const Notice& notice);
  // Blocks until nothing is queued, backing off or being sent.
  void WaitIdle();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Delivery {
    size_t channel = 0;  // Index into channels_.
    Notice notice;
    int attempts = 0;        // Attempts made so far.
    SteadyTime due;          // Not to be tried before this.
    std::string last_error;  // Why the last attempt failed, for the give-up line.
  };
  enum class Outcome { kDelivered, kRetry, kGiveUp };

  void Loop(size_t channel);
  // Sends one attempt of `delivery` (a copy; no lock held). Sets `reason` on
  // failure and `retry_after` when the receiver asked for a pause.
  Outcome Attempt(const Delivery& delivery, std::string* reason, Duration* retry_after);
  void Say(const std::string& line);

  const std::vector<Channel> channels_;
  const NotifierOptions options_;
  Send send_;
  Log log_;
  std::mutex mutex_;
  // Signalled on Notify, on shutdown and whenever a delivery ends: the loop
  // and WaitIdle share it (predicates tell them apart).
  std::condition_variable wake_;
  // GUARDED_BY(mutex_). One queue per channel, in order; only the
  // channel's own thread removes entries.
  std::vector<std::deque<Delivery>> queues_;
  bool stopping_ = false;     // GUARDED_BY(mutex_)
  SteadyTime stop_deadline_;  // GUARDED_BY(mutex_): valid once stopping_.
  std::vector<std::thread> threads_;  // One per channel.
};

}  // namespace tauon::notify
