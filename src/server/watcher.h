// Watches registered repositories: keeps a mirror of each, fetches it every
// poll interval or when a webhook says so, and queues a run for every new
// head of a branch that passes the repository's and the pipeline's branch
// filters. All git work happens on the watcher's own thread; the other
// threads post tasks to it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "runs/layout.h"
#include "server/dispatcher.h"
#include "store/store.h"

namespace tauon::server {

class Watcher {
 public:
  Watcher(runs::DataLayout layout, Dispatcher& dispatcher);
  ~Watcher();

  void Start();
  void Stop();

  // Registers a repository: creates its mirror, fetches it (so a wrong URL
  // fails here) and remembers its current heads without queuing runs.
  // `webhook_secret` ("" for none) is kept in a 0600 file, not the database.
  Status AddRepo(store::RepoRecord repo, const std::string& webhook_secret);
  // Forgets a repository and deletes its mirror; false if it was unknown.
  Result<bool> RemoveRepo(const std::string& name);
  // Fetches `repo` and queues a run of `ref` (branch, tag or commit; "" for
  // the default branch). Returns the run id.
  Result<int64_t> Trigger(const std::string& repo, const std::string& ref);
  // Asks for a fetch of `repo` soon (a webhook arrived); does not wait.
  void FetchSoon(const std::string& repo);

 private:
  // The URL to fetch `repo` from: with its credentials, if it has any.
  std::string FetchUrl(const store::RepoRecord& repo) const;
  // Runs `task` on the watcher thread and waits for it.
  template <typename T>
  T OnThread(std::function<T()> task);
  void Loop();
  // Fetches `repo` and queues runs for its new branch heads.
  Status Scan(const store::RepoRecord& repo);
  // Queues a run of commit `sha`; cancels older runs of the branch when the
  // pipeline asks for it.
  Result<int64_t> Queue(const store::RepoRecord& repo, const std::string& sha,
                        const std::string& branch, const std::string& event,
                        const std::string& trigger, bool only_if_branch_matches);

  const runs::DataLayout layout_;
  Dispatcher& dispatcher_;
  SystemClock clock_;
  std::unique_ptr<store::Store> store_;  // Used on the watcher thread only.

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mutex_)
  std::map<std::string, bool> fetch_soon_;   // GUARDED_BY(mutex_)
  bool stopping_ = false;                    // GUARDED_BY(mutex_)
  std::map<std::string, TimePoint> next_poll_;  // Watcher thread only.
  std::thread thread_;
};

}  // namespace tauon::server
