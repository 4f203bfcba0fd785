#include "server/api.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/models.h"
#include "api/resources.h"
#include "artifacts/artifact_store.h"
#include "history/flaky.h"
#include "history/test_history.h"
#include "runs/log_follower.h"
#include "scm/webhook.h"
#include "server/web.h"
#include "util/files.h"
#include "util/strings.h"

namespace tauon::server {
namespace {

namespace fs = std::filesystem;
using http::ObjectBody;
using http::Request;
using http::Response;
using http::StringField;
using nlohmann::json;

constexpr int kMaxPageSize = 500;

std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(text);
}

bool IsSafeName(std::string_view s) {
  if (s.empty() || s.size() > 100 || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

json RepoJson(const store::RepoRecord& repo, bool has_secret,
              const std::map<std::string, std::string>& heads) {
  return {{"name", repo.name},
          {"url", repo.url},
          {"branches", repo.branches},
          {"poll_ms", repo.poll.count()},
          {"webhook_secret", has_secret},
          {"heads", heads},
          {"created_at", FormatTime(repo.created_at)}};
}

std::string Sse(const std::string& type, const json& data) {
  return fmt::format("event: {}\ndata: {}\n\n", type, api::ToJsonText(data, -1));
}

}  // namespace

Result<std::string> LoadOrCreateToken(const runs::DataLayout& layout, bool* created) {
  *created = false;
  if (fs::exists(layout.token())) {
    Result<std::string> token = ReadFileToString(layout.token());
    if (!token) return token;
    std::string trimmed(Trim(*token));
    if (trimmed.size() < 16) return Fail("{} holds no usable token", layout.token().string());
    return trimmed;
  }
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) return Fail("cannot generate a token");
  std::string token;
  for (unsigned char byte : random) token += fmt::format("{:02x}", byte);
  int fd = open(layout.token().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("cannot create {}: {}", layout.token().string(), strerror(errno));
  std::string line = token + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  fsync(fd);
  close(fd);
  if (!ok) return Fail("cannot write {}", layout.token().string());
  *created = true;
  return token;
}

Api::Api(runs::DataLayout layout, Dispatcher& dispatcher, Watcher& watcher, std::string token)
    : layout_(std::move(layout)),
      dispatcher_(dispatcher),
      watcher_(watcher),
      token_(std::move(token)) {}

Result<store::Store*> Api::Store() {
  if (!store_) {
    Result<std::unique_ptr<store::Store>> opened = store::Store::Open(layout_.database());
    if (!opened) return std::unexpected(opened.error());
    store_ = std::move(*opened);
  }
  return store_.get();
}

http::Handler RequireToken(const std::string& token, http::Handler handler) {
  return [token, handler = std::move(handler)](const Request& request) {
    std::optional<std::string> header = request.headers.Get("Authorization");
    std::string_view given = header ? std::string_view(*header) : std::string_view();
    bool ok = given.starts_with("Bearer ");
    if (ok) {
      given.remove_prefix(7);
      // Constant time for equal lengths; the length of a token is no secret.
      ok = given.size() == token.size() && CRYPTO_memcmp(given.data(), token.data(), given.size()) == 0;
    }
    if (!ok) {
      Response denied = Response::Error(
          401, "missing or wrong API token: send 'Authorization: Bearer TOKEN' (the token is in "
               "the server's data directory, file 'token')");
      denied.headers.Set("WWW-Authenticate", "Bearer");
      return denied;
    }
    return handler(request);
  };
}

http::Handler Api::Authenticated(Response (Api::*handler)(const Request&)) {
  return RequireToken(token_, [this, handler](const Request& request) {
    return (this->*handler)(request);
  });
}

void Api::Register(http::Server& server) {
  server.Route("GET", "/healthz", [](const Request&) {
    return Response::Json(200, {{"status", "ok"}});
  });
  server.Route("GET", "/metrics", Authenticated(&Api::Metrics));
  server.Route("GET", "/api/v1/repos", Authenticated(&Api::Repos));
  server.Route("POST", "/api/v1/repos", Authenticated(&Api::AddRepo));
  server.Route("DELETE", "/api/v1/repos/{name}", Authenticated(&Api::RemoveRepo));
  server.Route("GET", "/api/v1/repos/{name}/flaky-tests", Authenticated(&Api::FlakyTests));
  server.Route("GET", "/api/v1/repos/{name}/test-ranking", Authenticated(&Api::TestRanking));
  server.Route("GET", "/api/v1/runs", Authenticated(&Api::Runs));
  server.Route("POST", "/api/v1/runs", Authenticated(&Api::Trigger));
  server.Route("GET", "/api/v1/runs/{id}", Authenticated(&Api::Run));
  server.Route("GET", "/api/v1/runs/{id}/tests", Authenticated(&Api::Tests));
  server.Route("GET", "/api/v1/runs/{id}/artifacts", Authenticated(&Api::Artifacts));
  server.Route("GET", "/api/v1/runs/{id}/artifacts/{path...}", Authenticated(&Api::Artifact));
  server.Route("POST", "/api/v1/runs/{id}/cancel", Authenticated(&Api::Cancel));
  server.Route("POST", "/api/v1/runs/{id}/rerun", Authenticated(&Api::Rerun));
  server.Route("GET", "/api/v1/runs/{id}/logs", Authenticated(&Api::Logs));
  server.Route("GET", "/api/v1/runs/{id}/tests/history", Authenticated(&Api::TestHistory));
  server.Route("GET", "/api/v1/branches", Authenticated(&Api::Branches));
  server.Route("GET", "/api/v1/stats/runs", Authenticated(&Api::RunStats));
  server.Route("GET", "/api/v1/models", Authenticated(&Api::Models));
  server.Route("GET", "/api/v1/models/diff", Authenticated(&Api::ModelDiff));
  server.Route("GET", "/api/v1/models/{model}", Authenticated(&Api::Model));
  server.Route("GET", "/api/v1/models/{model}/lineage", Authenticated(&Api::ModelLineage));
  server.Route("POST", "/api/v1/models/{model}/aliases", Authenticated(&Api::ModelAlias));
  server.Route("POST", "/api/v1/hooks/github",
               [this](const Request& r) { return Webhook(scm::Forge::kGitHub, r); });
  server.Route("POST", "/api/v1/hooks/gitlab",
               [this](const Request& r) { return Webhook(scm::Forge::kGitLab, r); });
  server.Route("POST", "/api/v1/hooks/gitea",
               [this](const Request& r) { return Webhook(scm::Forge::kGitea, r); });
  // Everything else: the dashboard's files and client-side routes.
  server.Fallback([](const Request& r) { return ServeDashboard(r); });
}

Response Api::Repos(const Request&) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::vector<store::RepoRecord>> repos = (*store)->ListRepos();
  if (!repos) return Response::Error(500, repos.error().message);
  json list = json::array();
  for (const store::RepoRecord& repo : *repos) {
    Result<std::map<std::string, std::string>> heads = (*store)->GetHeads(repo.name);
    list.push_back(RepoJson(repo, fs::exists(layout_.webhook_secret(repo.name)),
                            heads ? *heads : std::map<std::string, std::string>{}));
  }
  return Response::Json(200, {{"repos", list}});
}

Response Api::AddRepo(const Request& request) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> name = StringField(*body, "name", &error);
  if (!name) return error;
  std::optional<std::string> url = StringField(*body, "url", &error);
  if (!url) return error;
  std::optional<std::string> poll = StringField(*body, "poll", &error, "10s");
  if (!poll) return error;
  std::optional<std::string> secret = StringField(*body, "webhook_secret", &error, "");
  if (!secret) return error;
  if (!IsSafeName(*name)) {
    return Response::Error(400, "invalid repository name: use letters, digits, '_', '-' and '.'");
  }
  if (Trim(*url).empty()) return Response::Error(400, "'url' must not be empty");
  store::RepoRecord repo;
  repo.name = *name;
  repo.url = *url;
  Result<Duration> interval = ParseDuration(*poll);
  if (!interval) return Response::Error(400, "'poll': " + interval.error().message);
  if (*interval < Duration(1000)) return Response::Error(400, "'poll' must be at least 1s");
  repo.poll = *interval;
  repo.created_at = SystemClock().Now();
  if (auto branches = body->find("branches"); branches != body->end() && !branches->is_null()) {
    if (!branches->is_array()) return Response::Error(400, "'branches' must be a list of globs");
    for (const json& glob : *branches) {
      if (!glob.is_string() || glob.get<std::string>().empty()) {
        return Response::Error(400, "'branches' must be a list of non-empty strings");
      }
      repo.branches.push_back(glob.get<std::string>());
    }
  }
  Status added = watcher_.AddRepo(repo, *secret);
  if (!added) {
    int status = added.error().message.find("already exists") != std::string::npos ? 409 : 400;
    return Response::Error(status, added.error().message);
  }
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::map<std::string, std::string>> heads = (*store)->GetHeads(repo.name);
  return Response::Json(201, RepoJson(repo, !secret->empty(),
                                      heads ? *heads : std::map<std::string, std::string>{}));
}

Response Api::RemoveRepo(const Request& request) {
  Result<bool> removed = watcher_.RemoveRepo(request.params.at("name"));
  if (!removed) return Response::Error(500, removed.error().message);
  if (!*removed) {
    return Response::Error(404, fmt::format("no repository named '{}'", request.params.at("name")));
  }
  return Response::Json(200, {{"removed", request.params.at("name")}});
}

Response Api::Runs(const Request& request) {
  store::RunFilter filter;
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = request.query.find(name);
    if (it == request.query.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  filter.repo = get("repo");
  filter.branch = get("branch");
  if (std::optional<std::string> status = get("status")) {
    filter.status = engine::ParseRunStatus(*status);
    if (!filter.status) {
      return Response::Error(400, fmt::format("invalid status '{}': expected queued, running, "
                                              "success, failed, cancelled or interrupted",
                                              *status));
    }
  }
  if (std::optional<std::string> limit = get("limit")) {
    std::optional<int64_t> n = ParseId(*limit);
    if (!n || *n < 1 || *n > kMaxPageSize) {
      return Response::Error(400, fmt::format("invalid limit '{}': expected 1 to {}", *limit,
                                              kMaxPageSize));
    }
    filter.limit = static_cast<int>(*n);
  }
  if (std::optional<std::string> before = get("before")) {
    filter.before_id = ParseId(*before);
    if (!filter.before_id) return Response::Error(400, fmt::format("invalid before '{}'", *before));
  }
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::vector<store::RunRecord>> runs = (*store)->ListRuns(filter);
  if (!runs) return Response::Error(500, runs.error().message);
  json list = json::array();
  for (const store::RunRecord& run : *runs) list.push_back(api::RunSummaryJson(run));
  json next = runs->size() == static_cast<size_t>(filter.limit) ? json(runs->back().id) : json();
  return Response::Json(200, {{"runs", list}, {"next_before", next}});
}

Response Api::Trigger(const Request& request) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> repo = StringField(*body, "repo", &error);
  if (!repo) return error;
  std::optional<std::string> ref = StringField(*body, "ref", &error, "");
  if (!ref) return error;
  Result<int64_t> id = watcher_.Trigger(*repo, *ref);
  if (!id) {
    int status = id.error().message.starts_with("no repository named") ? 404 : 400;
    return Response::Error(status, id.error().message);
  }
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::optional<store::RunRecord>> run = (*store)->GetRun(*id);
  if (!run || !*run) return Response::Error(500, "the queued run cannot be read");
  return Response::Json(201, api::RunSummaryJson(**run));
}

Response Api::Run(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<json> run = api::RunJson(**store, *id);
  if (!run) return Response::Error(404, run.error().message);
  return Response::Json(200, *run);
}

Response Api::Tests(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::optional<store::RunRecord>> run = (*store)->GetRun(*id);
  if (!run || !*run) return Response::Error(404, fmt::format("no run {}", *id));
  Result<std::vector<store::JobRecord>> jobs = (*store)->GetJobs(*id);
  Result<std::vector<store::TestRecord>> tests = (*store)->GetRunTestResults(*id);
  Result<std::map<int64_t, std::map<std::string, history::FlakyEvidence>>> known_flaky =
      history::KnownFlakyFailures((*store)->database(), *id);
  if (!jobs || !tests || !known_flaky) return Response::Error(500, "cannot read the test results");
  std::map<std::string, const store::JobRecord*> latest;  // Rows come in attempt order.
  for (const store::JobRecord& job : *jobs) latest[job.name] = &job;
  std::map<int64_t, std::string> job_names;
  for (const auto& [name, job] : latest) job_names[job->id] = name;
  json list = json::array();
  for (const store::TestRecord& test : *tests) {
    auto job = job_names.find(test.job_id);
    if (job == job_names.end()) continue;  // An earlier attempt.
    json known = nullptr;     // Why a failure is a known-flaky one.
    json evidence = nullptr;  // And what shows it.
    if (auto j = known_flaky->find(test.job_id); j != known_flaky->end()) {
      if (auto t = j->second.find(history::TestId(test.classname, test.name)); t != j->second.end()) {
        known = t->second.reason;
        evidence = api::FlakyEvidenceJson(t->second);
      }
    }
    list.push_back({{"job", job->second},
                    {"suite", test.suite},
                    {"classname", test.classname},
                    {"name", test.name},
                    {"status", test.status},
                    {"flaky", test.flaky},
                    {"known_flaky", known},
                    {"flaky_evidence", evidence},
                    {"duration_ms", test.duration_ms},
                    {"message", test.message},
                    {"details", test.details}});
  }
  // Failures first: that is what people look for.
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    auto rank = [](const json& t) {
      std::string s = t["status"].get<std::string>();
      return s == "failed" || s == "error" ? 0 : s == "skipped" ? 2 : 1;
    };
    return rank(a) < rank(b);
  });
  return Response::Json(200, {{"tests", list}});
}

Response Api::Artifacts(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<json> run = api::RunJson(**store, *id);
  if (!run) return Response::Error(404, run.error().message);
  return Response::Json(200, {{"artifacts", api::RunArtifactsJson(*run)}});
}

Response Api::Artifact(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<json> run = api::RunJson(**store, *id);
  if (!run) return Response::Error(404, run.error().message);
  // Looked up by exact name among the run's artifacts: the path never
  // reaches the file system.
  const std::string& path = request.params.at("path");
  auto job = request.query.find("job");
  std::vector<json> matches;
  for (const json& artifact : api::RunArtifactsJson(*run)) {
    if (artifact["path"] != path) continue;
    if (job != request.query.end() && artifact["job"] != job->second) continue;
    matches.push_back(artifact);
  }
  if (matches.empty()) return Response::Error(404, fmt::format("run {} has no artifact '{}'", *id, path));
  if (matches.size() > 1) {
    return Response::Error(409, fmt::format("several jobs stored '{}': add ?job=NAME", path));
  }
  artifacts::ArtifactStore blobs(layout_.artifacts());
  Result<fs::path> blob = blobs.PathOf(matches[0]["digest"].get<std::string>());
  if (!blob) return Response::Error(500, blob.error().message);
  Result<std::string> content = ReadFileToString(*blob);
  if (!content) return Response::Error(500, "the artifact's content is missing from the store");
  Response response = Response::Text(200, std::move(*content), "application/octet-stream");
  std::string file = fs::path(path).filename().string();
  response.headers.Set("Content-Disposition",
                       fmt::format("attachment; filename=\"{}\"", http::PercentEncode(file)));
  response.headers.Set("X-Tauon-Digest", matches[0]["digest"].get<std::string>());
  return response;
}

Response Api::Cancel(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::optional<store::RunRecord>> run = (*store)->GetRun(*id);
  if (!run || !*run) return Response::Error(404, fmt::format("no run {}", *id));
  Result<bool> cancelled = dispatcher_.Cancel(*id);
  if (!cancelled) return Response::Error(500, cancelled.error().message);
  if (!*cancelled) {
    if ((*run)->status == engine::RunStatus::kRunning) {
      return Response::Error(409, fmt::format("run {} is being executed by another tauon process "
                                              "('tauon run'), not this server: stop it there",
                                              *id));
    }
    return Response::Error(409, fmt::format("run {} is {}: only queued and running runs can be "
                                            "cancelled",
                                            *id, engine::Name((*run)->status)));
  }
  return Response::Json(202, {{"id", *id}, {"cancelling", true}});
}

Response Api::Rerun(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  bool failed_only = false;
  if (auto failed = body->find("failed"); failed != body->end()) {
    if (!failed->is_boolean()) return Response::Error(400, "'failed' must be true or false");
    failed_only = failed->get<bool>();
  }
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::optional<store::RunRecord>> run = (*store)->GetRun(*id);
  if (!run || !*run) return Response::Error(404, fmt::format("no run {}", *id));
  if (!IsTerminal((*run)->status)) {
    return Response::Error(409, fmt::format("run {} is still {}: cancel it or wait for it", *id,
                                            engine::Name((*run)->status)));
  }
  if ((*run)->trigger == "local") {
    return Response::Error(409, fmt::format("run {} was made by 'tauon run' on a repository this "
                                            "server does not watch: run it again there",
                                            *id));
  }
  store::RunRecord again = **run;
  again.status = engine::RunStatus::kQueued;
  again.error.clear();
  again.started_at.reset();
  again.finished_at.reset();
  again.owner.clear();
  again.created_at = SystemClock().Now();
  again.rerun_of = *id;
  again.trigger = "rerun";
  again.reuse_succeeded = failed_only;
  Result<int64_t> new_id = (*store)->CreateRun(again);
  if (!new_id) return Response::Error(500, new_id.error().message);
  dispatcher_.Poke();
  again.id = *new_id;
  return Response::Json(201, api::RunSummaryJson(again));
}

Response Api::Logs(const Request& request) {
  std::optional<int64_t> id = ParseId(request.params.at("id"));
  if (!id) return Response::Error(400, "invalid run id");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  auto follower = std::make_shared<runs::LogFollower>(**store, layout_.root(), *id);
  bool finished = false;
  Result<std::vector<runs::LogFollower::Event>> first = follower->Poll(&finished);
  if (!first) return Response::Error(404, first.error().message);
  auto follow = request.query.find("follow");
  if (follow == request.query.end() || (follow->second != "1" && follow->second != "true")) {
    json events = json::array();
    for (const auto& event : *first) events.push_back({{"type", event.type}, {"data", event.data}});
    return Response::Json(200, {{"events", events}, {"finished", finished}});
  }
  // Server-Sent Events: everything so far, then what comes, until the run ends.
  auto pending = std::make_shared<std::string>();
  for (const auto& event : *first) *pending += Sse(event.type, event.data);
  auto done = std::make_shared<bool>(finished);
  auto ended = std::make_shared<bool>(false);
  auto idle_polls = std::make_shared<int>(0);
  Response response;
  response.headers.Set("Content-Type", "text/event-stream");
  response.stream = [follower, pending, done, ended, idle_polls]() -> std::optional<std::string> {
    if (*ended) return std::nullopt;
    std::string out = std::move(*pending);
    pending->clear();
    if (!*done) {
      Result<std::vector<runs::LogFollower::Event>> events = follower->Poll(done.get());
      if (!events) {
        *ended = true;
        return out + Sse("error", {{"error", events.error().message}});
      }
      for (const auto& event : *events) out += Sse(event.type, event.data);
    }
    if (*done) {
      *ended = true;
      return out + Sse("end", json::object());
    }
    // A comment after 15 s of silence keeps proxies from closing the stream.
    if (!out.empty()) {
      *idle_polls = 0;
    } else if (++*idle_polls >= 150) {
      *idle_polls = 0;
      out = ": keep-alive\n\n";
    }
    return out;
  };
  return response;
}

Response Api::Webhook(scm::Forge forge, const Request& request) {
  const char* event_header = forge == scm::Forge::kGitHub   ? "X-GitHub-Event"
                             : forge == scm::Forge::kGitLab ? "X-Gitlab-Event"
                                                            : "X-Gitea-Event";
  std::optional<std::string> kind = request.headers.Get(event_header);
  Result<scm::WebhookEvent> event = scm::ParseWebhook(forge, kind.value_or(""), request.body);
  if (!event) return Response::Error(400, event.error().message);
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::vector<store::RepoRecord>> repos = (*store)->ListRepos();
  if (!repos) return Response::Error(500, repos.error().message);
  // A repository whose URL the payload names exactly wins over one whose
  // path merely ends in the payload's "owner/name".
  auto repo = std::find_if(repos->begin(), repos->end(), [&](const store::RepoRecord& r) {
    const std::string url = scm::NormalizeRepository(r.url);
    return std::find(event->repository.begin(), event->repository.end(), url) !=
           event->repository.end();
  });
  if (repo == repos->end()) {
    repo = std::find_if(repos->begin(), repos->end(), [&](const store::RepoRecord& r) {
      return scm::WebhookNamesRepository(*event, r.url);
    });
  }
  if (repo == repos->end()) {
    return Response::Error(404, "the webhook's repository is not registered with this server");
  }
  Result<std::string> secret = ReadFileToString(layout_.webhook_secret(repo->name));
  if (!secret || secret->empty()) {
    return Response::Error(401, fmt::format("repository '{}' has no webhook secret: add it with "
                                            "'tauon repo add ... --webhook-secret-file F'",
                                            repo->name));
  }
  bool valid = false;
  if (forge == scm::Forge::kGitHub) {
    valid = scm::VerifyGitHubSignature(*secret, request.body,
                                       request.headers.Get("X-Hub-Signature-256").value_or(""));
  } else if (forge == scm::Forge::kGitLab) {
    valid = scm::VerifyGitLabToken(*secret, request.headers.Get("X-Gitlab-Token").value_or(""));
  } else {
    std::optional<std::string> gitea = request.headers.Get("X-Gitea-Signature");
    valid = gitea ? scm::VerifyGiteaSignature(*secret, request.body, *gitea)
                  : scm::VerifyGitHubSignature(
                        *secret, request.body,
                        request.headers.Get("X-Hub-Signature-256").value_or(""));
  }
  if (!valid) return Response::Error(401, "webhook signature does not match the repository's secret");
  if (event->kind == "ping") return Response::Json(200, {{"repo", repo->name}, {"pong", true}});
  if (event->kind != "push") {
    return Response::Json(200, {{"repo", repo->name}, {"ignored", event->kind}});
  }
  // The payload only says "fetch now": what runs comes from the fetch.
  watcher_.FetchSoon(repo->name);
  return Response::Json(202, {{"repo", repo->name}, {"fetching", true}});
}

namespace {

Response Answered(const api::Answer<json>& answer, int status = 200) {
  if (!answer) return Response::Error(answer.error().status, answer.error().message);
  return Response::Json(status, *answer);
}

}  // namespace

Response Api::Models(const Request&) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  api::Answer<json> list = api::ModelsJson(**store);
  if (!list) return Answered(list);
  return Response::Json(200, {{"models", *list}});
}

Response Api::Model(const Request& request) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  return Answered(api::ModelJson(**store, request.params.at("model")));
}

Response Api::ModelLineage(const Request& request) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  return Answered(api::ModelLineageJson(**store, request.params.at("model")));
}

Response Api::ModelAlias(const Request& request) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> alias = StringField(*body, "alias", &error);
  if (!alias) return error;
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  // The admin token is the only token: actions through the API are the admin's.
  return Answered(api::SetModelAliasJson(**store, request.params.at("model"), *alias, "admin",
                                         SystemClock().Now()));
}

Response Api::ModelDiff(const Request& request) {
  auto a = request.query.find("a");
  auto b = request.query.find("b");
  if (a == request.query.end() || b == request.query.end()) {
    return Response::Error(400, "give the two sides as ?a=NAME@VERSION&b=NAME@VERSION (or run:ID)");
  }
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  return Answered(api::ModelDiffJson(**store, a->second, b->second));
}

Response Api::Metrics(const Request&) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::map<std::string, int64_t>> counts = (*store)->CountRunsByStatus();
  static const std::vector<int64_t> kBucketsMs = {100,    500,     1000,    5000,    10'000,
                                                  30'000, 60'000, 300'000, 900'000, 3'600'000};
  Result<store::Store::DurationHistogram> durations =
      (*store)->JobDurationHistogram(kBucketsMs);
  if (!counts || !durations) return Response::Error(500, "cannot read the metrics");
  std::string out;
  out += "# HELP tauon_runs Runs in the store, by status.\n# TYPE tauon_runs gauge\n";
  for (std::string_view status :
       {"queued", "running", "success", "failed", "cancelled", "interrupted"}) {
    auto it = counts->find(std::string(status));
    out += fmt::format("tauon_runs{{status=\"{}\"}} {}\n", status,
                       it == counts->end() ? 0 : it->second);
  }
  auto queued = counts->find("queued");
  out += "# HELP tauon_run_queue_length Runs waiting to start.\n";
  out += "# TYPE tauon_run_queue_length gauge\n";
  out += fmt::format("tauon_run_queue_length {}\n", queued == counts->end() ? 0 : queued->second);
  out += "# HELP tauon_job_slots Job slots of the executor (--max-jobs).\n";
  out += "# TYPE tauon_job_slots gauge\n";
  out += fmt::format("tauon_job_slots {}\n", dispatcher_.max_jobs());
  out += "# HELP tauon_job_slots_busy Job slots in use.\n# TYPE tauon_job_slots_busy gauge\n";
  out += fmt::format("tauon_job_slots_busy {}\n", dispatcher_.busy_slots());
  out += "# HELP tauon_job_duration_seconds Duration of finished job attempts.\n";
  out += "# TYPE tauon_job_duration_seconds histogram\n";
  for (size_t i = 0; i < kBucketsMs.size(); ++i) {
    out += fmt::format("tauon_job_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       static_cast<double>(kBucketsMs[i]) / 1000.0, durations->counts[i]);
  }
  out += fmt::format("tauon_job_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", durations->count);
  out += fmt::format("tauon_job_duration_seconds_sum {}\n",
                     static_cast<double>(durations->sum_ms) / 1000.0);
  out += fmt::format("tauon_job_duration_seconds_count {}\n", durations->count);
  for (const auto& more : more_metrics_) out += more();
  return Response::Text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace tauon::server
