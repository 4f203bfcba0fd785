// The `tauon` subcommands. Each returns the process exit code:
// 0 success, 1 failure (a failed run, a missing run), 2 usage or
// pipeline-file error, 130 cancelled.
#pragma once

#include <cstdio>

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tauon::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCancelled = 130;

// Prints "tauon: error: MESSAGE" to stderr and returns `code`; what went to
// stdout before comes first, also when both go to one file.
template <typename... Args>
int Failed(int code, fmt::format_string<Args...> format, Args&&... args) {
  std::fflush(stdout);
  fmt::print(stderr, "tauon: error: {}\n", fmt::format(format, std::forward<Args>(args)...));
  return code;
}

// Whether `selector` (a JOB argument) names the job `job_name`: its whole
// name, or its base name, which stands for each of its matrix expansions
// ("build" for "build (lang=en)").
inline bool JobNameMatches(std::string_view job_name, std::string_view selector) {
  return job_name == selector ||
         (job_name.starts_with(selector) && job_name.substr(selector.size()).starts_with(" ("));
}

struct RunOptions {
  std::filesystem::path dir = ".";
  std::filesystem::path data_dir = ".tauon";
  std::string ref;
  bool worktree = false;
  std::vector<std::string> jobs;
  int parallelism = 0;  // 0 = number of cores.
  std::optional<std::filesystem::path> secrets_file;
  std::vector<std::string> env;  // KEY=VALUE
  std::string event = "push";
  bool keep_workspaces = false;
  bool json = false;
};
int RunCommand(const RunOptions& options);

int ValidateCommand(const std::filesystem::path& file);

struct RunsOptions {
  std::filesystem::path data_dir = ".tauon";
  std::optional<std::string> repo;
  std::optional<std::string> branch;
  std::optional<std::string> status;
  int limit = 20;
  bool json = false;
};
int RunsCommand(const RunsOptions& options);

int ShowCommand(const std::filesystem::path& data_dir, const std::string& run, bool json);
// Step logs, then service logs and Tauon's notes, of the latest attempt of
// each job (or of `attempt`).
int LogsCommand(const std::filesystem::path& data_dir, const std::string& run,
                const std::string& selector, std::optional<int> attempt, bool timestamps);
// Follows a run in a local data directory until it ends; exit code as for `tauon run`.
int LocalFollowCommand(const std::filesystem::path& data_dir, const std::string& run);
int ArtifactsCommand(const std::filesystem::path& data_dir, const std::string& run, bool json);

}  // namespace tauon::cli
