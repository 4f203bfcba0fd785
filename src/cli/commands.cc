#include "cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "api/resources.h"
#include "cli/console.h"
#include "history/durations.h"
#include "exec/local_runner.h"
#include "runs/local_run.h"
#include "runs/log_follower.h"
#include "runs/recovery.h"
#include "spec/dotenv.h"
#include "spec/parser.h"
#include "util/files.h"
#include "util/strings.h"

namespace tauon::cli {
namespace {

namespace fs = std::filesystem;

template <typename... Args>
void PrintError(fmt::format_string<Args...> format, Args&&... args) {
  std::string message = fmt::format(format, std::forward<Args>(args)...);
  fmt::print(stderr, "tauon: error: {}\n", message);
}

// Pipeline and parse errors arrive formatted; they are printed as they are.
void PrintBlock(const std::string& text) {
  fmt::print(stderr, "{}{}", text, text.ends_with('\n') ? "" : "\n");
}


// A --data-dir that exists but is a file.
Status CheckNotAFile(const fs::path& data_dir) {
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !fs::is_directory(data_dir, ec)) {
    return Fail("--data-dir {} is not a directory", data_dir.string());
  }
  return Ok();
}

// The store of an existing data directory; read-only commands never create one.
Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& data_dir) {
  if (Status checked = CheckNotAFile(data_dir); !checked) return std::unexpected(checked.error());
  runs::DataLayout layout(data_dir);
  if (!fs::exists(layout.database())) {
    return Fail("no runs recorded in {} (run 'tauon run' first, or pass --data-dir)",
                data_dir.string());
  }
  return store::Store::Open(layout.database());
}

// A RUN argument: a run id, or nullopt for "last". Anything else is a usage error.
Result<std::optional<int64_t>> ParseRunArgument(const std::string& run) {
  if (run == "last") return std::optional<int64_t>();
  if (run.empty() || run.size() > 18 || run.find_first_not_of("0123456789") != std::string::npos) {
    return Fail("invalid run '{}': expected a run id or 'last'", run);
  }
  return std::optional<int64_t>(std::stoll(run));
}

Result<int64_t> ResolveRunId(store::Store& store, std::optional<int64_t> run) {
  if (run) return *run;
  Result<std::optional<int64_t>> last = store.LatestRunId();
  if (!last) return std::unexpected(last.error());
  if (!*last) return Fail("there are no runs yet");
  return **last;
}

// Loads run `run` as a resource. Exit code and message on failure: usage for
// a malformed RUN, failure for a missing store or run.
struct Loaded {
  std::optional<nlohmann::json> run;
  int exit_code = kExitOk;
};

Loaded LoadRun(const fs::path& data_dir, const std::string& run) {
  Result<std::optional<int64_t>> wanted = ParseRunArgument(run);
  if (!wanted) {
    PrintError("{}", wanted.error().message);
    return {std::nullopt, kExitUsage};
  }
  Result<std::unique_ptr<store::Store>> store = OpenExistingStore(data_dir);
  Result<int64_t> id = store ? ResolveRunId(**store, *wanted) : std::unexpected(store.error());
  Result<nlohmann::json> resource = id ? api::RunJson(**store, *id) : std::unexpected(id.error());
  if (!resource) {
    PrintError("{}", resource.error().message);
    return {std::nullopt, kExitFailed};
  }
  return {std::move(*resource), kExitOk};
}

exec::LocalProcessRunner* g_runner = nullptr;

void OnSignal(int) {
  if (g_runner) g_runner->Interrupt();
}

// Routes SIGINT and SIGTERM to `runner` while alive.
class InterruptGuard {
 public:
  explicit InterruptGuard(exec::LocalProcessRunner& runner) {
    g_runner = &runner;
    struct sigaction action = {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_runner = nullptr;
  }

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

Result<spec::EnvList> ParseEnvArguments(const std::vector<std::string>& args) {
  spec::EnvList env;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    if (eq == std::string::npos || key.empty() ||
        key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
            std::string::npos ||
        isdigit(static_cast<unsigned char>(key[0]))) {
      return Fail("invalid --env '{}': expected KEY=VALUE with KEY made of letters, digits and '_'",
                  arg.substr(0, std::min(eq, arg.size())));
    }
    if (key.starts_with("TAUON_")) return Fail("--env {}: names starting with TAUON_ are reserved", key);
    env.emplace_back(key, arg.substr(eq + 1));
  }
  return env;
}

Result<spec::EnvList> LoadSecrets(const fs::path& file) {
  Result<std::string> text = ReadFileToString(file);
  if (!text) return std::unexpected(text.error());
  auto secrets = spec::ParseDotenv(*text);
  if (!secrets) {
    // Without the source line: it would show the secret.
    std::string message;
    for (const spec::Diagnostic& d : secrets.error()) {
      message += fmt::format("{}{}:{}:{}: {}", message.empty() ? "" : "\n", file.string(),
                             d.location.line, d.location.column, d.message);
    }
    return Fail("{}", message);
  }
  for (const auto& [key, value] : *secrets) {
    if (key.starts_with("TAUON_")) {
      return Fail("{}: {}: names starting with TAUON_ are reserved for Tauon's own variables",
                  file.string(), key);
    }
  }
  return *secrets;
}

}  // namespace

int RunCommand(const RunOptions& options) {
  signal(SIGPIPE, SIG_IGN);
  runs::RunRequest request;
  request.repo_dir = options.dir;
  request.ref = options.ref;
  request.worktree = options.worktree;
  request.jobs = options.jobs;
  request.event = options.event;
  request.keep_workspaces = options.keep_workspaces;
  // A local run commits at most every 10 ms: fewer commits for many short jobs.
  request.commit_interval = Duration(10);
  request.parallelism = options.parallelism > 0
                            ? options.parallelism
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Result<spec::EnvList> env = ParseEnvArguments(options.env);
  if (!env) {
    PrintError("{}", env.error().message);
    return kExitUsage;
  }
  request.env_overrides = std::move(*env);
  if (options.secrets_file) {
    Result<spec::EnvList> secrets = LoadSecrets(*options.secrets_file);
    if (!secrets) {
      for (const std::string& line : Split(secrets.error().message, '\n')) {
        PrintError("{}", line);
      }
      return kExitUsage;
    }
    request.secrets = std::move(*secrets);
  }

  Result<std::unique_ptr<runs::PreparedRun>> prepared = runs::PreparedRun::Prepare(request);
  if (!prepared) {
    const std::string& message = prepared.error().message;
    if (message.starts_with(runs::kPipelineFile)) {
      PrintBlock(message);
    } else {
      PrintError("{}", message);
    }
    return kExitUsage;
  }
  runs::PreparedRun& run = **prepared;

  std::error_code ec;
  // Absolute, so that no library resolves it against another directory.
  const fs::path data_dir = fs::absolute(options.data_dir).lexically_normal();
  fs::create_directories(data_dir, ec);
  if (ec) {
    PrintError("cannot create the data directory {}: {}", data_dir.string(), ec.message());
    return kExitFailed;
  }
  runs::DataLayout layout(data_dir);
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout.database());
  if (!store) {
    PrintError("{}", store.error().message);
    return kExitFailed;
  }
  SystemClock clock;
  // Runs whose tauon died (kill -9) would otherwise stay "running" forever.
  Result<std::vector<int64_t>> recovered = runs::RecoverAbandonedRuns(**store, clock, /*local_only=*/true);
  if (!recovered) {
    PrintError("{}", recovered.error().message);
    return kExitFailed;
  }
  for (int64_t id : *recovered) {
    fmt::print(stderr, "tauon: run {} was interrupted: the process executing it stopped; its "
                       "remaining processes were killed\n", id);
  }

  exec::LocalProcessRunner runner(clock);
  InterruptGuard interrupts(runner);
  Result<int64_t> run_id = run.Record(**store, clock);
  if (!run_id) {
    PrintError("{}", run_id.error().message);
    return kExitFailed;
  }

  // With --json, stdout carries only the final document; progress goes to stderr.
  FILE* live = options.json ? stderr : stdout;
  Style style = Style::For(live);
  const scm::CommitInfo& commit = run.commit();
  fmt::print(live, "{}\n",
             style.Paint(fmt::format("tauon: run {} of {}{} @ {} {} ({} job{}, -j {})", *run_id,
                                     run.request().repo_name,
                                     run.pipeline().name.empty() ? "" : " / " + run.pipeline().name,
                                     commit.branch.empty() ? "(detached)" : commit.branch,
                                     commit.sha.substr(0, 12), run.plan().jobs.size(),
                                     run.plan().jobs.size() == 1 ? "" : "s", request.parallelism),
                         "1"));
  for (const std::string& note : run.Notes()) {
    fmt::print(live, "{}\n", style.Paint("note: " + note, "33"));
  }
  // Expected durations from the repository's earlier runs, for estimates of
  // the time left; none without history.
  std::vector<std::optional<Duration>> expected;
  if (Result<std::map<std::string, Duration>> durations = history::ExpectedJobDurations(
          (*store)->database(), run.request().repo_name, *run_id);
      durations && !durations->empty()) {
    for (const engine::PlannedJob& job : run.plan().jobs) {
      auto it = durations->find(job.name);
      expected.push_back(it == durations->end() ? std::nullopt
                                                : std::optional<Duration>(it->second));
    }
    std::vector<std::vector<size_t>> needs;
    for (const engine::PlannedJob& job : run.plan().jobs) needs.push_back(job.needs);
    std::vector<history::JobProgress> not_started(expected.size());
    if (std::optional<Duration> total =
            history::EstimateTimeLeft(needs, expected, not_started, TimePoint{})) {
      fmt::print(live, "{}\n",
                 style.Paint(fmt::format("note: expected to take about {} (earlier runs)",
                                         FormatDuration(*total)),
                             "2"));
    }
  }
  fflush(live);
  ConsoleReporter console(run.plan(), live, style);
  if (!expected.empty()) console.SetExpectedDurations(std::move(expected));
  Result<engine::RunStatus> status = run.Execute(**store, layout, runner, clock, console);
  if (!status) {
    PrintError("run {}: {}", *run_id, status.error().message);
    return kExitFailed;
  }

  Result<nlohmann::json> resource = api::RunJson(**store, *run_id);
  if (!resource) {
    PrintError("{}", resource.error().message);
    return kExitFailed;
  }
  if (options.json) {
    fmt::print("{}\n", api::ToJsonText(*resource));
  } else {
    fmt::print("\n{}", RenderRun(*resource, style, /*detailed=*/false));
    if (!(*resource)["error"].get<std::string>().empty()) {
      fmt::print("{}\n", style.Paint("error: " + (*resource)["error"].get<std::string>(), "31"));
    }
    if (const auto& version = run.registered()) {
      fmt::print("\n{}\n", style.Paint(fmt::format("registered model {} version {} ({})",
                                                    version->name, version->version,
                                                    version->digest.substr(0, 19)),
                                        "32"));
      fmt::print("  tauon model show {}@{}    tauon model lineage {}@{}\n", version->name,
                 version->version, version->name, version->version);
    } else if (!run.not_registered().empty()) {
      fmt::print("\n{}\n", style.Paint("note: " + run.not_registered(), "33"));
    }
    int64_t ms = (*resource)["duration_ms"].is_number() ? (*resource)["duration_ms"].get<int64_t>() : 0;
    fmt::print("\nrun {} {} in {}  (tauon show {}, tauon logs {})\n", *run_id,
               style.Status(engine::Name(*status)), FormatDuration(Duration(ms)), *run_id, *run_id);
  }
  switch (*status) {
    case engine::RunStatus::kSuccess:
      return kExitOk;
    case engine::RunStatus::kCancelled:
      return kExitCancelled;
    default:
      return kExitFailed;
  }
}

int ValidateCommand(const fs::path& file) {
  Result<std::string> source = ReadFileToString(file);
  if (!source) {
    PrintError("{}", source.error().message);
    return kExitUsage;
  }
  auto pipeline = spec::ParsePipeline(*source);
  if (!pipeline) {
    PrintBlock(spec::FormatDiagnostics(file.string(), *source, pipeline.error()));
    fmt::print(stderr, "{} error{} in {}\n", pipeline.error().size(),
               pipeline.error().size() == 1 ? "" : "s", file.string());
    return kExitUsage;
  }
  Result<engine::Plan> plan = engine::BuildPlan(*pipeline);
  if (!plan) {
    PrintError("{}", plan.error().message);
    return kExitUsage;
  }
  fmt::print("{}: ok ({} job{}{})\n", file.string(), pipeline->jobs.size(),
             pipeline->jobs.size() == 1 ? "" : "s",
             plan->jobs.size() != pipeline->jobs.size()
                 ? fmt::format(", {} with matrix expansions", plan->jobs.size())
                 : "");
  return kExitOk;
}

int RunsCommand(const RunsOptions& options) {
  store::RunFilter filter;
  filter.repo = options.repo;
  filter.branch = options.branch;
  filter.limit = options.limit;
  if (options.status) {
    filter.status = engine::ParseRunStatus(*options.status);
    if (!filter.status) {
      PrintError("invalid --status '{}': expected queued, running, success, failed, cancelled or "
                 "interrupted",
                 *options.status);
      return kExitUsage;
    }
  }
  if (Status checked = CheckNotAFile(options.data_dir); !checked) {
    PrintError("{}", checked.error().message);
    return kExitUsage;
  }
  if (!fs::exists(runs::DataLayout(options.data_dir).database())) {
    // Nothing has run here yet: an empty list, not an error.
    if (options.json) {
      fmt::print("[]\n");
    } else {
      fmt::print("no runs in {} yet\n", options.data_dir.string());
    }
    return kExitOk;
  }
  Result<std::unique_ptr<store::Store>> store = OpenExistingStore(options.data_dir);
  if (!store) {
    PrintError("{}", store.error().message);
    return kExitFailed;
  }
  Result<std::vector<store::RunRecord>> runs = (*store)->ListRuns(filter);
  if (!runs) {
    PrintError("{}", runs.error().message);
    return kExitFailed;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const store::RunRecord& run : *runs) list.push_back(api::RunSummaryJson(run));
  if (options.json) {
    fmt::print("{}\n", api::ToJsonText(list));
  } else {
    fmt::print("{}", RenderRunList(list, Style::For(stdout)));
  }
  return kExitOk;
}

int ShowCommand(const fs::path& data_dir, const std::string& run, bool json) {
  Loaded loaded = LoadRun(data_dir, run);
  if (!loaded.run) return loaded.exit_code;
  const nlohmann::json* resource = &*loaded.run;
  if (json) {
    fmt::print("{}\n", api::ToJsonText(*resource));
  } else {
    fmt::print("{}", RenderRun(*resource, Style::For(stdout), /*detailed=*/true));
  }
  return kExitOk;
}

int LogsCommand(const fs::path& data_dir, const std::string& run, const std::string& selector,
                std::optional<int> attempt, bool timestamps) {
  Loaded loaded = LoadRun(data_dir, run);
  if (!loaded.run) return loaded.exit_code;
  const nlohmann::json* resource = &*loaded.run;
  const nlohmann::json& jobs = (*resource)["jobs"];
  auto job_matches = [](const nlohmann::json& job, std::string_view name) {
    return JobNameMatches(job["name"].get<std::string>(), name);
  };
  std::string job_filter = selector, step_filter;
  bool found = selector.empty();
  if (!selector.empty()) {
    for (const auto& job : jobs) found = found || job_matches(job, selector);
    for (size_t slash = selector.find('/'); !found && slash != std::string::npos;
         slash = selector.find('/', slash + 1)) {
      for (const auto& job : jobs) {
        if (job_matches(job, selector.substr(0, slash))) {
          found = true;
          job_filter = selector.substr(0, slash);
          step_filter = selector.substr(slash + 1);
        }
      }
    }
  }
  if (!found) {
    std::vector<std::string> names;
    for (const auto& job : jobs) names.push_back(job["name"].get<std::string>());
    PrintError("run {} has no job '{}' (jobs: {})", (*resource)["id"].get<int64_t>(), selector,
               Join(names, ", "));
    return kExitUsage;
  }
  Style style = Style::For(stdout);
  const int64_t run_id = (*resource)["id"].get<int64_t>();
  runs::DataLayout layout(data_dir);
  // Prints a log file, without the timestamps unless asked for.
  auto print_log = [&](const std::string& title, const fs::path& path) {
    Result<std::string> text = ReadFileToString(path);
    if (!text) return false;
    fmt::print("{}\n", style.Paint(fmt::format("==> {} <==", title), "1"));
    for (std::string_view rest = *text; !rest.empty();) {
      std::string_view line = rest.substr(0, rest.find('\n'));
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
      size_t space = line.find(' ');
      if (!timestamps && space != std::string_view::npos) line.remove_prefix(space + 1);
      fmt::print("{}\n", line);
    }
    return true;
  };
  bool printed_step = false;
  for (size_t position = 0; position < jobs.size(); ++position) {
    const nlohmann::json& job = jobs[position];
    if (!job_filter.empty() && !job_matches(job, job_filter)) continue;
    const std::string job_name = job["name"].get<std::string>();
    const int latest = job["attempt"].get<int>();
    if (attempt && (*attempt < 1 || *attempt > latest)) {
      PrintError("job '{}' has no attempt {} (it has {})", job_name, *attempt, latest);
      return kExitUsage;
    }
    const int shown = attempt.value_or(latest);
    const fs::path dir = data_dir / layout.logs(run_id, position, job_name, shown);
    const std::string suffix = latest > 1 ? fmt::format(", attempt {}", shown) : "";
    int index = 0;
    for (const auto& step : job["steps"]) {
      ++index;
      std::string name = step["name"].get<std::string>();
      if (!step_filter.empty() && step_filter != name && step_filter != std::to_string(index)) {
        continue;
      }
      printed_step = true;
      std::string status = shown == latest ? " (" + step["status"].get<std::string>() + ")" : "";
      // A job reused from an earlier run has its output there; its steps say where.
      const bool reused = !job["reused_from"].is_null() && shown == latest;
      fs::path log = reused ? data_dir / step["log"].get<std::string>()
                            : dir / fmt::format("{}.log", index - 1);
      if (!print_log(fmt::format("{} / {}{}{}", job_name, name, status, suffix), log)) {
        fmt::print("{}\n", style.Paint(fmt::format("==> {} / {}{}{}: no output <==", job_name,
                                                    name, status, suffix),
                                        "2"));
      }
    }
    if (!step_filter.empty()) continue;
    // Then the attempt's services and Tauon's own notes about it.
    std::error_code ec;
    std::vector<fs::path> services;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().starts_with("service-")) services.push_back(entry.path());
    }
    std::sort(services.begin(), services.end());
    for (const fs::path& service : services) {
      std::string name = service.stem().string().substr(8);
      print_log(fmt::format("{} / service {}{}", job_name, name, suffix), service);
    }
    print_log(fmt::format("{} / notes{}", job_name, suffix), dir / "job.log");
  }
  if (!step_filter.empty() && !printed_step) {
    PrintError("job '{}' has no step '{}'", job_filter, step_filter);
    return kExitUsage;
  }
  return kExitOk;
}

int LocalFollowCommand(const fs::path& data_dir, const std::string& run) {
  Result<std::optional<int64_t>> wanted = ParseRunArgument(run);
  if (!wanted) {
    PrintError("{}", wanted.error().message);
    return kExitUsage;
  }
  Result<std::unique_ptr<store::Store>> store = OpenExistingStore(data_dir);
  Result<int64_t> id = store ? ResolveRunId(**store, *wanted) : std::unexpected(store.error());
  if (!id) {
    PrintError("{}", id.error().message);
    return kExitFailed;
  }
  runs::LogFollower follower(**store, data_dir, *id);
  EventPrinter printer(stdout, Style::For(stdout));
  while (true) {
    bool finished = false;
    Result<std::vector<runs::LogFollower::Event>> events = follower.Poll(&finished);
    if (!events) {
      PrintError("{}", events.error().message);
      return kExitFailed;
    }
    for (const auto& event : *events) printer.Print(event.type, event.data);
    if (finished) return ExitCodeOf(printer.final_status());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int ArtifactsCommand(const fs::path& data_dir, const std::string& run, bool json) {
  Loaded loaded = LoadRun(data_dir, run);
  if (!loaded.run) return loaded.exit_code;
  const nlohmann::json list = api::RunArtifactsJson(*loaded.run);
  const int64_t id = (*loaded.run)["id"].get<int64_t>();
  const nlohmann::json* artifacts = &list;
  if (json) {
    fmt::print("{}\n", api::ToJsonText(*artifacts));
    return kExitOk;
  }
  if (artifacts->empty()) {
    fmt::print("run {} stored no artifacts\n", id);
    return kExitOk;
  }
  Style style = Style::For(stdout);
  fmt::print("{}\n", style.Paint(fmt::format("{:<24}{:<40}{:>12}  {}", "JOB", "PATH", "SIZE",
                                             "DIGEST"),
                                 "1"));
  for (const auto& a : *artifacts) {
    fmt::print("{:<24}{:<40}{:>12}  {}\n", a["job"].get<std::string>(),
               a["path"].get<std::string>(), a["size"].get<int64_t>(),
               a["digest"].get<std::string>());
  }
  return kExitOk;
}

}  // namespace tauon::cli
