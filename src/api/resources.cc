#include "api/resources.h"

#include <algorithm>
#include <map>
#include <span>

#include "history/flaky.h"
#include "history/test_history.h"

namespace tauon::api {
namespace {

using nlohmann::json;

json TimeJson(const std::optional<TimePoint>& t) { return t ? json(FormatTime(*t)) : json(); }

template <typename T>
json OptionalJson(const std::optional<T>& value) {
  return value ? json(*value) : json();
}

json StepJson(const store::StepRecord& step) {
  return {{"name", step.name},
          {"status", engine::Name(step.status)},
          {"exit_code", OptionalJson(step.exit_code)},
          {"error", step.error},
          {"started_at", TimeJson(step.started_at)},
          {"finished_at", TimeJson(step.finished_at)},
          {"duration_ms", OptionalJson(step.duration_ms)},
          {"log", step.log_path}};
}

}  // namespace

std::string ToJsonText(const json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

json RunSummaryJson(const store::RunRecord& run) {
  std::optional<int64_t> duration;
  if (run.started_at && run.finished_at) duration = (*run.finished_at - *run.started_at).count();
  return {{"id", run.id},
          {"repo", run.repo},
          {"commit", run.commit},
          {"branch", run.branch},
          {"event", run.event},
          {"pipeline", run.pipeline},
          {"message", run.message},
          {"author", run.author},
          {"status", engine::Name(run.status)},
          {"error", run.error},
          {"created_at", FormatTime(run.created_at)},
          {"started_at", TimeJson(run.started_at)},
          {"finished_at", TimeJson(run.finished_at)},
          {"duration_ms", OptionalJson(duration)},
          {"trigger", run.trigger},
          {"rerun_of", OptionalJson(run.rerun_of)}};
}

Result<json> RunJson(store::Store& store, int64_t run_id) {
  Result<std::optional<store::RunRecord>> run = store.GetRun(run_id);
  if (!run) return std::unexpected(run.error());
  if (!*run) return Fail("no run {}", run_id);
  json out = RunSummaryJson(**run);
  Result<std::vector<store::JobRecord>> jobs = store.GetJobs(run_id);
  if (!jobs) return std::unexpected(jobs.error());

  Result<std::vector<store::StepRecord>> steps = store.GetRunSteps(run_id);
  if (!steps) return std::unexpected(steps.error());
  Result<std::vector<store::TestRecord>> tests = store.GetRunTestResults(run_id);
  if (!tests) return std::unexpected(tests.error());
  Result<std::map<int64_t, std::map<std::string, history::FlakyEvidence>>> known_flaky =
      history::KnownFlakyFailures(store.database(), run_id);
  if (!known_flaky) return std::unexpected(known_flaky.error());
  Result<std::vector<store::ArtifactRecord>> artifacts = store.GetRunArtifacts(run_id);
  if (!artifacts) return std::unexpected(artifacts.error());
  Result<std::map<int64_t, std::map<std::string, double>>> metrics = store.GetRunMetrics(run_id);
  if (!metrics) return std::unexpected(metrics.error());
  Result<std::map<int64_t, std::vector<reports::GateResult>>> gates = store.GetRunGates(run_id);
  if (!gates) return std::unexpected(gates.error());
  // Rows of one job attempt are contiguous (ordered by job id).
  auto rows_of = [](const auto& rows, int64_t job_id) {
    auto first = std::find_if(rows.begin(), rows.end(),
                              [&](const auto& row) { return row.job_id == job_id; });
    auto last = std::find_if(first, rows.end(),
                             [&](const auto& row) { return row.job_id != job_id; });
    return std::span(first, last);
  };

  // Rows come by position then attempt: the last row of a position is the latest attempt.
  std::map<int, std::vector<const store::JobRecord*>> attempts;
  for (const store::JobRecord& job : *jobs) attempts[job.position].push_back(&job);
  out["jobs"] = json::array();
  for (const auto& [position, rows] : attempts) {
    const store::JobRecord& job = *rows.back();
    json item = {{"name", job.name},
                 {"status", engine::Name(job.status)},
                 {"attempt", job.attempt},
                 {"needs", job.needs},
                 {"error", job.error},
                 {"warnings", job.warnings},
                 {"started_at", TimeJson(job.started_at)},
                 {"finished_at", TimeJson(job.finished_at)},
                 {"duration_ms", OptionalJson(job.duration_ms)},
                 {"reused_from", OptionalJson(job.reused_from)},
                 {"steps", json::array()},
                 {"tests", nullptr},
                 {"failed_tests", json::array()},
                 {"flaky_failed_tests", json::array()},
                 {"metrics", json::object()},
                 {"gates", json::array()},
                 {"artifacts", json::array()},
                 {"attempts", json::array()}};
    for (size_t a = 0; a + 1 < rows.size(); ++a) {
      item["attempts"].push_back({{"attempt", rows[a]->attempt},
                                  {"status", engine::Name(rows[a]->status)},
                                  {"error", rows[a]->error},
                                  {"duration_ms", OptionalJson(rows[a]->duration_ms)}});
    }
    for (const store::StepRecord& step : rows_of(*steps, job.id)) {
      item["steps"].push_back(StepJson(step));
    }
    std::span<const store::TestRecord> job_tests = rows_of(*tests, job.id);
    if (!job_tests.empty()) {
      int passed = 0, failed = 0, skipped = 0, flaky = 0, flaky_failed = 0;
      const std::map<std::string, history::FlakyEvidence>* job_flaky = nullptr;
      if (auto it = known_flaky->find(job.id); it != known_flaky->end()) job_flaky = &it->second;
      for (const store::TestRecord& test : job_tests) {
        if (test.status == "passed") ++passed;
        if (test.status == "failed" || test.status == "error") {
          ++failed;
          json entry = {{"suite", test.suite},
                        {"classname", test.classname},
                        {"name", test.name},
                        {"status", test.status},
                        {"message", test.message}};
          // Failures of tests known to be flaky are listed apart from real ones.
          auto reason = job_flaky ? job_flaky->find(history::TestId(test.classname, test.name))
                                  : std::map<std::string, history::FlakyEvidence>::const_iterator{};
          if (job_flaky && reason != job_flaky->end()) {
            ++flaky_failed;
            entry["flaky_reason"] = reason->second.reason;
            entry["flaky_evidence"] = FlakyEvidenceJson(reason->second);
            item["flaky_failed_tests"].push_back(std::move(entry));
          } else {
            item["failed_tests"].push_back(std::move(entry));
          }
        }
        if (test.status == "skipped") ++skipped;
        if (test.flaky) ++flaky;
      }
      item["tests"] = {{"total", job_tests.size()}, {"passed", passed},
                       {"failed", failed},          {"skipped", skipped},
                       {"flaky", flaky},            {"flaky_failed", flaky_failed}};
    }
    if (auto it = metrics->find(job.id); it != metrics->end()) item["metrics"] = it->second;
    if (auto it = gates->find(job.id); it != gates->end()) {
      for (const reports::GateResult& gate : it->second) {
        item["gates"].push_back({{"expression", gate.expression},
                                 {"verdict", gate.verdict},
                                 {"values", gate.values},
                                 {"message", gate.message}});
      }
    }
    for (const store::ArtifactRecord& artifact : rows_of(*artifacts, job.id)) {
      item["artifacts"].push_back(
          {{"path", artifact.path}, {"size", artifact.size}, {"digest", artifact.digest}});
    }
    out["jobs"].push_back(std::move(item));
  }
  return out;
}

json FlakyEvidenceJson(const history::FlakyEvidence& evidence) {
  return {{"reason", evidence.reason}, {"runs", evidence.runs}, {"commits", evidence.commits}};
}

json FlakyTestsJson(const std::string& repo, const std::vector<std::string>& jobs,
                    const std::vector<history::FlakyTest>& tests) {
  json list = json::array();
  for (const history::FlakyTest& test : tests) {
    list.push_back({{"job", test.job},
                    {"id", test.id},
                    {"classname", test.classname},
                    {"name", test.name},
                    {"flaky", FlakyEvidenceJson(test.evidence)},
                    {"executions", test.executions},
                    {"failures", test.failures},
                    {"last_run", test.last_run},
                    {"last_status", test.last_status}});
  }
  return {{"repo", repo}, {"jobs", jobs}, {"tests", list}};
}

json TestRankingJson(const std::string& repo, const std::vector<history::JobRanking>& jobs) {
  json out = {{"repo", repo}, {"jobs", json::array()}};
  for (const history::JobRanking& job : jobs) {
    json tests = json::array();
    for (const history::RankedTest& test : job.ranking.tests) {
      tests.push_back({{"rank", tests.size() + 1},
                       {"id", test.id},
                       {"score", test.score},
                       {"runs", test.record.runs},
                       {"failures", test.record.failures},
                       {"last_failed", (test.record.recent & 1) != 0},
                       {"mean_duration_ms", static_cast<int64_t>(test.mean_duration_ms)},
                       {"reasons", test.reasons},
                       {"flaky", test.flaky ? FlakyEvidenceJson(*test.flaky) : json()}});
    }
    out["jobs"].push_back({{"job", job.job}, {"runs", job.ranking.cycles}, {"tests", tests}});
  }
  return out;
}

json ModelVersionJson(const store::ModelVersionRecord& version,
                      const std::map<std::string, int>& aliases) {
  json item = {{"name", version.name},
               {"version", version.version},
               {"digest", version.digest},
               {"repo", version.repo},
               {"commit", version.commit},
               {"branch", version.branch},
               {"author", version.author},
               {"run_id", version.run_id},
               {"metrics", json::parse(version.metrics, nullptr, false)},
               {"params", json::parse(version.params, nullptr, false)},
               {"files", json::parse(version.files, nullptr, false)},
               {"aliases", json::array()},
               {"created_at", FormatTime(version.created_at)}};
  for (const auto& [alias, number] : aliases) {
    if (number == version.version) item["aliases"].push_back(alias);
  }
  return item;
}

json RunArtifactsJson(const json& run) {
  json out = json::array();
  for (const json& job : run["jobs"]) {
    for (json artifact : job["artifacts"]) {
      artifact["job"] = job["name"];
      out.push_back(std::move(artifact));
    }
  }
  return out;
}

}  // namespace tauon::api
