#include "store/store.h"

#include <nlohmann/json.hpp>

#include <map>

#include "store/rows.h"
#include "util/strings.h"

namespace tauon::store {
namespace {

// Schema migrations, applied in order; PRAGMA user_version counts those applied.
// Append only: a released migration never changes.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  branch TEXT NOT NULL DEFAULT '',
  event TEXT NOT NULL,
  pipeline TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX runs_by_repo_branch ON runs(repo, branch, id);
CREATE INDEX runs_by_status ON runs(status, id);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  needs TEXT NOT NULL DEFAULT '[]',
  error TEXT NOT NULL DEFAULT '',
  warnings TEXT NOT NULL DEFAULT '[]',
  started_at TEXT,
  finished_at TEXT,
  duration_ms INTEGER,
  UNIQUE (run_id, name, attempt)
);
CREATE INDEX jobs_by_run ON jobs(run_id);
CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER,
  error TEXT NOT NULL DEFAULT '',
  started_at TEXT,
  finished_at TEXT,
  duration_ms INTEGER,
  log_path TEXT NOT NULL DEFAULT '',
  UNIQUE (job_id, position)
);
CREATE TABLE test_results (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  suite TEXT NOT NULL,
  classname TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  flaky INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX test_results_by_job ON test_results(job_id);
CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  digest TEXT NOT NULL,
  mode INTEGER NOT NULL,
  UNIQUE (job_id, path)
);
)sql",
    // 2: who runs a run, and the process groups it started, for crash recovery.
    R"sql(
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE TABLE processes (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  pgid INTEGER NOT NULL,
  leader TEXT NOT NULL
);
CREATE INDEX processes_by_run ON processes(run_id, pgid);
)sql",
    // 3: the server: registered repositories, the branch heads seen, reruns.
    R"sql(
CREATE TABLE repos (
  name TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  branches TEXT NOT NULL DEFAULT '[]',
  poll_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE repo_heads (
  repo TEXT NOT NULL REFERENCES repos(name) ON DELETE CASCADE,
  branch TEXT NOT NULL,
  sha TEXT NOT NULL,
  PRIMARY KEY (repo, branch)
);
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE runs ADD COLUMN rerun_of INTEGER REFERENCES runs(id);
ALTER TABLE runs ADD COLUMN reuse_succeeded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN reused_from INTEGER;
)sql",
    // 4: model delivery: metrics and gate results of jobs, the model registry.
    R"sql(
CREATE TABLE job_metrics (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (job_id, name)
);
CREATE TABLE gate_results (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  expression TEXT NOT NULL,
  verdict TEXT NOT NULL,
  used TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX gate_results_by_job ON gate_results(job_id);
CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  digest TEXT NOT NULL,
  repo TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  branch TEXT NOT NULL,
  author TEXT NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  files TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (name, version)
);
CREATE TABLE model_aliases (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  set_at TEXT NOT NULL,
  set_by TEXT NOT NULL
);
CREATE INDEX model_aliases_by_name ON model_aliases(name, alias, id);
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE TABLE environments (
  name TEXT PRIMARY KEY,
  repo TEXT NOT NULL,
  port INTEGER NOT NULL UNIQUE,
  desired_release INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  environment TEXT NOT NULL REFERENCES environments(name),
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  repo TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  source TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  replicas INTEGER NOT NULL,
  phase TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  live_at TEXT,
  finished_at TEXT
);
CREATE INDEX releases_by_environment ON releases(environment, id);
CREATE TABLE replica_processes (
  release_id INTEGER NOT NULL REFERENCES releases(id),
  replica TEXT NOT NULL,
  pgid INTEGER NOT NULL,
  leader TEXT NOT NULL,
  PRIMARY KEY (release_id, replica)
);
CREATE TABLE deploy_events (
  id INTEGER PRIMARY KEY,
  environment TEXT NOT NULL,
  release_id INTEGER,
  what TEXT NOT NULL,
  why TEXT NOT NULL,
  who TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX deploy_events_by_environment ON deploy_events(environment, id);
)sql",
    R"sql(
CREATE TABLE analysis_results (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES releases(id),
  interval INTEGER NOT NULL,
  at TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  canary_requests INTEGER NOT NULL,
  checks TEXT NOT NULL
);
CREATE INDEX analysis_results_by_release ON analysis_results(release_id, id);
)sql",
    // 7: test history (src/history): why a failure is a known-flaky one (''
    // for a real failure), and the files each run's commit changed.
    R"sql(
ALTER TABLE test_results ADD COLUMN known_flaky TEXT NOT NULL DEFAULT '';
CREATE TABLE run_changed_files (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  PRIMARY KEY (run_id, path)
);
)sql",
    // 8: versions waiting for `tauon promote` in an `approval: manual` environment.
    R"sql(
CREATE TABLE pending_promotions (
  environment TEXT PRIMARY KEY,
  model TEXT NOT NULL
);
)sql",
    // 9: the evidence of a known-flaky failure (src/history/flaky.h), JSON
    // {"runs": [...], "commits": [...]}; '' for a real failure.
    R"sql(
ALTER TABLE test_results ADD COLUMN known_flaky_evidence TEXT NOT NULL DEFAULT '';
)sql",
};

std::vector<std::string> JsonStrings(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

constexpr std::string_view kRunColumns =
    "id, repo, commit_sha, branch, event, pipeline, message, author, status, error, created_at, "
    "started_at, finished_at, owner, rerun_of, trigger, reuse_succeeded, source";

RunRecord ReadRun(const Statement& row) {
  RunRecord run;
  run.id = row.Int(0);
  run.repo = row.Text(1);
  run.commit = row.Text(2);
  run.branch = row.Text(3);
  run.event = row.Text(4);
  run.pipeline = row.Text(5);
  run.message = row.Text(6);
  run.author = row.Text(7);
  run.status = engine::ParseRunStatus(row.Text(8)).value_or(engine::RunStatus::kFailed);
  run.error = row.Text(9);
  run.created_at = TimeColumn(row, 10).value_or(TimePoint{});
  run.started_at = TimeColumn(row, 11);
  run.finished_at = TimeColumn(row, 12);
  run.owner = row.Text(13);
  run.rerun_of = row.OptionalInt(14);
  run.trigger = row.Text(15);
  run.reuse_succeeded = row.Int(16) != 0;
  run.source = row.Text(17);
  return run;
}


}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& path) {
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  if (!db) return std::unexpected(db.error());
  std::unique_ptr<Store> store(new Store(std::move(*db)));
  if (Status migrated = store->Migrate(); !migrated) {
    return Fail("cannot prepare database {}: {}", path.string(), migrated.error().message);
  }
  return store;
}

Status Store::Migrate() {
  auto version_of = [&]() -> Result<int64_t> {
    Result<Statement> query = db_->Prepare("PRAGMA user_version");
    if (!query) return std::unexpected(query.error());
    if (Result<bool> row = query->Step(); !row) return std::unexpected(row.error());
    return query->Int(0);
  };
  Result<int64_t> version = version_of();
  if (!version) return std::unexpected(version.error());
  constexpr int64_t kLatest = std::size(kMigrations);
  if (*version == kLatest) return Ok();
  if (*version > kLatest) {
    return Fail("the database has schema version {}, newer than this tauon ({}): upgrade tauon",
                *version, kLatest);
  }
  // Another process may be migrating at the same time: re-check inside the
  // write transaction.
  return db_->Transaction([&]() -> Status {
    Result<int64_t> current = version_of();
    if (!current) return std::unexpected(current.error());
    for (int64_t v = *current; v < kLatest; ++v) {
      if (Status ok = db_->Execute(kMigrations[v]); !ok) return ok;
    }
    return db_->Execute(fmt::format("PRAGMA user_version = {}", kLatest));
  });
}

Result<int64_t> Store::CreateRun(const RunRecord& run) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO runs (repo, commit_sha, branch, event, pipeline, message, author, status, "
      "error, created_at, started_at, finished_at, owner, rerun_of, trigger, reuse_succeeded, "
      "source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  insert->Bind(1, run.repo)
      .Bind(2, run.commit)
      .Bind(3, run.branch)
      .Bind(4, run.event)
      .Bind(5, run.pipeline)
      .Bind(6, run.message)
      .Bind(7, run.author)
      .Bind(8, Name(run.status))
      .Bind(9, run.error)
      .Bind(10, FormatTime(run.created_at))
      .Bind(11, TimeText(run.started_at))
      .Bind(12, TimeText(run.finished_at))
      .Bind(13, run.owner)
      .Bind(14, run.rerun_of)
      .Bind(15, run.trigger)
      .Bind(16, run.reuse_succeeded ? 1 : 0)
      .Bind(17, run.source);
  if (Status ok = insert->Run(); !ok) return std::unexpected(ok.error());
  return db_->LastInsertId();
}

Status Store::SetRunSource(int64_t run_id, const std::string& source) {
  Result<Statement> update = db_->Prepare("UPDATE runs SET source = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, source).Bind(2, run_id).Run();
}

Status Store::StartRun(int64_t run_id, TimePoint at, const std::string& owner) {
  Result<Statement> update = db_->Prepare(
      "UPDATE runs SET status = 'running', started_at = ?, owner = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, FormatTime(at)).Bind(2, owner).Bind(3, run_id).Run();
}

Status Store::CancelQueuedRun(int64_t run_id, TimePoint at, const std::string& why,
                              bool* cancelled) {
  Result<Statement> update = db_->Prepare(
      "UPDATE runs SET status = 'cancelled', finished_at = ?, error = ? WHERE id = ? AND status = "
      "'queued'");
  if (!update) return std::unexpected(update.error());
  if (Status ok = update->Bind(1, FormatTime(at)).Bind(2, why).Bind(3, run_id).Run(); !ok) {
    return ok;
  }
  *cancelled = db_->Changes() > 0;
  if (!*cancelled) return Ok();
  Result<Statement> jobs = db_->Prepare(
      "UPDATE jobs SET status = 'cancelled', error = ? WHERE run_id = ? AND status = 'pending'");
  if (!jobs) return std::unexpected(jobs.error());
  return jobs->Bind(1, why).Bind(2, run_id).Run();
}

Status Store::AddProcess(int64_t run_id, int pgid, const std::string& leader) {
  Result<Statement> insert =
      db_->Prepare("INSERT INTO processes (run_id, pgid, leader) VALUES (?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, run_id).Bind(2, pgid).Bind(3, leader).Run();
}

Status Store::RemoveProcess(int64_t run_id, int pgid) {
  Result<Statement> remove = db_->Prepare("DELETE FROM processes WHERE run_id = ? AND pgid = ?");
  if (!remove) return std::unexpected(remove.error());
  return remove->Bind(1, run_id).Bind(2, pgid).Run();
}

Result<std::vector<std::pair<int, std::string>>> Store::GetProcesses(int64_t run_id) {
  Result<Statement> query =
      db_->Prepare("SELECT pgid, leader FROM processes WHERE run_id = ? ORDER BY id");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  return Collect<std::pair<int, std::string>>(*query, [](const Statement& row) {
    return std::pair(static_cast<int>(row.Int(0)), row.Text(1));
  });
}

Status Store::InterruptRun(int64_t run_id, TimePoint at, const std::string& why) {
  return db_->Transaction([&]() -> Status {
    for (const char* sql :
         {"UPDATE steps SET status = 'cancelled', error = ?2, finished_at = ?3 WHERE status = "
          "'running' AND job_id IN (SELECT id FROM jobs WHERE run_id = ?1)",
          "UPDATE jobs SET status = 'cancelled', error = ?2, finished_at = CASE WHEN started_at "
          "IS NULL THEN NULL ELSE ?3 END WHERE run_id = ?1 AND status IN ('pending', 'running')",
          "UPDATE runs SET status = 'interrupted', error = ?2, finished_at = ?3 WHERE id = ?1",
          "DELETE FROM processes WHERE run_id = ?1"}) {
      Result<Statement> update = db_->Prepare(sql);
      if (!update) return std::unexpected(update.error());
      if (Status ok = update->Bind(1, run_id).Bind(2, why).Bind(3, FormatTime(at)).Run(); !ok) {
        return ok;
      }
    }
    return Ok();
  });
}

Status Store::FinishRun(int64_t run_id, engine::RunStatus status, TimePoint at,
                        const std::string& error) {
  Result<Statement> update =
      db_->Prepare("UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, Name(status)).Bind(2, FormatTime(at)).Bind(3, error).Bind(4, run_id).Run();
}

Result<std::optional<RunRecord>> Store::GetRun(int64_t run_id) {
  Result<Statement> query =
      db_->Prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<RunRecord>();
  return std::optional<RunRecord>(ReadRun(*query));
}

Result<std::optional<int64_t>> Store::LatestRunId() {
  Result<Statement> query = db_->Prepare("SELECT max(id) FROM runs");
  if (!query) return std::unexpected(query.error());
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  return query->OptionalInt(0);
}

Result<std::vector<RunRecord>> Store::ListRuns(const RunFilter& filter) {
  std::string sql = fmt::format("SELECT {} FROM runs WHERE 1", kRunColumns);
  if (filter.repo) sql += " AND repo = :repo";
  if (filter.branch) sql += " AND branch = :branch";
  if (filter.status) sql += " AND status = :status";
  if (filter.before_id) sql += filter.oldest_first ? " AND id > :before" : " AND id < :before";
  sql += filter.oldest_first ? " ORDER BY id ASC LIMIT :limit" : " ORDER BY id DESC LIMIT :limit";
  Result<Statement> query = db_->Prepare(sql);
  if (!query) return std::unexpected(query.error());
  int index = 1;
  if (filter.repo) query->Bind(index++, *filter.repo);
  if (filter.branch) query->Bind(index++, *filter.branch);
  if (filter.status) query->Bind(index++, Name(*filter.status));
  if (filter.before_id) query->Bind(index++, *filter.before_id);
  query->Bind(index, filter.limit);
  return Collect<RunRecord>(*query, ReadRun);
}

Status Store::AddRepo(const RepoRecord& repo) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO repos (name, url, branches, poll_ms, created_at) VALUES (?,?,?,?,?) "
      "ON CONFLICT (name) DO NOTHING");
  if (!insert) return std::unexpected(insert.error());
  Status ok = insert->Bind(1, repo.name)
                  .Bind(2, repo.url)
                  .Bind(3, nlohmann::json(repo.branches).dump())
                  .Bind(4, static_cast<int64_t>(repo.poll.count()))
                  .Bind(5, FormatTime(repo.created_at))
                  .Run();
  if (!ok) return ok;
  if (db_->Changes() == 0) return Fail("repository '{}' already exists", repo.name);
  return Ok();
}

Result<bool> Store::RemoveRepo(const std::string& name) {
  Result<Statement> remove = db_->Prepare("DELETE FROM repos WHERE name = ?");
  if (!remove) return std::unexpected(remove.error());
  if (Status ok = remove->Bind(1, name).Run(); !ok) return std::unexpected(ok.error());
  return db_->Changes() > 0;
}

Result<std::vector<RepoRecord>> Store::ListRepos() {
  Result<Statement> query =
      db_->Prepare("SELECT name, url, branches, poll_ms, created_at FROM repos ORDER BY name");
  if (!query) return std::unexpected(query.error());
  return Collect<RepoRecord>(*query, [](const Statement& row) {
    RepoRecord repo;
    repo.name = row.Text(0);
    repo.url = row.Text(1);
    repo.branches = JsonStrings(row.Text(2));
    repo.poll = Duration(row.Int(3));
    repo.created_at = TimeColumn(row, 4).value_or(TimePoint{});
    return repo;
  });
}

Result<std::map<std::string, std::string>> Store::GetHeads(const std::string& repo) {
  Result<Statement> query = db_->Prepare("SELECT branch, sha FROM repo_heads WHERE repo = ?");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, repo);
  Result<std::vector<std::pair<std::string, std::string>>> rows =
      Collect<std::pair<std::string, std::string>>(
          *query, [](const Statement& row) { return std::pair(row.Text(0), row.Text(1)); });
  if (!rows) return std::unexpected(rows.error());
  return std::map<std::string, std::string>(rows->begin(), rows->end());
}

Status Store::SetHeads(const std::string& repo, const std::map<std::string, std::string>& heads) {
  return db_->Transaction([&]() -> Status {
    Result<Statement> clear = db_->Prepare("DELETE FROM repo_heads WHERE repo = ?");
    if (!clear) return std::unexpected(clear.error());
    if (Status ok = clear->Bind(1, repo).Run(); !ok) return ok;
    for (const auto& [branch, sha] : heads) {
      Result<Statement> insert =
          db_->Prepare("INSERT INTO repo_heads (repo, branch, sha) VALUES (?,?,?)");
      if (!insert) return std::unexpected(insert.error());
      if (Status ok = insert->Bind(1, repo).Bind(2, branch).Bind(3, sha).Run(); !ok) return ok;
    }
    return Ok();
  });
}

Status Store::SetJobMetrics(int64_t job_id, const std::map<std::string, double>& metrics) {
  return db_->Transaction([&]() -> Status {
    Result<Statement> clear = db_->Prepare("DELETE FROM job_metrics WHERE job_id = ?");
    if (!clear) return std::unexpected(clear.error());
    if (Status ok = clear->Bind(1, job_id).Run(); !ok) return ok;
    for (const auto& [name, value] : metrics) {
      Result<Statement> insert =
          db_->Prepare("INSERT INTO job_metrics (job_id, name, value) VALUES (?,?,?)");
      if (!insert) return std::unexpected(insert.error());
      if (Status ok = insert->Bind(1, job_id).Bind(2, name).Bind(3, value).Run(); !ok) return ok;
    }
    return Ok();
  });
}

Status Store::SetGateResults(int64_t job_id, const std::vector<reports::GateResult>& gates) {
  return db_->Transaction([&]() -> Status {
    Result<Statement> clear = db_->Prepare("DELETE FROM gate_results WHERE job_id = ?");
    if (!clear) return std::unexpected(clear.error());
    if (Status ok = clear->Bind(1, job_id).Run(); !ok) return ok;
    for (const reports::GateResult& gate : gates) {
      Result<Statement> insert = db_->Prepare(
          "INSERT INTO gate_results (job_id, expression, verdict, used, message) "
          "VALUES (?,?,?,?,?)");
      if (!insert) return std::unexpected(insert.error());
      Status ok = insert->Bind(1, job_id)
                      .Bind(2, gate.expression)
                      .Bind(3, gate.verdict)
                      .Bind(4, nlohmann::json(gate.values).dump())
                      .Bind(5, gate.message)
                      .Run();
      if (!ok) return ok;
    }
    return Ok();
  });
}

Result<std::map<int64_t, std::map<std::string, double>>> Store::GetRunMetrics(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT m.job_id, m.name, m.value FROM job_metrics m JOIN jobs j ON m.job_id = j.id "
      "WHERE j.run_id = ?");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  std::map<int64_t, std::map<std::string, double>> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Int(0)][query->Text(1)] = query->Double(2);
  }
}

Result<std::map<int64_t, std::vector<reports::GateResult>>> Store::GetRunGates(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT g.job_id, g.expression, g.verdict, g.used, g.message FROM gate_results g JOIN jobs "
      "j ON g.job_id = j.id WHERE j.run_id = ? ORDER BY g.id");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  std::map<int64_t, std::vector<reports::GateResult>> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    reports::GateResult gate;
    gate.expression = query->Text(1);
    gate.verdict = query->Text(2);
    nlohmann::json used = nlohmann::json::parse(query->Text(3), nullptr, false);
    if (used.is_object()) {
      for (const auto& [name, value] : used.items()) {
        if (value.is_number()) gate.values[name] = value.get<double>();
      }
    }
    gate.message = query->Text(4);
    out[query->Int(0)].push_back(std::move(gate));
  }
}

namespace {

constexpr std::string_view kVersionColumns =
    "name, version, digest, repo, commit_sha, branch, author, run_id, metrics, params, files, "
    "created_at";

ModelVersionRecord ReadVersion(const Statement& row) {
  ModelVersionRecord v;
  v.name = row.Text(0);
  v.version = static_cast<int>(row.Int(1));
  v.digest = row.Text(2);
  v.repo = row.Text(3);
  v.commit = row.Text(4);
  v.branch = row.Text(5);
  v.author = row.Text(6);
  v.run_id = row.Int(7);
  v.metrics = row.Text(8);
  v.params = row.Text(9);
  v.files = row.Text(10);
  v.created_at = TimeColumn(row, 11).value_or(TimePoint{});
  return v;
}

}  // namespace

Result<int> Store::RegisterModelVersion(ModelVersionRecord version) {
  Status done = db_->Transaction([&]() -> Status {
    // Inside the write transaction: no other registration can take the number.
    Result<Statement> next =
        db_->Prepare("SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?");
    if (!next) return std::unexpected(next.error());
    next->Bind(1, version.name);
    if (Result<bool> row = next->Step(); !row) return std::unexpected(row.error());
    version.version = static_cast<int>(next->Int(0));
    Result<Statement> insert = db_->Prepare(fmt::format(
        "INSERT INTO model_versions ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", kVersionColumns));
    if (!insert) return std::unexpected(insert.error());
    return insert->Bind(1, version.name)
        .Bind(2, version.version)
        .Bind(3, version.digest)
        .Bind(4, version.repo)
        .Bind(5, version.commit)
        .Bind(6, version.branch)
        .Bind(7, version.author)
        .Bind(8, version.run_id)
        .Bind(9, version.metrics)
        .Bind(10, version.params)
        .Bind(11, version.files)
        .Bind(12, FormatTime(version.created_at))
        .Run();
  });
  if (!done) return std::unexpected(done.error());
  return version.version;
}

Result<std::vector<ModelVersionRecord>> Store::ListModelVersions(const std::string& name) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM model_versions WHERE ?1 = '' OR name = ?1 ORDER BY name, version",
      kVersionColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name);
  return Collect<ModelVersionRecord>(*query, ReadVersion);
}

Result<std::optional<ModelVersionRecord>> Store::GetModelVersion(const std::string& name,
                                                                 int version) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM model_versions WHERE name = ? AND version = ?", kVersionColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name).Bind(2, version);
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<ModelVersionRecord>();
  return std::optional<ModelVersionRecord>(ReadVersion(*query));
}

Status Store::SetModelAlias(const std::string& name, const std::string& alias, int version,
                            TimePoint at, const std::string& by) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO model_aliases (name, alias, version, set_at, set_by) VALUES (?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, name).Bind(2, alias).Bind(3, version).Bind(4, FormatTime(at)).Bind(5, by).Run();
}

Result<std::map<std::string, int>> Store::GetModelAliases(const std::string& name) {
  Result<Statement> query = db_->Prepare(
      "SELECT alias, version FROM model_aliases a WHERE name = ?1 AND id = (SELECT max(id) FROM "
      "model_aliases b WHERE b.name = a.name AND b.alias = a.alias)");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name);
  std::map<std::string, int> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Text(0)] = static_cast<int>(query->Int(1));
  }
}

Result<std::vector<AliasRecord>> Store::GetModelAliasHistory(const std::string& name) {
  Result<Statement> query = db_->Prepare(
      "SELECT alias, version, set_at, set_by FROM model_aliases WHERE name = ? ORDER BY id");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name);
  return Collect<AliasRecord>(*query, [](const Statement& row) {
    return AliasRecord{row.Text(0), static_cast<int>(row.Int(1)),
                       TimeColumn(row, 2).value_or(TimePoint{}), row.Text(3)};
  });
}

Result<std::map<std::string, int64_t>> Store::CountRunsByStatus() {
  Result<Statement> query = db_->Prepare("SELECT status, count(*) FROM runs GROUP BY status");
  if (!query) return std::unexpected(query.error());
  std::map<std::string, int64_t> counts;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return counts;
    counts[query->Text(0)] = query->Int(1);
  }
}

Result<std::vector<RunRecord>> Store::LatestRunPerBranch() {
  // runs_by_repo_branch (repo, branch, id) makes the MAX per group an index walk.
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY repo, branch) "
      "ORDER BY repo, branch",
      kRunColumns));
  if (!query) return std::unexpected(query.error());
  return Collect<RunRecord>(*query, ReadRun);
}

namespace {

// The rows of `jobs` that are the last attempt of their job (a job has one
// row per attempt; reruns' reused jobs are rows of the new run).
constexpr std::string_view kLastAttempt =
    "j.attempt = (SELECT max(k.attempt) FROM jobs k WHERE k.run_id = j.run_id AND "
    "k.position = j.position)";

}  // namespace

Result<std::map<int64_t, Store::TestCounts>> Store::CountRunTests(int64_t first_id,
                                                                  int64_t last_id) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT j.run_id, t.status, t.known_flaky != '', count(*) FROM test_results t "
      "JOIN jobs j ON t.job_id = j.id WHERE j.run_id BETWEEN ? AND ? AND {} "
      "GROUP BY j.run_id, t.status, t.known_flaky != ''",
      kLastAttempt));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, first_id).Bind(2, last_id);
  std::map<int64_t, TestCounts> counts;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return counts;
    TestCounts& run = counts[query->Int(0)];
    const std::string status = query->Text(1);
    const int64_t n = query->Int(3);
    run.total += n;
    if (status == "passed") run.passed += n;
    if (status == "failed" || status == "error") {
      run.failed += n;
      if (query->Int(2) != 0) run.flaky_failed += n;
    }
    if (status == "skipped") run.skipped += n;
  }
}

Result<std::vector<Store::TestVerdict>> Store::RecentTestVerdicts(const std::string& repo,
                                                                  int64_t up_to_run_id, int runs) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "WITH recent AS (SELECT id FROM runs WHERE repo = ? AND id <= ? ORDER BY id DESC LIMIT ?) "
      "SELECT j.run_id, j.name, t.classname, t.name, t.status, t.flaky, t.known_flaky != '' "
      "FROM test_results t "
      "JOIN jobs j ON t.job_id = j.id JOIN recent r ON j.run_id = r.id WHERE {} "
      "ORDER BY j.run_id DESC, t.id",
      kLastAttempt));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, repo).Bind(2, up_to_run_id).Bind(3, runs);
  return Collect<TestVerdict>(*query, [](const Statement& row) {
    return TestVerdict{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4),
                       row.Int(5) != 0, row.Int(6) != 0};
  });
}

Result<Store::DurationHistogram> Store::JobDurationHistogram(
    const std::vector<int64_t>& upper_ms) {
  std::string sql = "SELECT count(*), coalesce(sum(duration_ms), 0)";
  for (int64_t upper : upper_ms) sql += fmt::format(", sum(duration_ms <= {})", upper);
  sql += " FROM jobs WHERE duration_ms IS NOT NULL AND reused_from IS NULL";
  Result<Statement> query = db_->Prepare(sql);
  if (!query) return std::unexpected(query.error());
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  DurationHistogram histogram;
  histogram.count = query->Int(0);
  histogram.sum_ms = query->Int(1);
  for (size_t i = 0; i < upper_ms.size(); ++i) {
    histogram.counts.push_back(query->Int(static_cast<int>(i) + 2));
  }
  return histogram;
}

Result<int64_t> Store::ReuseJob(int64_t job_id, int64_t run_id) {
  Result<int64_t> id = std::unexpected(Error{});
  Status done = db_->Transaction([&]() -> Status {
    Result<Statement> job = db_->Prepare(
        "INSERT INTO jobs (run_id, name, position, attempt, status, needs, error, warnings, "
        "started_at, finished_at, duration_ms, reused_from) SELECT ?, name, position, attempt, "
        "status, needs, error, warnings, started_at, finished_at, duration_ms, id FROM jobs "
        "WHERE id = ?");
    if (!job) return std::unexpected(job.error());
    if (Status ok = job->Bind(1, run_id).Bind(2, job_id).Run(); !ok) return ok;
    if (db_->Changes() == 0) return Fail("no job {}", job_id);
    id = db_->LastInsertId();
    for (const char* sql :
         {"INSERT INTO steps (job_id, position, name, status, exit_code, error, started_at, "
          "finished_at, duration_ms, log_path) SELECT ?1, position, name, status, exit_code, "
          "error, started_at, finished_at, duration_ms, log_path FROM steps WHERE job_id = ?2",
          // Known-flaky marks too: the reused job's failures stay told apart.
          "INSERT INTO test_results (job_id, suite, classname, name, status, flaky, duration_ms, "
          "message, details, known_flaky, known_flaky_evidence) SELECT ?1, suite, classname, "
          "name, status, flaky, duration_ms, message, details, known_flaky, known_flaky_evidence "
          "FROM test_results WHERE job_id = ?2 ORDER BY id",
          "INSERT INTO artifacts (job_id, path, size, digest, mode) SELECT ?1, path, size, "
          "digest, mode FROM artifacts WHERE job_id = ?2",
          "INSERT INTO job_metrics (job_id, name, value) SELECT ?1, name, value FROM job_metrics "
          "WHERE job_id = ?2",
          "INSERT INTO gate_results (job_id, expression, verdict, used, message) SELECT ?1, "
          "expression, verdict, used, message FROM gate_results WHERE job_id = ?2 ORDER BY id"}) {
      Result<Statement> copy = db_->Prepare(sql);
      if (!copy) return std::unexpected(copy.error());
      if (Status ok = copy->Bind(1, *id).Bind(2, job_id).Run(); !ok) return ok;
    }
    return Ok();
  });
  if (!done) return std::unexpected(done.error());
  return id;
}

Result<int64_t> Store::CreateJob(const JobRecord& job) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO jobs (run_id, name, position, attempt, status, needs, error, started_at, "
      "finished_at, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  insert->Bind(1, job.run_id)
      .Bind(2, job.name)
      .Bind(3, job.position)
      .Bind(4, job.attempt)
      .Bind(5, Name(job.status))
      .Bind(6, nlohmann::json(job.needs).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .Bind(7, job.error)
      .Bind(8, TimeText(job.started_at))
      .Bind(9, TimeText(job.finished_at))
      .Bind(10, job.duration_ms);
  if (Status ok = insert->Run(); !ok) return std::unexpected(ok.error());
  return db_->LastInsertId();
}

Status Store::StartJob(int64_t job_id, TimePoint at) {
  Result<Statement> update =
      db_->Prepare("UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, FormatTime(at)).Bind(2, job_id).Run();
}

Status Store::FinishJob(int64_t job_id, engine::JobStatus status, TimePoint at,
                        int64_t duration_ms, const std::string& error) {
  Result<Statement> update = db_->Prepare(
      "UPDATE jobs SET status = ?, finished_at = ?, duration_ms = ?, error = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, Name(status))
      .Bind(2, FormatTime(at))
      .Bind(3, duration_ms)
      .Bind(4, error)
      .Bind(5, job_id)
      .Run();
}

Status Store::SetJobNotRun(int64_t job_id, engine::JobStatus status, const std::string& reason) {
  Result<Statement> update = db_->Prepare("UPDATE jobs SET status = ?, error = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, Name(status)).Bind(2, reason).Bind(3, job_id).Run();
}

Status Store::AddJobWarning(int64_t job_id, const std::string& warning) {
  Result<Statement> update = db_->Prepare(
      "UPDATE jobs SET warnings = json_insert(warnings, '$[#]', ?) WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, warning).Bind(2, job_id).Run();
}

Result<std::vector<JobRecord>> Store::GetJobs(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT id, run_id, name, position, attempt, status, needs, error, warnings, started_at, "
      "finished_at, duration_ms, reused_from FROM jobs WHERE run_id = ? ORDER BY position, "
      "attempt");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  return Collect<JobRecord>(*query, [](const Statement& row) {
    JobRecord job;
    job.id = row.Int(0);
    job.run_id = row.Int(1);
    job.name = row.Text(2);
    job.position = static_cast<int>(row.Int(3));
    job.attempt = static_cast<int>(row.Int(4));
    job.status = engine::ParseJobStatus(row.Text(5)).value_or(engine::JobStatus::kFailed);
    job.needs = JsonStrings(row.Text(6));
    job.error = row.Text(7);
    job.warnings = JsonStrings(row.Text(8));
    job.started_at = TimeColumn(row, 9);
    job.finished_at = TimeColumn(row, 10);
    job.duration_ms = row.OptionalInt(11);
    job.reused_from = row.OptionalInt(12);
    return job;
  });
}

Result<int64_t> Store::CreateStep(const StepRecord& step) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO steps (job_id, position, name, status, exit_code, error, started_at, "
      "finished_at, duration_ms, log_path) VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  insert->Bind(1, step.job_id)
      .Bind(2, step.position)
      .Bind(3, step.name)
      .Bind(4, Name(step.status))
      .Bind(5, step.exit_code)
      .Bind(6, step.error)
      .Bind(7, TimeText(step.started_at))
      .Bind(8, TimeText(step.finished_at))
      .Bind(9, step.duration_ms)
      .Bind(10, step.log_path);
  if (Status ok = insert->Run(); !ok) return std::unexpected(ok.error());
  return db_->LastInsertId();
}

Status Store::FinishStep(const StepRecord& step) {
  Result<Statement> update = db_->Prepare(
      "UPDATE steps SET status = ?, exit_code = ?, error = ?, finished_at = ?, duration_ms = ? "
      "WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, Name(step.status))
      .Bind(2, step.exit_code)
      .Bind(3, step.error)
      .Bind(4, TimeText(step.finished_at))
      .Bind(5, step.duration_ms)
      .Bind(6, step.id)
      .Run();
}

Result<std::vector<StepRecord>> Store::GetRunSteps(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT s.id, s.job_id, s.position, s.name, s.status, s.exit_code, s.error, s.started_at, "
      "s.finished_at, s.duration_ms, s.log_path FROM steps s JOIN jobs j ON s.job_id = j.id "
      "WHERE j.run_id = ? ORDER BY s.job_id, s.position");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  return Collect<StepRecord>(*query, [](const Statement& row) {
    StepRecord step;
    step.id = row.Int(0);
    step.job_id = row.Int(1);
    step.position = static_cast<int>(row.Int(2));
    step.name = row.Text(3);
    step.status = engine::ParseJobStatus(row.Text(4)).value_or(engine::JobStatus::kFailed);
    if (auto code = row.OptionalInt(5)) step.exit_code = static_cast<int>(*code);
    step.error = row.Text(6);
    step.started_at = TimeColumn(row, 7);
    step.finished_at = TimeColumn(row, 8);
    step.duration_ms = row.OptionalInt(9);
    step.log_path = row.Text(10);
    return step;
  });
}

Status Store::SetTestResults(int64_t job_id, const std::vector<reports::TestCase>& cases) {
  return db_->Transaction([&]() -> Status {
    Result<Statement> clear = db_->Prepare("DELETE FROM test_results WHERE job_id = ?");
    if (!clear) return std::unexpected(clear.error());
    if (Status ok = clear->Bind(1, job_id).Run(); !ok) return ok;
    for (const reports::TestCase& test : cases) {
      Result<Statement> insert = db_->Prepare(
          "INSERT INTO test_results (job_id, suite, classname, name, status, flaky, duration_ms, "
          "message, details) VALUES (?,?,?,?,?,?,?,?,?)");
      if (!insert) return std::unexpected(insert.error());
      insert->Bind(1, job_id)
          .Bind(2, test.suite)
          .Bind(3, test.classname)
          .Bind(4, test.name)
          .Bind(5, reports::TestStatusName(test.status))
          .Bind(6, test.flaky ? 1 : 0)
          .Bind(7, test.duration_ms)
          .Bind(8, test.message)
          .Bind(9, test.details);
      if (Status ok = insert->Run(); !ok) return ok;
    }
    return Ok();
  });
}

Result<std::vector<TestRecord>> Store::GetRunTestResults(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT t.job_id, t.suite, t.classname, t.name, t.status, t.flaky, t.duration_ms, "
      "t.message, t.details FROM test_results t JOIN jobs j ON t.job_id = j.id "
      "WHERE j.run_id = ? ORDER BY t.job_id, t.id");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  return Collect<TestRecord>(*query, [](const Statement& row) {
    return TestRecord{row.Int(0),  row.Text(1),      row.Text(2), row.Text(3), row.Text(4),
                      row.Int(5) != 0, row.Int(6), row.Text(7), row.Text(8)};
  });
}

Status Store::AddArtifacts(int64_t job_id, const std::vector<ArtifactRecord>& artifacts) {
  return db_->Transaction([&]() -> Status {
    for (const ArtifactRecord& artifact : artifacts) {
      Result<Statement> insert = db_->Prepare(
          "INSERT OR REPLACE INTO artifacts (job_id, path, size, digest, mode) VALUES (?,?,?,?,?)");
      if (!insert) return std::unexpected(insert.error());
      insert->Bind(1, job_id)
          .Bind(2, artifact.path)
          .Bind(3, artifact.size)
          .Bind(4, artifact.digest)
          .Bind(5, artifact.mode);
      if (Status ok = insert->Run(); !ok) return ok;
    }
    return Ok();
  });
}

Result<std::vector<ArtifactRecord>> Store::GetRunArtifacts(int64_t run_id) {
  Result<Statement> query = db_->Prepare(
      "SELECT a.job_id, a.path, a.size, a.digest, a.mode FROM artifacts a JOIN jobs j "
      "ON a.job_id = j.id WHERE j.run_id = ? ORDER BY a.job_id, a.path");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  return Collect<ArtifactRecord>(*query, [](const Statement& row) {
    return ArtifactRecord{row.Int(0), row.Text(1), row.Int(2), row.Text(3),
                          static_cast<int>(row.Int(4))};
  });
}

}  // namespace tauon::store
