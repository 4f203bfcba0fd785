// The store's deployment tables: environments, releases, replica process
// groups and deploy events.
#include <fmt/format.h>

#include "store/rows.h"
#include "store/store.h"

namespace tauon::store {
namespace {

constexpr std::string_view kEnvironmentColumns = "name, repo, port, desired_release, created_at";

EnvironmentRecord ReadEnvironment(const Statement& row) {
  EnvironmentRecord environment;
  environment.name = row.Text(0);
  environment.repo = row.Text(1);
  environment.port = static_cast<int>(row.Int(2));
  environment.desired_release = row.OptionalInt(3);
  environment.created_at = TimeColumn(row, 4).value_or(TimePoint{});
  return environment;
}

constexpr std::string_view kReleaseColumns =
    "id, environment, model, version, repo, commit_sha, source, pipeline, replicas, phase, "
    "reason, created_by, created_at, live_at, finished_at";

ReleaseRecord ReadRelease(const Statement& row) {
  ReleaseRecord release;
  release.id = row.Int(0);
  release.environment = row.Text(1);
  release.model = row.Text(2);
  release.version = static_cast<int>(row.Int(3));
  release.repo = row.Text(4);
  release.commit = row.Text(5);
  release.source = row.Text(6);
  release.pipeline = row.Text(7);
  release.replicas = static_cast<int>(row.Int(8));
  release.phase = row.Text(9);
  release.reason = row.Text(10);
  release.created_by = row.Text(11);
  release.created_at = TimeColumn(row, 12).value_or(TimePoint{});
  release.live_at = TimeColumn(row, 13);
  release.finished_at = TimeColumn(row, 14);
  return release;
}

}  // namespace

Result<std::optional<EnvironmentRecord>> Store::GetEnvironment(const std::string& name) {
  Result<Statement> query = db_->Prepare(
      fmt::format("SELECT {} FROM environments WHERE name = ?", kEnvironmentColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name);
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  return ReadEnvironment(*query);
}

Result<std::vector<EnvironmentRecord>> Store::ListEnvironments() {
  Result<Statement> query = db_->Prepare(
      fmt::format("SELECT {} FROM environments ORDER BY name", kEnvironmentColumns));
  if (!query) return std::unexpected(query.error());
  return Collect<EnvironmentRecord>(*query, ReadEnvironment);
}

Status Store::CreateEnvironment(const EnvironmentRecord& environment) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO environments (name, repo, port, desired_release, created_at) "
      "VALUES (?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, environment.name)
      .Bind(2, environment.repo)
      .Bind(3, environment.port)
      .Bind(4, environment.desired_release)
      .Bind(5, FormatTime(environment.created_at))
      .Run();
}

Status Store::SetDesiredRelease(const std::string& environment,
                                std::optional<int64_t> release_id) {
  Result<Statement> update =
      db_->Prepare("UPDATE environments SET desired_release = ? WHERE name = ?");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, release_id).Bind(2, environment).Run();
}

Result<int64_t> Store::CreateRelease(const ReleaseRecord& release) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO releases (environment, model, version, repo, commit_sha, source, pipeline, "
      "replicas, phase, reason, created_by, created_at, live_at, finished_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  insert->Bind(1, release.environment)
      .Bind(2, release.model)
      .Bind(3, release.version)
      .Bind(4, release.repo)
      .Bind(5, release.commit)
      .Bind(6, release.source)
      .Bind(7, release.pipeline)
      .Bind(8, release.replicas)
      .Bind(9, release.phase)
      .Bind(10, release.reason)
      .Bind(11, release.created_by)
      .Bind(12, FormatTime(release.created_at))
      .Bind(13, TimeText(release.live_at))
      .Bind(14, TimeText(release.finished_at));
  if (Status ok = insert->Run(); !ok) return std::unexpected(ok.error());
  return db_->LastInsertId();
}

Result<std::optional<ReleaseRecord>> Store::GetRelease(int64_t id) {
  Result<Statement> query =
      db_->Prepare(fmt::format("SELECT {} FROM releases WHERE id = ?", kReleaseColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, id);
  Result<bool> row = query->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  return ReadRelease(*query);
}

Result<std::vector<ReleaseRecord>> Store::ListReleases(const std::string& environment,
                                                       int limit) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM releases WHERE environment = ? ORDER BY id DESC LIMIT ?", kReleaseColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, environment).Bind(2, limit);
  return Collect<ReleaseRecord>(*query, ReadRelease);
}

Result<std::vector<ReleaseRecord>> Store::ListReleasesOfModel(const std::string& name,
                                                               int version) {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM releases WHERE model = ? AND version = ? ORDER BY id", kReleaseColumns));
  if (!query) return std::unexpected(query.error());
  query->Bind(1, name).Bind(2, version);
  return Collect<ReleaseRecord>(*query, ReadRelease);
}

Result<std::vector<ReleaseRecord>> Store::ActiveReleases() {
  Result<Statement> query = db_->Prepare(fmt::format(
      "SELECT {} FROM releases WHERE phase IN "
      "('starting', 'canary', 'rolling', 'preview', 'live') ORDER BY id",
      kReleaseColumns));
  if (!query) return std::unexpected(query.error());
  return Collect<ReleaseRecord>(*query, ReadRelease);
}

Status Store::SetReleasePhase(int64_t id, const std::string& phase, const std::string& reason,
                              TimePoint at) {
  // live_at is the first time it served; finished_at when it stopped for good.
  Result<Statement> update = db_->Prepare(
      "UPDATE releases SET phase = ?1, reason = ?2, "
      "live_at = CASE WHEN ?1 = 'live' AND live_at IS NULL THEN ?3 ELSE live_at END, "
      "finished_at = CASE WHEN ?1 IN ('failed', 'superseded', 'stopped') THEN ?3 "
      "WHEN ?1 = 'live' THEN NULL ELSE finished_at END WHERE id = ?4");
  if (!update) return std::unexpected(update.error());
  return update->Bind(1, phase).Bind(2, reason).Bind(3, FormatTime(at)).Bind(4, id).Run();
}

Status Store::AddReplicaProcess(int64_t release_id, const std::string& replica, int pgid,
                                const std::string& leader) {
  Result<Statement> insert = db_->Prepare(
      "INSERT OR REPLACE INTO replica_processes (release_id, replica, pgid, leader) "
      "VALUES (?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, release_id).Bind(2, replica).Bind(3, pgid).Bind(4, leader).Run();
}

Status Store::RemoveReplicaProcess(int64_t release_id, const std::string& replica) {
  Result<Statement> remove =
      db_->Prepare("DELETE FROM replica_processes WHERE release_id = ? AND replica = ?");
  if (!remove) return std::unexpected(remove.error());
  return remove->Bind(1, release_id).Bind(2, replica).Run();
}

Result<std::vector<Store::ReplicaProcess>> Store::ListReplicaProcesses() {
  Result<Statement> query = db_->Prepare(
      "SELECT release_id, replica, pgid, leader FROM replica_processes ORDER BY release_id");
  if (!query) return std::unexpected(query.error());
  return Collect<ReplicaProcess>(*query, [](const Statement& row) {
    return ReplicaProcess{row.Int(0), row.Text(1), static_cast<int>(row.Int(2)), row.Text(3)};
  });
}

Status Store::SetPendingPromotion(const std::string& environment, const std::string& model) {
  Result<Statement> upsert =
      db_->Prepare("INSERT OR REPLACE INTO pending_promotions (environment, model) VALUES (?, ?)");
  if (!upsert) return std::unexpected(upsert.error());
  return upsert->Bind(1, environment).Bind(2, model).Run();
}

Status Store::ClearPendingPromotion(const std::string& environment) {
  Result<Statement> remove = db_->Prepare("DELETE FROM pending_promotions WHERE environment = ?");
  if (!remove) return std::unexpected(remove.error());
  return remove->Bind(1, environment).Run();
}

Result<std::map<std::string, std::string>> Store::PendingPromotions() {
  Result<Statement> query = db_->Prepare("SELECT environment, model FROM pending_promotions");
  if (!query) return std::unexpected(query.error());
  std::map<std::string, std::string> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Text(0)] = query->Text(1);
  }
}

Status Store::AddAnalysis(const AnalysisRecord& analysis) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO analysis_results (release_id, interval, at, verdict, reason, canary_requests, "
      "checks) VALUES (?,?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, analysis.release_id)
      .Bind(2, analysis.interval)
      .Bind(3, FormatTime(analysis.at))
      .Bind(4, analysis.verdict)
      .Bind(5, analysis.reason)
      .Bind(6, analysis.canary_requests)
      .Bind(7, analysis.checks)
      .Run();
}

Result<std::vector<AnalysisRecord>> Store::ListAnalysis(int64_t release_id, int limit) {
  Result<Statement> query = db_->Prepare(
      "SELECT release_id, interval, at, verdict, reason, canary_requests, checks "
      "FROM analysis_results WHERE release_id = ? ORDER BY id DESC LIMIT ?");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, release_id).Bind(2, limit);
  return Collect<AnalysisRecord>(*query, [](const Statement& row) {
    AnalysisRecord analysis;
    analysis.release_id = row.Int(0);
    analysis.interval = static_cast<int>(row.Int(1));
    analysis.at = TimeColumn(row, 2).value_or(TimePoint{});
    analysis.verdict = row.Text(3);
    analysis.reason = row.Text(4);
    analysis.canary_requests = row.Int(5);
    analysis.checks = row.Text(6);
    return analysis;
  });
}

Status Store::AddDeployEvent(const DeployEventRecord& event) {
  Result<Statement> insert = db_->Prepare(
      "INSERT INTO deploy_events (environment, release_id, what, why, who, at) "
      "VALUES (?,?,?,?,?,?)");
  if (!insert) return std::unexpected(insert.error());
  return insert->Bind(1, event.environment)
      .Bind(2, event.release_id)
      .Bind(3, event.what)
      .Bind(4, event.why)
      .Bind(5, event.who)
      .Bind(6, FormatTime(event.at))
      .Run();
}

Result<std::vector<DeployEventRecord>> Store::ListDeployEvents(const std::string& environment,
                                                               int limit) {
  Result<Statement> query = db_->Prepare(
      "SELECT id, environment, release_id, what, why, who, at FROM deploy_events "
      "WHERE environment = ? ORDER BY id DESC LIMIT ?");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, environment).Bind(2, limit);
  return Collect<DeployEventRecord>(*query, [](const Statement& row) {
    DeployEventRecord event;
    event.id = row.Int(0);
    event.environment = row.Text(1);
    event.release_id = row.OptionalInt(2);
    event.what = row.Text(3);
    event.why = row.Text(4);
    event.who = row.Text(5);
    event.at = TimeColumn(row, 6).value_or(TimePoint{});
    return event;
  });
}

}  // namespace tauon::store
