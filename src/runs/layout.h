// Where a run's files live in the data directory:
//
//   DATA/tauon.db                          the store
//   DATA/token                             the server's API token (0600)
//   DATA/mirrors/REPO.git                  the server's copies of registered repositories
//   DATA/secrets/REPO.webhook              webhook secrets (0600)
//   DATA/artifacts/sha256/ab/cdef...       artifact contents
//   DATA/runs/ID/checkout/                 the run's commit, checked out once
//   DATA/runs/ID/work/ws-N/                job workspaces, reused from job to job
//                                          (POS-JOB.ATTEMPT/ with --keep-workspaces)
//   DATA/runs/ID/logs/POS-JOB/ATTEMPT/     step logs (STEP.log), services, job notes
#pragma once

#include <filesystem>
#include <string>

namespace tauon::runs {

class DataLayout {
 public:
  explicit DataLayout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path database() const { return root_ / "tauon.db"; }
  // The server's API token (mode 0600).
  std::filesystem::path token() const { return root_ / "token"; }
  // The server's bare copy of a registered repository.
  std::filesystem::path mirror(const std::string& repo) const {
    return root_ / "mirrors" / (repo + ".git");
  }
  // A repository URL with credentials in it (mode 0600): the database keeps
  // the URL without them.
  std::filesystem::path repo_url_secret(const std::string& repo) const {
    return root_ / "secrets" / (repo + ".url");
  }
  // A repository's webhook secret (mode 0600): kept out of the database.
  std::filesystem::path webhook_secret(const std::string& repo) const {
    return root_ / "secrets" / (repo + ".webhook");
  }
  std::filesystem::path artifacts() const { return root_ / "artifacts"; }
  std::filesystem::path run(int64_t run_id) const {
    return root_ / "runs" / std::to_string(run_id);
  }
  std::filesystem::path checkout(int64_t run_id) const { return run(run_id) / "checkout"; }
  std::filesystem::path workspaces(int64_t run_id) const { return run(run_id) / "work"; }
  // Relative to root(), as stored in the database.
  std::filesystem::path logs(int64_t run_id, size_t position, const std::string& job,
                             int attempt) const {
    return std::filesystem::path("runs") / std::to_string(run_id) / "logs" /
           JobDirectory(position, job) / std::to_string(attempt);
  }

  // "3-evaluate_split=holdout_": unique per run and safe as a file name.
  static std::string JobDirectory(size_t position, const std::string& job);

 private:
  std::filesystem::path root_;
};

}  // namespace tauon::runs
