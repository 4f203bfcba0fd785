#include "history/durations.h"

#include <algorithm>

namespace tauon::history {
namespace {

Duration Median(std::vector<int64_t> ms) {
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return Duration(n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2);
}

}  // namespace

Result<std::map<std::string, Duration>> ExpectedJobDurations(store::Database& db,
                                                             const std::string& repo,
                                                             int64_t before_run, int window) {
  // Newest first, so that the first `window` rows of a job are its latest.
  Result<store::Statement> query = db.Prepare(
      "SELECT j.name, j.status, j.duration_ms FROM jobs j JOIN runs r ON j.run_id = r.id "
      "WHERE r.repo = ? AND r.id < ? AND j.reused_from IS NULL AND j.duration_ms IS NOT NULL "
      "AND j.status IN ('success', 'failed') ORDER BY j.id DESC");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, repo).Bind(2, before_run);
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<int64_t>>> seen;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto& [succeeded, failed] = seen[query->Text(0)];
    std::vector<int64_t>& into = query->Text(1) == "success" ? succeeded : failed;
    if (static_cast<int>(into.size()) < window) into.push_back(query->Int(2));
  }
  std::map<std::string, Duration> out;
  for (const auto& [job, samples] : seen) {
    out[job] = Median(samples.first.empty() ? samples.second : samples.first);
  }
  return out;
}

std::optional<Duration> EstimateTimeLeft(const std::vector<std::vector<size_t>>& needs,
                                         const std::vector<std::optional<Duration>>& expected,
                                         const std::vector<JobProgress>& progress, TimePoint now) {
  std::vector<Duration> finish(needs.size(), Duration(0));  // Time from now until done.
  Duration left(0);
  for (size_t i = 0; i < needs.size(); ++i) {
    if (progress[i].state == JobProgress::State::kDone) continue;
    if (!expected[i]) return std::nullopt;
    if (progress[i].state == JobProgress::State::kRunning) {
      finish[i] = std::max(Duration(0), *expected[i] - (now - progress[i].started));
    } else {
      Duration start(0);
      for (size_t need : needs[i]) start = std::max(start, finish[need]);
      finish[i] = start + *expected[i];
    }
    left = std::max(left, finish[i]);
  }
  return left;
}

}  // namespace tauon::history
