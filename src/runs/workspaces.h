// The JobHost of a recorded run: workspaces made from the run's checkout plus
// upstream artifacts, and after each attempt its test report and artifacts
// taken into the store.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "artifacts/artifact_store.h"
#include "engine/engine.h"
#include "history/flaky.h"
#include "logs/masker.h"
#include "runs/layout.h"
#include "runs/recorder.h"
#include "runs/workspace_pool.h"
#include "store/store.h"

namespace tauon::runs {

class RunWorkspaces final : public engine::JobHost {
 public:
  // `notes` receives JobMessage()s about reports and artifacts.
  RunWorkspaces(const DataLayout& layout, int64_t run_id, const engine::Plan& plan,
                store::Store& store, const RunRecorder& recorder,
                const logs::SecretMasker& masker, engine::RunObserver& notes,
                bool keep_workspaces);

  // Artifacts of a job that is not run but reused from an earlier run, for
  // its dependants' workspaces.
  void AddUpstreamArtifacts(size_t job, std::vector<store::ArtifactRecord> artifacts) {
    artifacts_[job] = std::move(artifacts);
  }

  // The model version gates compare with (`baseline.NAME`); none by default.
  void SetBaseline(std::optional<store::ModelVersionRecord> baseline) {
    baseline_ = std::move(baseline);
  }

  Result<std::filesystem::path> PrepareWorkspace(size_t job, int attempt) override;
  Status CollectOutputs(size_t job, int attempt, const std::filesystem::path& workspace,
                        bool succeeded) override;
  // Returns the workspace to the pool (unless workspaces are kept).
  void RemoveWorkspace(const std::filesystem::path& workspace) override;
  // TAUON_TEST_ORDER for jobs with a JUnit report (see WriteTestOrder).
  spec::EnvList JobEnvironment(size_t job, int attempt) override;
  // With reports.quarantine: the attempt's failing tests were all known flaky.
  bool ExcuseFailure(size_t job, int attempt) override;

 private:
  // Reads and stores the report; marks failures of known-flaky tests; returns
  // true when the attempt's failure is excused by reports.quarantine.
  bool ReadTestReport(size_t job, int attempt, const std::filesystem::path& workspace,
                      bool succeeded);
  // Writes the job's known tests, most likely to fail first, one id per line
  // (history/test_ranking.h), to DATA/runs/ID/tests/POS-JOB.ATTEMPT.order,
  // from the job's results in earlier runs and earlier attempts of this one.
  // A failure is a warning: the tests then run in their own order.
  void WriteTestOrder(size_t job, int attempt);
  // Reads the job's metrics file, stores it, and evaluates its gates; fails
  // the job on a missing or malformed file and on a failing gate.
  Status JudgeMetrics(size_t job, int attempt, const std::filesystem::path& workspace);

  const DataLayout& layout_;
  const int64_t run_id_;
  const engine::Plan& plan_;
  store::Store& store_;
  const RunRecorder& recorder_;
  const logs::SecretMasker& masker_;
  engine::RunObserver& notes_;
  const bool keep_workspaces_;
  artifacts::ArtifactStore artifact_store_;
  WorkspacePool pool_;
  int workspaces_created_ = 0;
  std::optional<store::ModelVersionRecord> baseline_;  // Names pooled workspaces ws-1, ws-2, ...
  std::vector<std::vector<store::ArtifactRecord>> artifacts_;  // Per job, once it succeeded.
  std::map<std::pair<size_t, int>, std::filesystem::path> test_orders_;  // By (job, attempt).
  // Tests known to be flaky before an attempt ran: TestId -> evidence. By (job, attempt).
  std::map<std::pair<size_t, int>, std::map<std::string, history::FlakyEvidence>> known_flaky_;
  std::set<std::pair<size_t, int>> excused_;  // Attempts whose failure quarantine excuses.
};

}  // namespace tauon::runs
