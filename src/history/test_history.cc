#include "history/test_history.h"

#include <fmt/format.h>

namespace tauon::history {

std::string TestId(std::string_view classname, std::string_view name) {
  return classname.empty() ? std::string(name) : fmt::format("{}::{}", classname, name);
}

std::string TestExecution::id() const { return TestId(classname, name); }

Status MarkKnownFlaky(store::Database& db, int64_t job_id,
                      const std::map<std::string, std::string>& reasons) {
  if (reasons.empty()) return Ok();
  return db.Transaction([&]() -> Status {
    Result<store::Statement> query = db.Prepare(
        "SELECT id, classname, name FROM test_results WHERE job_id = ? AND status IN "
        "('failed', 'error')");
    if (!query) return std::unexpected(query.error());
    query->Bind(1, job_id);
    std::vector<std::pair<int64_t, std::string>> marks;
    while (true) {
      Result<bool> row = query->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      auto it = reasons.find(TestId(query->Text(1), query->Text(2)));
      if (it != reasons.end()) marks.emplace_back(query->Int(0), it->second);
    }
    for (const auto& [id, reason] : marks) {
      Result<store::Statement> update =
          db.Prepare("UPDATE test_results SET known_flaky = ? WHERE id = ?");
      if (!update) return std::unexpected(update.error());
      if (Status ok = update->Bind(1, reason).Bind(2, id).Run(); !ok) return ok;
    }
    return Ok();
  });
}

Result<std::map<int64_t, std::map<std::string, std::string>>> KnownFlakyFailures(
    store::Database& db, int64_t run_id) {
  Result<store::Statement> query = db.Prepare(
      "SELECT t.job_id, t.classname, t.name, t.known_flaky FROM test_results t JOIN jobs j ON "
      "t.job_id = j.id WHERE j.run_id = ? AND t.known_flaky != ''");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  std::map<int64_t, std::map<std::string, std::string>> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Int(0)][TestId(query->Text(1), query->Text(2))] = query->Text(3);
  }
}

Result<std::vector<TestExecution>> LoadTestHistory(store::Database& db, const HistoryQuery& q) {
  Result<store::Statement> query = db.Prepare(
      "SELECT r.id, j.attempt, r.commit_sha, r.branch, j.name, t.classname, t.name, t.status, "
      "t.flaky, t.duration_ms FROM test_results t JOIN jobs j ON t.job_id = j.id "
      "JOIN runs r ON j.run_id = r.id WHERE r.repo = ?1 AND j.reused_from IS NULL "
      "AND (?2 IS NULL OR j.name = ?2) AND (?3 IS NULL OR r.id < ?3) "
      "AND r.id >= coalesce((SELECT min(id) FROM (SELECT DISTINCT r2.id FROM runs r2 "
      "JOIN jobs j2 ON j2.run_id = r2.id WHERE r2.repo = ?1 AND (?2 IS NULL OR j2.name = ?2) "
      "AND (?3 IS NULL OR r2.id < ?3) ORDER BY r2.id DESC LIMIT ?4)), 0) "
      "ORDER BY r.id, j.attempt, j.position, t.id");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, q.repo).Bind(2, q.job).Bind(3, q.before_run).Bind(4, q.max_runs);
  std::vector<TestExecution> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    TestExecution e;
    e.run_id = query->Int(0);
    e.attempt = static_cast<int>(query->Int(1));
    e.commit = query->Text(2);
    e.branch = query->Text(3);
    e.job = query->Text(4);
    e.classname = query->Text(5);
    e.name = query->Text(6);
    e.status = query->Text(7);
    e.flaky_marker = query->Int(8) != 0;
    e.duration_ms = query->Int(9);
    out.push_back(std::move(e));
  }
}

Result<std::vector<std::string>> JobsWithTests(store::Database& db, std::string_view repo) {
  Result<store::Statement> query = db.Prepare(
      "SELECT DISTINCT j.name FROM test_results t JOIN jobs j ON t.job_id = j.id "
      "JOIN runs r ON j.run_id = r.id WHERE r.repo = ?1 AND j.reused_from IS NULL ORDER BY j.name");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, repo);
  std::vector<std::string> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out.push_back(query->Text(0));
  }
}

}  // namespace tauon::history
