// Notifications: a message to Slack, DingTalk or any JSON webhook when a run
// finishes (and, later, when a deployment does something). Sent from a
// background thread with retries and backoff; a failing receiver never
// blocks or fails a run, it is only logged.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
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
  // "slack https://hooks.slack.com/..." with credentials and query removed,
  // for logs: never the secret or a token in the URL.
  std::string Describe() const;
};

// Parses a --notify value. Errors never include the secret.
Result<Channel> ParseChannel(std::string_view spec);

// A finished run, as notifications tell it.
struct RunNotice {
  int64_t run_id = 0;
  std::string repo;
  std::string branch;
  std::string commit;   // Full sha.
  std::string author;
  std::string message;  // Commit subject.
  std::string status;   // "success", "failed", "cancelled", "interrupted"
  int64_t duration_ms = 0;
  std::vector<std::string> failed_jobs;
  std::vector<std::string> failed_tests;  // "classname::name: message", at most 10.
  std::string url;  // Link to the run (dashboard or API).
};

// The HTTP request that delivers `notice` to `channel` (pure: used by the
// Notifier and by tests). `now` signs DingTalk requests.
http::ClientRequest BuildRequest(const Channel& channel, const RunNotice& notice, TimePoint now);

struct NotifierOptions {
  int max_attempts = 5;
  Duration first_backoff{1000};  // Doubles after each failed attempt.
  Duration max_backoff{30'000};
};

// Delivers notices to every channel from its own thread.
class Notifier {
 public:
  using Send = std::function<Result<http::ClientResponse>(const http::ClientRequest&)>;
  using Log = std::function<void(const std::string&)>;

  // `send` defaults to http::Fetch; `log` receives one line per failed
  // attempt and per notice given up (never secrets or bodies).
  Notifier(std::vector<Channel> channels, NotifierOptions options = {}, Send send = nullptr,
           Log log = nullptr);
  // Waits up to `options.max_backoff` for queued notices, then drops the rest.
  ~Notifier();

  // Queues `notice` for every channel; never blocks on the network.
  void Notify(const RunNotice& notice);
  // Blocks until the queue is empty (for tests and shutdown).
  void WaitIdle();

 private:
  void Loop();

  const std::vector<Channel> channels_;
  const NotifierOptions options_;
  Send send_;
  Log log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<size_t, RunNotice>> queue_;  // GUARDED_BY(mutex_): (channel, notice)
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  int busy_ = 0;           // GUARDED_BY(mutex_): notices being sent now.
  std::thread thread_;
};

}  // namespace tauon::notify
