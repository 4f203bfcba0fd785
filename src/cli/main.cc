// tauon: CI/CD for AI models. Command-line parsing only; the commands live in
// commands.cc.
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include "cli/commands.h"
#include "util/strings.h"

namespace {

using tauon::cli::kExitUsage;

const char* DefaultDataDir() {
  const char* env = getenv("TAUON_DATA_DIR");
  return env && *env ? env : ".tauon";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tauon: CI/CD for AI models. Runs a repository's .tauon.yml pipeline, gates and "
               "registers its model, and rolls it out."};
  app.set_version_flag("--version", "tauon 0.1.0");
  app.require_subcommand(0, 1);
  app.allow_extras();  // Unknown commands are reported below, with a suggestion.
  app.fallthrough();  // --data-dir may also come after the subcommand.
  std::string data_dir = DefaultDataDir();
  app.add_option("--data-dir", data_dir,
                 "Where runs, logs and artifacts are kept (default: .tauon, or $TAUON_DATA_DIR)")
      ->capture_default_str();
  int exit_code = 0;

  // tauon run
  tauon::cli::RunOptions run;
  std::string secrets_file;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run the pipeline of a git repository's commit (HEAD by default), locally");
  run_cmd->add_option("dir", run.dir, "The git repository (default: .)");
  run_cmd->add_option("--ref", run.ref, "Commit, branch or tag to run instead of HEAD");
  run_cmd->add_flag("--worktree", run.worktree,
                    "Run the work tree as it is, uncommitted changes included");
  // Repeatable options take one value each, so positional arguments after them stay positional.
  run_cmd->add_option("--job", run.jobs, "Run only this job and what it needs (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("-j,--jobs", run.parallelism, "Jobs to run at once (default: cores)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--secrets", secrets_file,
                      "Dotenv file (KEY=VALUE lines) of secrets exported to the steps, masked "
                      "in all output");
  run_cmd->add_option("--env", run.env, "KEY=VALUE for every step; wins over the file (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("--event", run.event, "The event the run is for, seen by 'if:' (default: push)");
  run_cmd->add_flag("--keep-workspaces", run.keep_workspaces,
                    "Keep job workspaces after the run, for debugging");
  run_cmd->add_flag("--json", run.json, "Print the finished run as JSON (progress on stderr)");
  auto run_action = [&] {
    run.data_dir = data_dir;
    if (!secrets_file.empty()) run.secrets_file = secrets_file;
    exit_code = tauon::cli::RunCommand(run);
  };

  // tauon validate
  std::string validate_file = ".tauon.yml";
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check a pipeline file and print every error in it");
  validate_cmd->add_option("file", validate_file, "The pipeline file (default: .tauon.yml)");
  auto validate_action = [&] { exit_code = tauon::cli::ValidateCommand(validate_file); };

  // tauon runs
  tauon::cli::RunsOptions runs;
  std::string repo, branch, status;
  CLI::App* runs_cmd = app.add_subcommand("runs", "List recent runs, newest first");
  runs_cmd->add_option("--repo", repo, "Only runs of this repository");
  runs_cmd->add_option("--branch", branch, "Only runs of this branch");
  runs_cmd->add_option("--status", status, "Only runs with this status");
  runs_cmd->add_option("-n,--limit", runs.limit, "How many runs (default: 20)")
      ->check(CLI::Range(1, 10000));
  runs_cmd->add_flag("--json", runs.json, "Print JSON");
  auto runs_action = [&] {
    runs.data_dir = data_dir;
    if (!repo.empty()) runs.repo = repo;
    if (!branch.empty()) runs.branch = branch;
    if (!status.empty()) runs.status = status;
    exit_code = tauon::cli::RunsCommand(runs);
  };

  // tauon show
  std::string show_run;
  bool show_json = false;
  CLI::App* show_cmd = app.add_subcommand("show", "Show a run: jobs, steps, tests and artifacts");
  show_cmd->add_option("run", show_run, "Run id, or 'last'")->required();
  show_cmd->add_flag("--json", show_json, "Print JSON");
  auto show_action = [&] { exit_code = tauon::cli::ShowCommand(data_dir, show_run, show_json); };

  // tauon logs
  std::string logs_run, logs_selector;
  bool timestamps = false;
  CLI::App* logs_cmd = app.add_subcommand("logs", "Print the logs of a run, a job or a step");
  logs_cmd->add_option("run", logs_run, "Run id, or 'last'")->required();
  logs_cmd->add_option("job", logs_selector, "JOB or JOB/STEP (a step name or number)");
  logs_cmd->add_flag("--timestamps", timestamps, "Show when each line was written");
  int logs_attempt = 0;
  logs_cmd->add_option("--attempt", logs_attempt, "Show this attempt of the jobs (default: latest)")
      ->check(CLI::PositiveNumber);
  auto logs_action = [&] {
    exit_code = tauon::cli::LogsCommand(data_dir, logs_run, logs_selector,
                                        logs_attempt ? std::optional<int>(logs_attempt)
                                                     : std::nullopt,
                                        timestamps);
  };

  // tauon artifacts
  std::string artifacts_run;
  bool artifacts_json = false;
  CLI::App* artifacts_cmd = app.add_subcommand("artifacts", "List the artifacts a run stored");
  artifacts_cmd->add_option("run", artifacts_run, "Run id, or 'last'")->required();
  artifacts_cmd->add_flag("--json", artifacts_json, "Print JSON");
  auto artifacts_action = [&] {
    exit_code = tauon::cli::ArtifactsCommand(data_dir, artifacts_run, artifacts_json);
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  std::vector<std::string> extras = app.remaining(/*recurse=*/true);
  std::erase(extras, "--");  // The end-of-options marker is not an argument.
  if (app.get_subcommands().empty()) {
    if (extras.empty()) {
      fmt::print(stderr, "{}", app.help());
      return kExitUsage;
    }
    std::vector<std::string> commands;
    for (const CLI::App* command : app.get_subcommands({})) commands.push_back(command->get_name());
    std::optional<std::string> suggestion = tauon::SuggestClosest(extras.front(), commands);
    fmt::print(stderr, "tauon: error: unknown command '{}'{} (commands: {})\n", extras.front(),
               suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "",
               tauon::Join(commands, ", "));
    return kExitUsage;
  }
  if (!extras.empty()) {
    fmt::print(stderr, "tauon: error: unexpected argument '{}' (see tauon {} --help)\n",
               extras.front(), app.get_subcommands().front()->get_name());
    return kExitUsage;
  }
  const std::pair<CLI::App*, std::function<void()>> actions[] = {
      {run_cmd, run_action},   {validate_cmd, validate_action},   {runs_cmd, runs_action},
      {show_cmd, show_action}, {logs_cmd, logs_action}, {artifacts_cmd, artifacts_action}};
  for (const auto& [command, action] : actions) {
    if (command->parsed()) action();
  }
  return exit_code;
}
