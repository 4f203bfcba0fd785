// Statuses of runs, jobs and steps, with the names the CLI, the API and the
// store use for them (DESIGN.md, "One resource model").
#pragma once

#include <optional>
#include <string_view>

namespace tauon::engine {

enum class RunStatus { kQueued, kRunning, kSuccess, kFailed, kCancelled, kInterrupted };
enum class JobStatus { kPending, kRunning, kSuccess, kFailed, kSkipped, kCancelled };
// Steps use the job statuses.
using StepStatus = JobStatus;

std::string_view Name(RunStatus status);
std::string_view Name(JobStatus status);
std::optional<RunStatus> ParseRunStatus(std::string_view name);
std::optional<JobStatus> ParseJobStatus(std::string_view name);

inline bool IsTerminal(JobStatus s) {
  return s != JobStatus::kPending && s != JobStatus::kRunning;
}
inline bool IsTerminal(RunStatus s) {
  return s != RunStatus::kQueued && s != RunStatus::kRunning;
}

}  // namespace tauon::engine
