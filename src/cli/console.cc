#include "cli/console.h"

#include <unistd.h>

#include <algorithm>

#include "history/flaky.h"
#include "util/strings.h"

namespace tauon::cli {
namespace {

constexpr std::string_view kBold = "1";
constexpr std::string_view kDim = "2";
constexpr std::string_view kRed = "31";
constexpr std::string_view kGreen = "32";
constexpr std::string_view kYellow = "33";
constexpr std::string_view kJobColors[] = {"36", "35", "34", "33", "32", "96", "95", "94"};
constexpr size_t kMaxPrefixWidth = 32;

std::string Duration(const nlohmann::json& ms) {
  return ms.is_number() ? FormatDuration(tauon::Duration(ms.get<int64_t>())) : "-";
}

std::string Text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : "";
}

std::string TestsCell(const nlohmann::json& tests) {
  if (!tests.is_object()) return "";
  std::string cell = fmt::format("{} passed", tests["passed"].get<int>());
  if (int failed = tests["failed"].get<int>()) {
    int flaky_failed = tests.value("flaky_failed", 0);
    cell += flaky_failed ? fmt::format(", {} failed ({} known flaky)", failed, flaky_failed)
                         : fmt::format(", {} failed", failed);
  }
  if (int skipped = tests["skipped"].get<int>()) cell += fmt::format(", {} skipped", skipped);
  if (int flaky = tests["flaky"].get<int>()) cell += fmt::format(", {} flaky", flaky);
  return cell;
}

// "REASON: runs 1, 2 (commits ...)" from a known-flaky failure of the API
// (flaky_evidence, or flaky_reason alone from an older server).
std::string KnownFlakyText(const nlohmann::json& test) {
  nlohmann::json evidence = test.value("flaky_evidence", nlohmann::json());
  if (!evidence.is_object()) return Text(test.value("flaky_reason", nlohmann::json()));
  history::FlakyEvidence parsed{Text(evidence.value("reason", nlohmann::json())), {}, {}};
  for (const auto& run : evidence.value("runs", nlohmann::json::array())) {
    if (run.is_number_integer()) parsed.runs.push_back(run.get<int64_t>());
  }
  for (const auto& commit : evidence.value("commits", nlohmann::json::array())) {
    if (commit.is_string()) parsed.commits.push_back(commit.get<std::string>());
  }
  return history::DescribeFlaky(parsed);
}

// Pads `text` to `width` display columns (it may hold ANSI escapes and UTF-8).
std::string Pad(const std::string& text, size_t width) {
  size_t visible = 0;
  bool escape = false;
  for (unsigned char c : text) {
    if (escape) {
      escape = c != 'm';
    } else if (c == 0x1b) {
      escape = true;
    } else if ((c & 0xC0) != 0x80) {
      ++visible;
    }
  }
  return visible >= width ? text + " " : text + std::string(width - visible, ' ');
}

}  // namespace

Style Style::For(FILE* file) {
  const char* no_color = getenv("NO_COLOR");
  return Style{isatty(fileno(file)) && !(no_color && *no_color)};
}

std::string Style::Paint(std::string_view text, std::string_view ansi) const {
  if (!color) return std::string(text);
  return fmt::format("\x1b[{}m{}\x1b[0m", ansi, text);
}

std::string Style::Status(std::string_view status) const {
  if (status == "success") return Paint(status, kGreen);
  if (status == "failed" || status == "interrupted") return Paint(status, kRed);
  if (status == "cancelled" || status == "skipped") return Paint(status, kYellow);
  return std::string(status);
}

ConsoleReporter::ConsoleReporter(const engine::Plan& plan, FILE* out, Style style)
    : plan_(plan), out_(out), style_(style) {
  for (const engine::PlannedJob& job : plan.jobs) width_ = std::max(width_, job.name.size());
  width_ = std::min(width_, kMaxPrefixWidth);
}

void ConsoleReporter::Print(size_t job, std::string_view lines, std::string_view tag) {
  std::string name = plan_.jobs[job].name;
  if (name.size() > width_) name = name.substr(0, width_ - 1) + "~";
  std::string prefix =
      style_.Paint(fmt::format("{:<{}} |", name, width_),
                   kJobColors[job % std::size(kJobColors)]);
  if (!tag.empty()) prefix += " " + style_.Paint(tag, kDim);
  // One output line per line of `lines`; a final '\n' ends the last line.
  if (lines.ends_with('\n')) lines.remove_suffix(1);
  size_t start = 0;
  while (true) {
    size_t end = lines.find('\n', start);
    std::string_view line = lines.substr(start, end == std::string_view::npos ? end : end - start);
    pending_ += prefix;
    if (!line.empty()) pending_ += ' ';
    pending_.append(line);
    pending_ += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

std::optional<TimePoint> ConsoleReporter::Flush(bool) {
  if (pending_.empty()) return std::nullopt;
  fwrite(pending_.data(), 1, pending_.size(), out_);
  fflush(out_);
  pending_.clear();
  return std::nullopt;
}

void ConsoleReporter::SetExpectedDurations(std::vector<std::optional<tauon::Duration>> expected) {
  expected_ = std::move(expected);
  progress_.assign(expected_.size(), {});
}

void ConsoleReporter::JobStarted(size_t job, int attempt, TimePoint at) {
  if (job < progress_.size()) progress_[job] = {history::JobProgress::State::kRunning, at};
  if (attempt > 1) {
    Print(job, style_.Paint(fmt::format("attempt {} of {}", attempt,
                                        plan_.jobs[job].spec.retry + 1),
                            kYellow));
  }
}

void ConsoleReporter::StepStarted(size_t job, int, size_t step, TimePoint) {
  Print(job, style_.Paint("$ " + plan_.jobs[job].spec.steps[step].name, kBold));
}

void ConsoleReporter::StepOutput(size_t job, int, size_t, std::string_view lines) {
  Print(job, lines);
  Flush();
}

void ConsoleReporter::StepFinished(size_t job, int, size_t step,
                                   const engine::StepOutcome& outcome) {
  const std::string& name = plan_.jobs[job].spec.steps[step].name;
  switch (outcome.status) {
    case engine::StepStatus::kFailed:
      Print(job, style_.Paint(fmt::format("✗ step '{}' failed: {}", name, outcome.error), kRed));
      break;
    case engine::StepStatus::kSkipped:
      Print(job, style_.Paint(fmt::format("- step '{}' skipped: {}", name, outcome.error), kDim));
      break;
    default:
      break;
  }
}

void ConsoleReporter::ServiceOutput(size_t job, int, size_t service, std::string_view lines) {
  Print(job, lines, "[" + plan_.jobs[job].spec.services[service].name + "]");
  Flush();
}

void ConsoleReporter::JobMessage(size_t job, int, std::string_view message) {
  Print(job, style_.Paint(message, kDim));
}

void ConsoleReporter::JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) {
  std::string took = FormatDuration(outcome.finished - outcome.started);
  std::string line;
  if (outcome.status == engine::JobStatus::kSuccess) {
    line = style_.Paint(fmt::format("✓ success in {}", took), kGreen);
  } else if (outcome.will_retry) {
    line = style_.Paint(fmt::format("attempt {} failed in {}: {}; retrying", attempt, took,
                                    outcome.error),
                        kYellow);
  } else {
    line = style_.Paint(fmt::format("✗ {} in {}: {}", engine::Name(outcome.status), took,
                                    outcome.error),
                        outcome.status == engine::JobStatus::kFailed ? kRed : kYellow);
  }
  Print(job, line);
  if (job < progress_.size() && !outcome.will_retry) {
    progress_[job].state = history::JobProgress::State::kDone;
    PrintTimeLeft(outcome.finished);
  }
}

void ConsoleReporter::JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) {
  Print(job, style_.Paint(fmt::format("- {}: {}", engine::Name(status), reason),
                          status == engine::JobStatus::kFailed ? kRed : kYellow));
  if (job < progress_.size()) progress_[job].state = history::JobProgress::State::kDone;
}

void ConsoleReporter::PrintTimeLeft(TimePoint now) {
  bool all_done = std::all_of(progress_.begin(), progress_.end(), [](const auto& p) {
    return p.state == history::JobProgress::State::kDone;
  });
  if (all_done) return;
  std::vector<std::vector<size_t>> needs;
  for (const engine::PlannedJob& job : plan_.jobs) needs.push_back(job.needs);
  std::optional<tauon::Duration> left = history::EstimateTimeLeft(needs, expected_, progress_, now);
  if (!left) return;
  pending_ += style_.Paint(fmt::format("tauon: about {} left (expected from earlier runs)\n",
                                       FormatDuration(*left)),
                           kDim);
}

void EventPrinter::Print(const std::string& type, const nlohmann::json& data) {
  auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : ""; };
  std::string line;
  if (type == "line") {
    line = fmt::format("{} | {}", style_.Paint(text(data["job"]), "36"), text(data["text"]));
  } else if (type == "job") {
    std::string status = text(data["status"]);
    if (status == "pending") return;
    std::string error = text(data["error"]);
    line = fmt::format("{} | {}{}", style_.Paint(text(data["job"]), "36"), style_.Status(status),
                       error.empty() || status == "success" ? "" : ": " + error);
  } else if (type == "run") {
    std::string status = text(data["status"]);
    if (status != "queued" && status != "running") final_status_ = status;
    line = style_.Paint(fmt::format("run {} {}", data["id"].dump(), status), "1");
  } else if (type == "error") {
    line = style_.Paint("error: " + text(data["error"]), "31");
  } else {
    return;
  }
  fmt::print(out_, "{}\n", line);
  fflush(out_);
}

int ExitCodeOf(std::string_view run_status) {
  if (run_status == "success") return 0;
  if (run_status == "cancelled") return 130;
  return 1;
}

std::string RenderRun(const nlohmann::json& run, const Style& style, bool detailed) {
  std::string out;
  if (detailed) {
    out += fmt::format("run {}  {}\n", run["id"].get<int64_t>(),
                       style.Status(Text(run["status"])));
    out += fmt::format("  repo     {}\n", Text(run["repo"]));
    std::string branch = Text(run["branch"]).empty() ? "(detached)" : Text(run["branch"]);
    out += fmt::format("  commit   {} on {}  {}\n", Text(run["commit"]).substr(0, 12), branch,
                       Text(run["message"]));
    out += fmt::format("  event    {}\n", Text(run["event"]));
    out += fmt::format("  created  {}\n", Text(run["created_at"]));
    out += fmt::format("  duration {}\n", Duration(run["duration_ms"]));
    if (!Text(run["error"]).empty()) {
      out += style.Paint(fmt::format("  error    {}\n", Text(run["error"])), kRed);
    }
    out += "\n";
  }
  // A run that failed before its jobs were planned (its error says why) has no table.
  if (run["jobs"].empty()) return out;
  size_t width = 4;
  for (const auto& job : run["jobs"]) width = std::max(width, Text(job["name"]).size());
  width = std::min(width + 2, size_t{48});
  out += style.Paint(fmt::format("{:<{}}{:<11}{:<9}{:<10}{}", "JOB", width, "STATUS", "ATTEMPT",
                                 "DURATION", "TESTS"),
                     kBold) +
         "\n";
  for (const auto& job : run["jobs"]) {
    std::string status = Text(job["status"]);
    bool ran = job["started_at"].is_string();
    out += Pad(Text(job["name"]), width) + Pad(style.Status(status), 11) +
           Pad(ran ? std::to_string(job["attempt"].get<int>()) : "-", 9) +
           Pad(Duration(job["duration_ms"]), 10) + TestsCell(job["tests"]);
    out += "\n";
    std::string error = Text(job["error"]);
    if (!error.empty() && status != "success") {
      out += style.Paint(fmt::format("    {}\n", error),
                         status == "failed" ? kRed : kDim);
    }
    for (const auto& test : job["failed_tests"]) {
      std::string name = Text(test["classname"]).empty()
                             ? Text(test["name"])
                             : Text(test["classname"]) + "::" + Text(test["name"]);
      std::string message = Text(test["message"]);
      message = message.substr(0, message.find('\n'));
      out += style.Paint(fmt::format("    ✗ {}{}\n", name, message.empty() ? "" : ": " + message),
                         kRed);
    }
    // Known-flaky failures apart from real ones (the API's flaky_failed_tests).
    for (const auto& test : job.value("flaky_failed_tests", nlohmann::json::array())) {
      std::string name = Text(test["classname"]).empty()
                             ? Text(test["name"])
                             : Text(test["classname"]) + "::" + Text(test["name"]);
      out += style.Paint(fmt::format("    ~ {} (known flaky: {})\n", name, KnownFlakyText(test)),
                         kYellow);
    }
    if (!detailed) continue;
    for (const auto& warning : job["warnings"]) {
      out += style.Paint(fmt::format("    warning: {}\n", Text(warning)), kYellow);
    }
    for (const auto& step : job["steps"]) {
      std::string exit = step["exit_code"].is_number()
                             ? fmt::format(" (exit {})", step["exit_code"].get<int>())
                             : "";
      out += fmt::format("    {} {}{}  {}\n", Pad(style.Status(Text(step["status"])), 10),
                         Text(step["name"]), exit, Duration(step["duration_ms"]));
    }
    if (!job["artifacts"].empty()) {
      int64_t bytes = 0;
      for (const auto& a : job["artifacts"]) bytes += a["size"].get<int64_t>();
      out += fmt::format("    artifacts: {} file{}, {} bytes\n", job["artifacts"].size(),
                         job["artifacts"].size() == 1 ? "" : "s", bytes);
    }
  }
  return out;
}

std::string RenderRunList(const nlohmann::json& runs, const Style& style) {
  std::string out = style.Paint(fmt::format("{:<7}{:<13}{:<16}{:<16}{:<14}{:<10}{}", "ID",
                                            "STATUS", "REPO", "BRANCH", "COMMIT", "DURATION",
                                            "MESSAGE"),
                                kBold) +
                    "\n";
  for (const auto& run : runs) {
    std::string message = Text(run["message"]);
    if (message.size() > 50) message = message.substr(0, 47) + "...";
    out += Pad(std::to_string(run["id"].get<int64_t>()), 7) +
           Pad(style.Status(Text(run["status"])), 13) + Pad(Text(run["repo"]), 16) +
           Pad(Text(run["branch"]).empty() ? "-" : Text(run["branch"]), 16) +
           Pad(Text(run["commit"]).substr(0, 12), 14) + Pad(Duration(run["duration_ms"]), 10) +
           message + "\n";
  }
  return out;
}

}  // namespace tauon::cli
