#include "history/test_history.h"

#include <fmt/format.h>

namespace tauon::history {

std::string TestId(std::string_view classname, std::string_view name) {
  return classname.empty() ? std::string(name) : fmt::format("{}::{}", classname, name);
}

std::string TestExecution::id() const { return TestId(classname, name); }

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
