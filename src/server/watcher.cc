#include "server/watcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "scm/mirror.h"
#include "spec/parser.h"
#include "store/store.h"
#include "util/files.h"
#include "util/strings.h"

namespace tauon::server {
namespace {

namespace fs = std::filesystem;

bool BranchPasses(const std::vector<std::string>& globs, const std::string& branch) {
  if (globs.empty()) return true;
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& glob) { return GlobMatch(glob, branch); });
}

// "https://user:token@host/x" -> "https://host/x"; other URLs and paths as they are.
std::string WithoutCredentials(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t host = scheme + 3;
  size_t path = url.find('/', host);
  size_t at = url.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at == std::string::npos || at < host) return url;
  return url.substr(0, host) + url.substr(at + 1);
}

Status WriteSecret(const fs::path& path, const std::string& secret) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("cannot write {}: {}", path.string(), strerror(errno));
  fchmod(fd, 0600);
  bool ok = write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
  close(fd);
  if (!ok) return Fail("cannot write {}", path.string());
  return Ok();
}

}  // namespace

std::string Watcher::FetchUrl(const store::RepoRecord& repo) const {
  Result<std::string> secret = ReadFileToString(layout_.repo_url_secret(repo.name));
  return secret && !secret->empty() ? *secret : repo.url;
}

Watcher::Watcher(runs::DataLayout layout, Dispatcher& dispatcher)
    : layout_(std::move(layout)), dispatcher_(dispatcher) {}

Watcher::~Watcher() { Stop(); }

void Watcher::Start() { thread_ = std::thread([this] { Loop(); }); }

void Watcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

template <typename T>
T Watcher::OnThread(std::function<T()> task) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Fail("the server is stopping");
    tasks_.push_back([promise, task = std::move(task)] { promise->set_value(task()); });
  }
  wake_.notify_all();
  return result.get();
}

void Watcher::FetchSoon(const std::string& repo) {
  {
    std::lock_guard lock(mutex_);
    fetch_soon_[repo] = true;
  }
  wake_.notify_all();
}

Status Watcher::AddRepo(store::RepoRecord repo, const std::string& webhook_secret) {
  return OnThread<Status>([&, repo]() mutable -> Status {
    // Refused before the mirror is touched: an existing repository keeps its own.
    Result<std::vector<store::RepoRecord>> existing = store_->ListRepos();
    if (!existing) return std::unexpected(existing.error());
    for (const store::RepoRecord& other : *existing) {
      if (other.name == repo.name) return Fail("repository '{}' already exists", repo.name);
    }
    // Credentials in the URL go to a 0600 file, never into the database.
    const std::string url = repo.url;
    repo.url = WithoutCredentials(url);
    Result<std::unique_ptr<scm::Mirror>> mirror = scm::Mirror::Open(layout_.mirror(repo.name), url);
    if (!mirror) return std::unexpected(mirror.error());
    auto remove_mirror = [&] {
      std::error_code ec;
      fs::remove_all(layout_.mirror(repo.name), ec);
    };
    if (Status fetched = (*mirror)->Fetch(); !fetched) {
      remove_mirror();
      return fetched;
    }
    Result<std::map<std::string, std::string>> heads = (*mirror)->Branches();
    if (!heads) {
      remove_mirror();
      return std::unexpected(heads.error());
    }
    if (repo.created_at == TimePoint{}) repo.created_at = clock_.Now();
    if (Status added = store_->AddRepo(repo); !added) {
      remove_mirror();
      return added;
    }
    if (url != repo.url) {
      if (Status written = WriteSecret(layout_.repo_url_secret(repo.name), url); !written) {
        return written;
      }
    }
    if (!webhook_secret.empty()) {
      if (Status written = WriteSecret(layout_.webhook_secret(repo.name), webhook_secret);
          !written) {
        return written;
      }
    }
    next_poll_[repo.name] = clock_.Now() + repo.poll;
    return store_->SetHeads(repo.name, *heads);
  });
}

Result<bool> Watcher::RemoveRepo(const std::string& name) {
  return OnThread<Result<bool>>([&]() -> Result<bool> {
    Result<bool> removed = store_->RemoveRepo(name);
    if (!removed || !*removed) return removed;
    std::error_code ec;
    fs::remove_all(layout_.mirror(name), ec);
    fs::remove(layout_.webhook_secret(name), ec);
    fs::remove(layout_.repo_url_secret(name), ec);
    next_poll_.erase(name);
    return true;
  });
}

Result<int64_t> Watcher::Trigger(const std::string& name, const std::string& ref) {
  return OnThread<Result<int64_t>>([&]() -> Result<int64_t> {
    Result<std::vector<store::RepoRecord>> repos = store_->ListRepos();
    if (!repos) return std::unexpected(repos.error());
    auto repo = std::find_if(repos->begin(), repos->end(),
                             [&](const store::RepoRecord& r) { return r.name == name; });
    if (repo == repos->end()) return Fail("no repository named '{}'", name);
    Result<std::unique_ptr<scm::Mirror>> mirror =
        scm::Mirror::Open(layout_.mirror(repo->name), FetchUrl(*repo));
    if (!mirror) return std::unexpected(mirror.error());
    if (Status fetched = (*mirror)->Fetch(); !fetched) return std::unexpected(fetched.error());
    std::string wanted = ref;
    if (wanted.empty() && !(*mirror)->repository().Resolve("")) {
      // The origin's HEAD names no branch it has: pick the usual default.
      Result<std::map<std::string, std::string>> branches = (*mirror)->Branches();
      if (!branches || branches->empty()) return Fail("repository '{}' has no branches yet", name);
      for (const char* usual : {"main", "master"}) {
        if (branches->contains(usual)) wanted = usual;
      }
      if (wanted.empty() && branches->size() == 1) wanted = branches->begin()->first;
      if (wanted.empty()) {
        return Fail("repository '{}' has no default branch: name one with --ref", name);
      }
    }
    Result<scm::CommitInfo> commit = (*mirror)->repository().Resolve(wanted);
    if (!commit) return std::unexpected(commit.error());
    return Queue(*repo, commit->sha, commit->branch, "manual", "manual",
                 /*only_if_branch_matches=*/false);
  });
}

Result<int64_t> Watcher::Queue(const store::RepoRecord& repo, const std::string& sha,
                               const std::string& branch, const std::string& event,
                               const std::string& trigger, bool only_if_branch_matches) {
  Result<std::unique_ptr<scm::GitRepository>> git =
      scm::GitRepository::Open(layout_.mirror(repo.name));
  if (!git) return std::unexpected(git.error());
  Result<scm::CommitInfo> commit = (*git)->Resolve(sha);
  if (!commit) return std::unexpected(commit.error());
  // The pipeline of that commit decides whether a push of the branch runs
  // and whether older runs are cancelled. A broken pipeline still queues a
  // run, which then fails with the errors: the author must hear of it.
  Result<std::optional<std::string>> source = (*git)->ReadFile(sha, ".tauon.yml");
  if (!source) return std::unexpected(source.error());
  if (!*source) {
    if (only_if_branch_matches) return 0;  // No pipeline on this commit: nothing to run.
    return Fail("commit {} has no .tauon.yml", sha.substr(0, 12));
  }
  auto pipeline = spec::ParsePipeline(**source);
  if (pipeline && only_if_branch_matches && !pipeline->MatchesBranch(branch)) return 0;

  store::RunRecord run;
  run.repo = repo.name;
  run.commit = sha;
  run.branch = branch;
  run.event = event;
  run.pipeline = pipeline ? pipeline->name : "";
  run.message = commit->subject;
  run.author = commit->author;
  run.status = engine::RunStatus::kQueued;
  run.created_at = clock_.Now();
  run.trigger = trigger;
  Result<int64_t> id = store_->CreateRun(run);
  if (!id) return id;
  fmt::print(stderr, "tauon: queued run {}: {} {} @ {}\n", *id, repo.name, branch,
             sha.substr(0, 12));
  if (pipeline && pipeline->cancel_in_progress && !branch.empty()) {
    store::RunFilter older;
    older.repo = repo.name;
    older.branch = branch;
    older.before_id = *id;
    older.limit = 1000;
    for (engine::RunStatus status : {engine::RunStatus::kQueued, engine::RunStatus::kRunning}) {
      older.status = status;
      Result<std::vector<store::RunRecord>> runs = store_->ListRuns(older);
      if (!runs) continue;
      for (const store::RunRecord& old : *runs) {
        fmt::print(stderr, "tauon: run {} superseded by run {}: cancelling it\n", old.id, *id);
        (void)dispatcher_.Cancel(old.id);
      }
    }
  }
  dispatcher_.Poke();
  return id;
}

Status Watcher::Scan(const store::RepoRecord& repo) {
  Result<std::unique_ptr<scm::Mirror>> mirror =
      scm::Mirror::Open(layout_.mirror(repo.name), FetchUrl(repo));
  if (!mirror) return std::unexpected(mirror.error());
  if (Status fetched = (*mirror)->Fetch(); !fetched) return fetched;
  Result<std::map<std::string, std::string>> heads = (*mirror)->Branches();
  if (!heads) return std::unexpected(heads.error());
  Result<std::map<std::string, std::string>> seen = store_->GetHeads(repo.name);
  if (!seen) return std::unexpected(seen.error());
  for (const auto& [branch, sha] : *heads) {
    auto before = seen->find(branch);
    if (before != seen->end() && before->second == sha) continue;
    if (!BranchPasses(repo.branches, branch)) continue;
    Result<int64_t> queued = Queue(repo, sha, branch, "push", "push", /*only_if_branch_matches=*/true);
    if (!queued) {
      fmt::print(stderr, "tauon: {}: cannot queue {} @ {}: {}\n", repo.name, branch,
                 sha.substr(0, 12), queued.error().message);
      continue;
    }
    // Remember the head at once: a crash before the end of the scan must
    // not queue this commit a second time.
    (*seen)[branch] = sha;
    if (Status remembered = store_->SetHeads(repo.name, *seen); !remembered) return remembered;
  }
  // Deleted branches simply disappear from the heads: nothing to run.
  return store_->SetHeads(repo.name, *heads);
}

void Watcher::Loop() {
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout_.database());
  if (!store) {
    fmt::print(stderr, "tauon: watcher: {}\n", store.error().message);
    return;
  }
  store_ = std::move(*store);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    while (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
    std::map<std::string, bool> soon;
    soon.swap(fetch_soon_);
    lock.unlock();
    TimePoint now = clock_.Now();
    TimePoint next_wake = now + Duration(1000);
    Result<std::vector<store::RepoRecord>> repos = store_->ListRepos();
    if (repos) {
      for (const store::RepoRecord& repo : *repos) {
        auto due = next_poll_.find(repo.name);
        if (due == next_poll_.end()) due = next_poll_.emplace(repo.name, now).first;
        if (due->second > now && !soon.contains(repo.name)) {
          next_wake = std::min(next_wake, due->second);
          continue;
        }
        if (Status scanned = Scan(repo); !scanned) {
          fmt::print(stderr, "tauon: {}: {}\n", repo.name, scanned.error().message);
        }
        due->second = clock_.Now() + repo.poll;
        next_wake = std::min(next_wake, due->second);
      }
    }
    lock.lock();
    if (stopping_) break;
    wake_.wait_for(lock, std::max(Duration(0), next_wake - clock_.Now()),
                   [&] { return stopping_ || !tasks_.empty() || !fetch_soon_.empty(); });
  }
  // Tasks posted while stopping get an answer rather than a broken promise.
  while (!tasks_.empty()) {
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace tauon::server
