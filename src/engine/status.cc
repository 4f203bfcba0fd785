#include "engine/status.h"

#include <array>
#include <utility>

namespace tauon::engine {
namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 6> kRunNames = {{
    {RunStatus::kQueued, "queued"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kSuccess, "success"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kCancelled, "cancelled"},
    {RunStatus::kInterrupted, "interrupted"},
}};
constexpr std::array<std::pair<JobStatus, std::string_view>, 6> kJobNames = {{
    {JobStatus::kPending, "pending"},
    {JobStatus::kRunning, "running"},
    {JobStatus::kSuccess, "success"},
    {JobStatus::kFailed, "failed"},
    {JobStatus::kSkipped, "skipped"},
    {JobStatus::kCancelled, "cancelled"},
}};

template <typename Table, typename Status>
std::string_view Lookup(const Table& table, Status status) {
  for (const auto& [s, name] : table) {
    if (s == status) return name;
  }
  return "unknown";
}

template <typename Status, typename Table>
std::optional<Status> Reverse(const Table& table, std::string_view name) {
  for (const auto& [s, n] : table) {
    if (n == name) return s;
  }
  return std::nullopt;
}

}  // namespace

std::string_view Name(RunStatus status) { return Lookup(kRunNames, status); }
std::string_view Name(JobStatus status) { return Lookup(kJobNames, status); }
std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  return Reverse<RunStatus>(kRunNames, name);
}
std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  return Reverse<JobStatus>(kJobNames, name);
}

}  // namespace tauon::engine
