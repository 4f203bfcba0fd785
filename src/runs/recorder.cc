#include "runs/recorder.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/process_identity.h"

namespace tauon::runs {
namespace {

int64_t Millis(TimePoint from, TimePoint to) { return (to - from).count(); }

// "0.log" for step 0: names are positions so that any step name is safe.
std::string StepLogName(size_t step) { return std::to_string(step) + ".log"; }

}  // namespace

RunRecorder::RunRecorder(store::Store& store, const DataLayout& layout, int64_t run_id,
                         const engine::Plan& plan, const Clock& clock, Duration commit_interval)
    : store_(store),
      layout_(layout),
      run_id_(run_id),
      plan_(plan),
      clock_(clock),
      commit_interval_(commit_interval) {}

RunRecorder::~RunRecorder() {
  Flush(/*force=*/true);
  for (auto& [path, fd] : log_fds_) close(fd);
}

void RunRecorder::Check(const Status& status) {
  if (!status && !error_) error_ = status.error();
}

void RunRecorder::Batch() {
  if (!store_.database().in_transaction()) Check(store_.database().Begin());
}

std::optional<TimePoint> RunRecorder::Flush(bool force) {
  if (!store_.database().in_transaction()) return std::nullopt;
  TimePoint now = clock_.Now();
  if (!force && now < last_commit_ + commit_interval_) return last_commit_ + commit_interval_;
  Check(store_.database().Commit());
  last_commit_ = now;
  return std::nullopt;
}

Result<std::map<size_t, int64_t>> RunRecorder::CreateJobs(const std::map<size_t, int64_t>& reused) {
  std::map<size_t, int64_t> copies;
  Status done = store_.database().Transaction([&]() -> Status {
    for (size_t i = 0; i < plan_.jobs.size(); ++i) {
      if (auto it = reused.find(i); it != reused.end()) {
        Result<int64_t> copy = store_.ReuseJob(it->second, run_id_);
        if (!copy) return std::unexpected(copy.error());
        copies[i] = *copy;
        continue;
      }
      store::JobRecord record;
      record.run_id = run_id_;
      record.name = plan_.jobs[i].name;
      record.position = static_cast<int>(i);
      record.attempt = 1;
      for (size_t need : plan_.jobs[i].needs) record.needs.push_back(plan_.jobs[need].name);
      Result<int64_t> id = store_.CreateJob(record);
      if (!id) return std::unexpected(id.error());
      job_ids_[{i, 1}] = *id;
    }
    return Ok();
  });
  if (!done) return std::unexpected(done.error());
  return copies;
}

int64_t RunRecorder::job_id(size_t job, int attempt) const {
  auto it = job_ids_.find({job, attempt});
  return it == job_ids_.end() ? 0 : it->second;
}

void RunRecorder::JobStarted(size_t job, int attempt, TimePoint at) {
  Batch();
  if (int64_t id = job_id(job, attempt)) return Check(store_.StartJob(id, at));
  store::JobRecord record;
  record.run_id = run_id_;
  record.name = plan_.jobs[job].name;
  record.position = static_cast<int>(job);
  record.attempt = attempt;
  record.status = engine::JobStatus::kRunning;
  record.started_at = at;
  for (size_t need : plan_.jobs[job].needs) record.needs.push_back(plan_.jobs[need].name);
  Result<int64_t> id = store_.CreateJob(record);
  if (!id) return Check(std::unexpected(id.error()));
  job_ids_[{job, attempt}] = *id;
}

void RunRecorder::StepStarted(size_t job, int attempt, size_t step, TimePoint at) {
  Batch();
  store::StepRecord record;
  record.job_id = job_id(job, attempt);
  record.position = static_cast<int>(step);
  record.name = plan_.jobs[job].spec.steps[step].name;
  record.status = engine::StepStatus::kRunning;
  record.started_at = at;
  record.log_path = LogPath(job, attempt, StepLogName(step)).string();
  Result<int64_t> id = store_.CreateStep(record);
  if (!id) return Check(std::unexpected(id.error()));
  step_ids_[{{job, attempt}, step}] = *id;
}

void RunRecorder::StepOutput(size_t job, int attempt, size_t step, std::string_view lines) {
  AppendLog(job, attempt, StepLogName(step), lines);
  // The console prints output at once, after the state before it: commit that first.
  Flush(/*force=*/true);
}

void RunRecorder::StepFinished(size_t job, int attempt, size_t step,
                               const engine::StepOutcome& outcome) {
  Batch();
  store::StepRecord record;
  record.job_id = job_id(job, attempt);
  record.position = static_cast<int>(step);
  record.name = plan_.jobs[job].spec.steps[step].name;
  record.status = outcome.status;
  record.exit_code = outcome.exit_code;
  record.error = outcome.error;
  record.started_at = outcome.started;
  record.finished_at = outcome.finished;
  record.duration_ms = Millis(outcome.started, outcome.finished);
  auto it = step_ids_.find({{job, attempt}, step});
  if (it == step_ids_.end()) {  // Never started: skipped, or failed to start.
    Result<int64_t> id = store_.CreateStep(record);
    if (!id) Check(std::unexpected(id.error()));
  } else {
    record.id = it->second;
    Check(store_.FinishStep(record));
  }
  std::string path = LogPath(job, attempt, StepLogName(step)).string();
  if (auto fd = log_fds_.find(path); fd != log_fds_.end()) {
    close(fd->second);
    log_fds_.erase(fd);
  }
}

void RunRecorder::ServiceOutput(size_t job, int attempt, size_t service, std::string_view lines) {
  AppendLog(job, attempt, "service-" + plan_.jobs[job].spec.services[service].name + ".log", lines);
  Flush(/*force=*/true);  // As for StepOutput.
}

void RunRecorder::JobMessage(size_t job, int attempt, std::string_view message) {
  AppendLog(job, attempt, "job.log", std::string(message) + "\n");
}

void RunRecorder::JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) {
  // Why it failed, also in its notes: `tauon logs` shows it even when no
  // step ran (a service never ready) or the steps say nothing (a timeout).
  if (outcome.status != engine::JobStatus::kSuccess && !outcome.error.empty()) {
    JobMessage(job, attempt, fmt::format("{}: {}", engine::Name(outcome.status), outcome.error));
  }
  Batch();
  Check(store_.FinishJob(job_id(job, attempt), outcome.status, outcome.finished,
                         Millis(outcome.started, outcome.finished), outcome.error));
  // Close the attempt's remaining logs (services, notes).
  std::string prefix = layout_.logs(run_id_, job, plan_.jobs[job].name, attempt).string() + "/";
  for (auto it = log_fds_.begin(); it != log_fds_.end();) {
    if (it->first.starts_with(prefix)) {
      close(it->second);
      it = log_fds_.erase(it);
    } else {
      ++it;
    }
  }
}

void RunRecorder::JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) {
  Batch();
  Check(store_.SetJobNotRun(job_id(job, 1), status, std::string(reason)));
}

void RunRecorder::ProcessStarted(size_t, int, int pgid) {
  if (pgid <= 0) return;
  // The leader may already be gone (a quick step): then so is its group.
  std::optional<ProcessIdentity> leader = ProcessIdentity::Of(pgid);
  if (!leader) return;
  Batch();
  Check(store_.AddProcess(run_id_, pgid, leader->ToString()));
}

void RunRecorder::ProcessExited(size_t, int pgid) {
  if (pgid <= 0) return;
  Batch();
  Check(store_.RemoveProcess(run_id_, pgid));
}

std::filesystem::path RunRecorder::LogPath(size_t job, int attempt,
                                           const std::string& name) const {
  return layout_.logs(run_id_, job, plan_.jobs[job].name, attempt) / name;
}

void RunRecorder::AppendLog(size_t job, int attempt, const std::string& name,
                            std::string_view lines) {
  std::string relative = LogPath(job, attempt, name).string();
  auto it = log_fds_.find(relative);
  if (it == log_fds_.end()) {
    std::filesystem::path path = layout_.root() / relative;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Check(Fail("cannot write log {}: {}", path.string(), strerror(errno)));
    it = log_fds_.emplace(relative, fd).first;
  }
  // One write per batch: each line gets the time it arrived.
  std::string stamp = FormatTime(clock_.Now()) + " ";
  std::string out;
  out.reserve(lines.size() + 8 * stamp.size());
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string_view::npos) end = lines.size() - 1;
    out += stamp;
    out.append(lines.substr(start, end + 1 - start));
    start = end + 1;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  const char* data = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = write(it->second, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Check(Fail("cannot write log {}: {}", relative, strerror(errno)));
    data += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace tauon::runs
