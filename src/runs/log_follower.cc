#include "runs/log_follower.h"

#include <fcntl.h>
#include <unistd.h>

#include "api/resources.h"
#include "runs/layout.h"

namespace tauon::runs {

Result<std::vector<LogFollower::Event>> LogFollower::Poll(bool* finished) {
  *finished = false;
  // The status first: a run seen finished here has written all its logs.
  Result<nlohmann::json> run = api::RunJson(store_, run_id_);
  if (!run) return std::unexpected(run.error());
  const std::string status = (*run)["status"].get<std::string>();
  const bool over = status != "queued" && status != "running";
  std::vector<Event> events;
  DataLayout layout(data_dir_);
  size_t position = 0;
  for (const auto& job : (*run)["jobs"]) {
    const std::string name = job["name"].get<std::string>();
    // Every attempt, in order: a retried job's earlier output comes first.
    // A job reused from an earlier run has its output there: its steps say where.
    const bool reused = !job["reused_from"].is_null();
    const int attempts = job["attempt"].get<int>();
    for (int attempt = reused ? attempts : 1; attempt <= attempts; ++attempt) {
      const std::filesystem::path dir = layout.logs(run_id_, position, name, attempt);
      int step_index = 0;
      for (const auto& step : job["steps"]) {
        std::string path = reused ? step["log"].get<std::string>()
                                  : (dir / fmt::format("{}.log", step_index)).string();
        if (!path.empty()) {
          ReadNewLines(path,
                       {{"job", name},
                        {"step", step["name"]},
                        {"attempt", attempt},
                        {"position", step_index + 1}},
                       &events);
        }
        ++step_index;
      }
    }
    ++position;
    std::string state = job["status"].get<std::string>() + "/" + job["attempt"].dump();
    if (job_state_[name] != state) {
      job_state_[name] = state;
      events.push_back({"job",
                        {{"job", name},
                         {"status", job["status"]},
                         {"attempt", job["attempt"]},
                         {"error", job["error"]}}});
    }
  }
  if (status != run_status_) {
    run_status_ = status;
    events.push_back({"run", {{"id", run_id_}, {"status", status}, {"error", (*run)["error"]}}});
  }
  *finished = over;
  return events;
}

void LogFollower::ReadNewLines(const std::string& path, const nlohmann::json& where,
                               std::vector<Event>* events) {
  uint64_t& offset = offsets_[path];
  int fd = open((data_dir_ / path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // Not written yet.
  std::string data;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = pread(fd, buffer, sizeof buffer, static_cast<off_t>(offset + data.size()));
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  // Only whole lines: the recorder writes them whole, but a read may race a write.
  size_t end = data.rfind('\n');
  if (end == std::string::npos) return;
  offset += end + 1;
  size_t start = 0;
  while (start <= end) {
    size_t newline = data.find('\n', start);
    std::string_view line(data.data() + start, newline - start);
    size_t space = line.find(' ');
    nlohmann::json event = where;
    event["time"] = std::string(line.substr(0, space == std::string_view::npos ? 0 : space));
    event["text"] = std::string(space == std::string_view::npos ? line : line.substr(space + 1));
    events->push_back({"line", std::move(event)});
    start = newline + 1;
  }
}

}  // namespace tauon::runs
