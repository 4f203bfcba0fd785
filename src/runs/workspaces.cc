#include "runs/workspaces.h"

#include <fstream>

#include "artifacts/registry.h"
#include "history/changed_files.h"
#include "history/flaky.h"
#include "history/test_history.h"
#include "history/test_ranking.h"
#include "reports/junit.h"
#include "reports/metrics.h"
#include "util/files.h"

namespace tauon::runs {
namespace {

namespace fs = std::filesystem;

std::string HumanSize(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
}

}  // namespace

RunWorkspaces::RunWorkspaces(const DataLayout& layout, int64_t run_id, const engine::Plan& plan,
                             store::Store& store, const RunRecorder& recorder,
                             const logs::SecretMasker& masker, engine::RunObserver& notes,
                             bool keep_workspaces)
    : layout_(layout),
      run_id_(run_id),
      plan_(plan),
      store_(store),
      recorder_(recorder),
      masker_(masker),
      notes_(notes),
      keep_workspaces_(keep_workspaces),
      artifact_store_(layout.artifacts()),
      pool_(layout.checkout(run_id), layout.workspaces(run_id)),
      artifacts_(plan.jobs.size()) {}

Result<fs::path> RunWorkspaces::PrepareWorkspace(size_t job, int attempt) {
  // Kept workspaces are named after their job; pooled ones pass from job to job.
  std::string name =
      keep_workspaces_ ? DataLayout::JobDirectory(job, plan_.jobs[job].name) + "." +
                             std::to_string(attempt)
                       : fmt::format("ws-{}", ++workspaces_created_);
  Result<fs::path> workspace = pool_.Acquire(name);
  if (!workspace) return workspace;
  if (plan_.jobs[job].spec.junit) WriteTestOrder(job, attempt);
  // Upstream artifacts, in plan order: a later job's file wins over an earlier one's.
  for (size_t upstream : plan_.jobs[job].upstream) {
    for (const store::ArtifactRecord& artifact : artifacts_[upstream]) {
      Status restored =
          artifact_store_.Restore(artifact.digest, *workspace / artifact.path, artifact.mode);
      if (!restored) {
        return Fail("cannot restore artifact {} of '{}': {}", artifact.path,
                    plan_.jobs[upstream].name, restored.error().message);
      }
    }
  }
  return *workspace;
}

void RunWorkspaces::WriteTestOrder(size_t job, int attempt) {
  const std::string& name = plan_.jobs[job].name;
  auto warn = [&](const std::string& why) {
    std::string warning = fmt::format("no test order: {}", why);
    (void)store_.AddJobWarning(recorder_.job_id(job, attempt), warning);
    notes_.JobMessage(job, attempt, "warning: " + warning);
  };
  Result<std::optional<store::RunRecord>> run = store_.GetRun(run_id_);
  if (!run || !*run) {
    warn(run ? "the run is not in the store" : run.error().message);
    return;
  }
  Result<std::vector<history::TestExecution>> past = history::LoadTestHistory(
      store_.database(), {(*run)->repo, name, run_id_ + 1});
  if (!past) {
    warn(past.error().message);
    return;
  }
  // Changed files are a hint: without them the ranking still works.
  history::Changes changes;
  if (auto changed = history::ChangedFilesOfRuns(store_.database(), (*run)->repo); changed) {
    changes.by_run = std::move(*changed);
    if (auto now = changes.by_run.find(run_id_); now != changes.by_run.end()) changes.now = now->second;
  }
  history::TestRanking ranking = history::RankTests(*past, changes);
  std::map<std::string, history::FlakyEvidence>& flaky = known_flaky_[{job, attempt}];
  for (const history::RankedTest& test : ranking.tests) {
    if (test.flaky) flaky[test.id] = *test.flaky;
  }
  std::string text;
  for (const history::RankedTest& test : ranking.tests) {
    if (test.id.find('\n') != std::string::npos) continue;
    text += test.id + "\n";
  }
  fs::path path = layout_.run(run_id_) / "tests" /
                  (DataLayout::JobDirectory(job, name) + "." + std::to_string(attempt) + ".order");
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    warn(fmt::format("cannot write {}", path.string()));
    return;
  }
  test_orders_[{job, attempt}] = path;
}

bool RunWorkspaces::ExcuseFailure(size_t job, int attempt) {
  return excused_.contains({job, attempt});
}

spec::EnvList RunWorkspaces::JobEnvironment(size_t job, int attempt) {
  auto it = test_orders_.find({job, attempt});
  if (it == test_orders_.end()) return {};
  return {{"TAUON_TEST_ORDER", fs::absolute(it->second).string()}};
}

bool RunWorkspaces::ReadTestReport(size_t job, int attempt, const fs::path& workspace,
                                   bool succeeded) {
  const std::string& path = *plan_.jobs[job].spec.junit;
  int64_t job_id = recorder_.job_id(job, attempt);
  auto warn = [&](const std::string& warning) {
    (void)store_.AddJobWarning(job_id, warning);
    notes_.JobMessage(job, attempt, "warning: " + warning);
  };
  std::error_code ec;
  fs::file_status status = fs::symlink_status(workspace / path, ec);
  if (!fs::exists(status)) {
    warn(fmt::format("test report {}: no such file (the tests may not have run)", path));
    return false;
  }
  if (fs::is_directory(status)) {
    warn(fmt::format("test report {} is a directory, not a JUnit XML file", path));
    return false;
  }
  Result<std::vector<artifacts::WorkspaceFile>> files =
      artifacts::FindArtifactFiles(workspace, {path});
  if (!files) {
    warn(fmt::format("test report {} was not read: it is a broken symlink or leads outside the "
                     "workspace",
                     path));
    return false;
  }
  Result<std::string> xml = ReadFileToString(files->front().absolute);
  Result<reports::JUnitReport> report =
      xml ? reports::ParseJUnit(*xml) : std::unexpected(xml.error());
  if (!report) {
    warn(fmt::format("test report {}: {}", path, masker_.Mask(report.error().message)));
    return false;
  }
  for (reports::TestCase& test : report->cases) {
    for (std::string* text : {&test.suite, &test.classname, &test.name, &test.message,
                              &test.details}) {
      *text = masker_.Mask(*text);
    }
  }
  if (Status stored = store_.SetTestResults(job_id, report->cases); !stored) {
    warn(fmt::format("test report {}: {}", path, stored.error().message));
    return false;
  }
  reports::TestCounts counts = report->Counts();
  // Failures of tests known to be flaky before this attempt are told apart.
  std::map<std::string, history::FlakyEvidence> flaky_failures;
  if (auto known = known_flaky_.find({job, attempt}); known != known_flaky_.end()) {
    for (const reports::TestCase& test : report->cases) {
      if (test.status != reports::TestStatus::kFailed && test.status != reports::TestStatus::kError) {
        continue;
      }
      std::string id = history::TestId(test.classname, test.name);
      if (auto it = known->second.find(id); it != known->second.end()) {
        flaky_failures[id] = it->second;
      }
    }
  }
  if (Status marked = history::MarkKnownFlaky(store_.database(), job_id, flaky_failures);
      !marked) {
    warn(fmt::format("test report {}: {}", path, marked.error().message));
  }
  std::string summary = fmt::format("tests: {} passed, {} failed, {} skipped", counts.passed,
                                    counts.failed, counts.skipped);
  if (counts.flaky) summary += fmt::format(", {} flaky", counts.flaky);
  if (!flaky_failures.empty()) {
    summary += fmt::format("; {} of the failures {} known flaky", flaky_failures.size(),
                           flaky_failures.size() == 1 ? "is" : "are");
  }
  notes_.JobMessage(job, attempt, summary);
  for (const auto& [id, evidence] : flaky_failures) {
    notes_.JobMessage(job, attempt,
                      fmt::format("flaky: {} ({})", id, history::DescribeFlaky(evidence)));
  }
  bool excused = !succeeded && plan_.jobs[job].spec.quarantine && counts.failed > 0 &&
                 static_cast<int>(flaky_failures.size()) == counts.failed;
  if (excused) {
    excused_.insert({job, attempt});
    notes_.JobMessage(job, attempt,
                      fmt::format("quarantine: {} known-flaky failure{} do{} not fail the job",
                                  counts.failed, counts.failed == 1 ? "" : "s",
                                  counts.failed == 1 ? "es" : ""));
  }
  return excused;
}

Status RunWorkspaces::CollectOutputs(size_t job, int attempt, const fs::path& workspace,
                                     bool succeeded) {
  const spec::Job& spec = plan_.jobs[job].spec;
  bool excused = spec.junit && ReadTestReport(job, attempt, workspace, succeeded);
  if (!succeeded && !excused) return Ok();
  if (spec.metrics) {
    if (Status judged = JudgeMetrics(job, attempt, workspace); !judged) return judged;
  }
  if (spec.artifacts.empty()) return Ok();

  Result<std::vector<artifacts::WorkspaceFile>> files =
      artifacts::FindArtifactFiles(workspace, spec.artifacts);
  if (!files) return std::unexpected(files.error());
  std::vector<store::ArtifactRecord> records;
  int64_t total = 0;
  int64_t job_id = recorder_.job_id(job, attempt);
  for (const artifacts::WorkspaceFile& file : *files) {
    // A path is stored and shown: one that holds a secret is left out.
    if (std::string masked = masker_.Mask(file.path); masked != file.path) {
      std::string warning = fmt::format("artifact {} not stored: its path holds a secret", masked);
      (void)store_.AddJobWarning(job_id, warning);
      notes_.JobMessage(job, attempt, "warning: " + warning);
      continue;
    }
    Result<std::string> digest = artifact_store_.Put(file.absolute);
    if (!digest) return Fail("cannot store artifact {}: {}", file.path, digest.error().message);
    records.push_back({job_id, file.path, file.size, *digest, file.mode});
    total += file.size;
  }
  if (Status stored = store_.AddArtifacts(job_id, records); !stored) return stored;
  notes_.JobMessage(job, attempt, fmt::format("artifacts: {} file{}, {}", records.size(),
                                              records.size() == 1 ? "" : "s", HumanSize(total)));
  artifacts_[job] = std::move(records);
  return Ok();
}

Status RunWorkspaces::JudgeMetrics(size_t job, int attempt, const fs::path& workspace) {
  const spec::Job& spec = plan_.jobs[job].spec;
  const std::string& path = *spec.metrics;
  Result<std::vector<artifacts::WorkspaceFile>> files =
      artifacts::FindArtifactFiles(workspace, {path});
  if (!files) {
    return Fail("metrics file {} was not written (or leads outside the workspace)", path);
  }
  if (files->size() != 1) return Fail("metrics file {} is a directory", path);
  Result<std::string> text = ReadFileToString(files->front().absolute);
  if (!text) return Fail("metrics file {}: {}", path, text.error().message);
  Result<reports::Metrics> parsed = reports::ParseMetrics(*text);
  if (!parsed) return Fail("metrics file {}: {}", path, masker_.Mask(parsed.error().message));
  // Names are stored and shown: secrets in them are masked.
  reports::Metrics metrics;
  for (const auto& [name, value] : *parsed) metrics[masker_.Mask(name)] = value;
  int64_t job_id = recorder_.job_id(job, attempt);
  if (Status stored = store_.SetJobMetrics(job_id, metrics); !stored) return stored;
  std::string summary = "metrics:";
  size_t shown = 0;
  for (const auto& [name, value] : metrics) {
    if (++shown > 8) {
      summary += fmt::format(" (and {} more: tauon show)", metrics.size() - 8);
      break;
    }
    summary += fmt::format(" {}={}", name, reports::FormatMetric(value));
  }
  notes_.JobMessage(job, attempt, summary);
  if (spec.gates.empty()) return Ok();

  std::optional<reports::Metrics> baseline;
  if (baseline_) baseline = artifacts::BaselineMetricsFor(*baseline_, plan_.jobs[job].name);
  std::vector<reports::GateResult> gates = reports::EvaluateGates(spec.gates, metrics, baseline);
  if (Status stored = store_.SetGateResults(job_id, gates); !stored) return stored;
  notes_.JobMessage(job, attempt,
                    baseline_ ? fmt::format("gates (baseline: {} version {}):", baseline_->name,
                                            baseline_->version)
                              : std::string("gates (no baseline yet):"));
  std::string table = reports::RenderGates(gates);
  if (table.ends_with('\n')) table.pop_back();
  notes_.JobMessage(job, attempt, table);
  for (const reports::GateResult& gate : gates) {
    if (gate.verdict == "fail") {
      std::string values;
      for (const auto& [name, value] : gate.values) {
        values += fmt::format("{}{}={}", values.empty() ? "" : ", ", name,
                              reports::FormatMetric(value));
      }
      return Fail("gate failed: {} ({})", gate.expression, values);
    }
    if (gate.verdict == "error") {
      return Fail("gate '{}' could not be evaluated: {}", gate.expression, gate.message);
    }
  }
  return Ok();
}

void RunWorkspaces::RemoveWorkspace(const fs::path& workspace) {
  // Kept workspaces are never handed out again; the run's end removes the rest.
  if (!keep_workspaces_) pool_.Release(workspace);
}

}  // namespace tauon::runs
