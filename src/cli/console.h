// How runs look in a terminal: live, prefixed output while a run goes, and
// tables for finished runs. Colours only when the output is a terminal (and
// NO_COLOR is unset).
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "history/durations.h"

namespace tauon::cli {

struct Style {
  bool color = false;
  // Style for `file`: colours if it is a terminal and NO_COLOR is not set.
  static Style For(FILE* file);
  std::string Paint(std::string_view text, std::string_view ansi) const;
  std::string Status(std::string_view status) const;  // Coloured by meaning.
};

// Prints a run's events as they happen: each output line prefixed with its
// job name, plus step and job results. Output lines are printed at once;
// state changes wait for Flush(), so they appear only once recorded.
class ConsoleReporter final : public engine::RunObserver {
 public:
  ConsoleReporter(const engine::Plan& plan, FILE* out, Style style);

  // Each job's expected duration from history (nullopt: unknown), by plan
  // index. With them, every finished job is followed by an estimate of the
  // time the run has left, when every job not done has an expectation.
  void SetExpectedDurations(std::vector<std::optional<Duration>> expected);

  void JobStarted(size_t job, int attempt, TimePoint at) override;
  void StepStarted(size_t job, int attempt, size_t step, TimePoint at) override;
  void StepOutput(size_t job, int attempt, size_t step, std::string_view lines) override;
  void StepFinished(size_t job, int attempt, size_t step,
                    const engine::StepOutcome& outcome) override;
  void ServiceOutput(size_t job, int attempt, size_t service, std::string_view lines) override;
  void JobMessage(size_t job, int attempt, std::string_view message) override;
  void JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) override;
  void JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) override;
  void ProcessStarted(size_t, int, int) override {}
  void ProcessExited(size_t, int) override {}
  std::optional<TimePoint> Flush(bool force = true) override;

 private:
  // Queues each line of `lines` behind the job's prefix (and `tag` if set).
  void Print(size_t job, std::string_view lines, std::string_view tag = "");
  // Queues "about 12s left" when the expectations allow an estimate.
  void PrintTimeLeft(TimePoint now);

  const engine::Plan& plan_;
  FILE* out_;
  Style style_;
  size_t width_ = 0;  // Width of the job name column.
  std::string pending_;  // Printed at the next Flush().
  std::vector<std::optional<Duration>> expected_;  // Empty: no estimates.
  std::vector<history::JobProgress> progress_;
};

// Prints the events of a followed run (runs::LogFollower's, or the API's
// Server-Sent Events): output lines behind their job, job and run results.
class EventPrinter {
 public:
  EventPrinter(FILE* out, Style style) : out_(out), style_(style) {}
  void Print(const std::string& type, const nlohmann::json& data);
  // The run's status once a "run" event said it ended; "" before.
  const std::string& final_status() const { return final_status_; }

 private:
  FILE* out_;
  Style style_;
  std::string final_status_;
};

// The exit code for a run's final status: 0 success, 130 cancelled, 1 otherwise.
int ExitCodeOf(std::string_view run_status);

// The jobs table of a run resource (api::RunJson): one row per job with its
// status, attempt, duration and tests, failing tests and errors beneath.
// `detailed` adds the run header, steps, artifacts and warnings.
std::string RenderRun(const nlohmann::json& run, const Style& style, bool detailed);

// A table of run summaries, newest first.
std::string RenderRunList(const nlohmann::json& runs, const Style& style);

}  // namespace tauon::cli
