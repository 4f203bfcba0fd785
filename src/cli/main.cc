// tauon: CI/CD for AI models. Command-line parsing only; the commands live in
// commands.cc.
#include <limits>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/deploy.h"
#include "cli/models.h"
#include "cli/remote.h"
#include "cli/tests_cmd.h"
#include "engine/status.h"
#include "notify/notifier.h"
#include "router/router_command.h"
#include "server/server.h"
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
  std::string server_url;
  app.add_option("--server", server_url,
                 "The tauon server for remote commands (default: $TAUON_SERVER, else "
                 "http://127.0.0.1:8080); runs, show, logs and tests rank|flaky read it instead "
                 "of --data-dir");
  int exit_code = 0;
  // The command that was given runs after parsing, so that stray arguments
  // are refused before anything happens.
  std::vector<std::pair<CLI::App*, std::function<void()>>> actions;
  auto remote = [&](auto&& command) {
    tauon::Result<tauon::cli::Remote> connected =
        tauon::cli::ConnectRemote(server_url, data_dir);
    if (!connected) {
      fmt::print(stderr, "tauon: error: {}\n", connected.error().message);
      exit_code = kExitUsage;
      return;
    }
    exit_code = command(*connected);
  };
  // runs, show and logs go to a server when one is named.
  auto use_server = [&] {
    const char* env_server = getenv("TAUON_SERVER");
    return !server_url.empty() || (env_server && *env_server);
  };

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
  runs_cmd->add_option("-n,--limit", runs.limit, "How many runs (default: 20, at most 500)")
      ->check(CLI::Range(1, 500));
  runs_cmd->add_flag("--json", runs.json, "Print JSON");
  auto runs_action = [&] {
    if (!status.empty() && !tauon::engine::ParseRunStatus(status)) {
      fmt::print(stderr, "tauon: error: invalid --status '{}': expected queued, running, success, "
                         "failed, cancelled or interrupted\n",
                 status);
      exit_code = kExitUsage;
      return;
    }
    runs.data_dir = data_dir;
    if (!repo.empty()) runs.repo = repo;
    if (!branch.empty()) runs.branch = branch;
    if (!status.empty()) runs.status = status;
    if (!use_server()) {
      exit_code = tauon::cli::RunsCommand(runs);
      return;
    }
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::RemoteRunsCommand(r, runs.repo, runs.branch, runs.status, runs.limit,
                                           runs.json);
    });
  };

  // tauon show
  std::string show_run;
  bool show_json = false;
  CLI::App* show_cmd = app.add_subcommand("show", "Show a run: jobs, steps, tests and artifacts");
  show_cmd->add_option("run", show_run, "Run id, or 'last'")->required();
  show_cmd->add_flag("--json", show_json, "Print JSON");
  auto show_action = [&] {
    if (!use_server()) {
      exit_code = tauon::cli::ShowCommand(data_dir, show_run, show_json);
      return;
    }
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::RemoteShowCommand(r, show_run, show_json);
    });
  };

  // tauon logs
  std::string logs_run, logs_selector;
  bool timestamps = false;
  CLI::App* logs_cmd = app.add_subcommand("logs", "Print the logs of a run, a job or a step");
  logs_cmd->add_option("run", logs_run,
                       "Run id, or 'last'; or ENV/REPLICA (e.g. staging/r1) for the output of "
                       "a replica of an environment's release, from the server")
      ->required();
  logs_cmd->add_option("job", logs_selector, "JOB or JOB/STEP (a step name or number)");
  logs_cmd->add_flag("--timestamps", timestamps, "Show when each line was written");
  bool follow = false;
  logs_cmd->add_flag("-f,--follow", follow, "Follow the run's output until it ends");
  int logs_attempt = 0;
  logs_cmd->add_option("--attempt", logs_attempt, "Show this attempt of the jobs (default: latest)")
      ->check(CLI::Range(1, 1000));
  int64_t logs_release = 0;
  logs_cmd->add_option("--release", logs_release,
                       "With ENV/REPLICA: that release's replica (default: the current release)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  auto logs_action = [&] {
    if (tauon::cli::IsReplicaLogRef(logs_run)) {
      if (follow || !logs_selector.empty() || logs_attempt || timestamps) {
        fmt::print(stderr, "tauon: error: a replica's log takes no JOB, -f, --attempt or "
                           "--timestamps\n");
        exit_code = kExitUsage;
        return;
      }
      remote([&](const tauon::cli::Remote& r) {
        return tauon::cli::ReplicaLogsCommand(r, logs_run, logs_release);
      });
      return;
    }
    if (logs_release) {
      fmt::print(stderr, "tauon: error: --release goes with ENV/REPLICA (e.g. staging/r1)\n");
      exit_code = kExitUsage;
      return;
    }
    if (follow && (!logs_selector.empty() || logs_attempt || timestamps)) {
      fmt::print(stderr, "tauon: error: -f follows the whole run: JOB, --attempt and "
                         "--timestamps apply without -f\n");
      exit_code = kExitUsage;
      return;
    }
    if (use_server()) {
      if (logs_attempt || timestamps) {
        fmt::print(stderr, "tauon: error: --attempt and --timestamps read the data directory: run "
                           "tauon logs without --server (and $TAUON_SERVER) on the server's "
                           "machine\n");
        exit_code = kExitUsage;
        return;
      }
      remote([&](const tauon::cli::Remote& r) {
        return follow ? tauon::cli::RemoteFollowCommand(r, logs_run)
                      : tauon::cli::RemoteLogsCommand(r, logs_run, logs_selector);
      });
      return;
    }
    if (follow) {
      exit_code = tauon::cli::LocalFollowCommand(data_dir, logs_run);
      return;
    }
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
    if (use_server()) {
      remote([&](const tauon::cli::Remote& r) {
        return tauon::cli::RemoteArtifactsCommand(r, artifacts_run, artifacts_json);
      });
      return;
    }
    exit_code = tauon::cli::ArtifactsCommand(data_dir, artifacts_run, artifacts_json);
  };

  for (auto& [command, action] :
       std::initializer_list<std::pair<CLI::App*, std::function<void()>>>{
           {run_cmd, run_action},
           {validate_cmd, validate_action},
           {runs_cmd, runs_action},
           {show_cmd, show_action},
           {logs_cmd, logs_action},
           {artifacts_cmd, artifacts_action}}) {
    actions.emplace_back(command, action);
  }

  // tauon models / tauon model show|alias|lineage|diff
  bool models_json = false;
  CLI::App* models_cmd = app.add_subcommand("models", "List registered model versions");
  models_cmd->add_flag("--json", models_json, "Print JSON");
  actions.emplace_back(models_cmd,
                       [&] { exit_code = tauon::cli::ModelsCommand(data_dir, models_json); });
  CLI::App* model_cmd = app.add_subcommand("model", "Inspect and label registered models");
  model_cmd->require_subcommand(1);
  std::string model_ref, model_ref_b, model_alias;
  bool model_json = false;
  CLI::App* model_show = model_cmd->add_subcommand("show", "One version: metrics, params, files");
  model_show->add_option("model", model_ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  model_show->add_flag("--json", model_json, "Print JSON");
  actions.emplace_back(model_show, [&] {
    exit_code = tauon::cli::ModelShowCommand(data_dir, model_ref, model_json);
  });
  CLI::App* model_alias_cmd =
      model_cmd->add_subcommand("alias", "Point an alias (e.g. production) at a version");
  model_alias_cmd->add_option("model", model_ref, "NAME@VERSION")->required();
  model_alias_cmd->add_option("alias", model_alias, "The alias")->required();
  actions.emplace_back(model_alias_cmd, [&] {
    exit_code = tauon::cli::ModelAliasCommand(data_dir, model_ref, model_alias);
  });
  CLI::App* model_lineage =
      model_cmd->add_subcommand("lineage", "Where a version comes from: commit, run, jobs, files");
  model_lineage->add_option("model", model_ref, "NAME@VERSION or NAME@ALIAS")->required();
  model_lineage->add_flag("--json", model_json, "Print JSON");
  actions.emplace_back(model_lineage, [&] {
    exit_code = tauon::cli::ModelLineageCommand(data_dir, model_ref, model_json);
  });
  CLI::App* model_diff = model_cmd->add_subcommand("diff", "Two versions' metrics side by side");
  model_diff->add_option("a", model_ref, "NAME@VERSION, NAME@ALIAS or run:ID")->required();
  model_diff->add_option("b", model_ref_b, "NAME@VERSION, NAME@ALIAS or run:ID (a run's "
                                           "candidate, e.g. one its gates stopped)")
      ->required();
  model_diff->add_flag("--json", model_json, "Print JSON");
  actions.emplace_back(model_diff, [&] {
    exit_code = tauon::cli::ModelDiffCommand(data_dir, model_ref, model_ref_b, model_json);
  });

  // tauon serve
  tauon::server::ServeOptions serve;
  std::vector<std::string> notify_specs;
  bool no_requeue = false;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Serve: watch repositories, run their pipelines, host environments; HTTP API, "
               "dashboard and webhooks");
  serve_cmd->add_option("--listen", serve.listen, "Address to listen on (default: 127.0.0.1:8080)");
  serve_cmd->add_option("--max-jobs", serve.max_jobs,
                        "Jobs running at once, over all runs (default: cores)")
      ->check(CLI::Range(1, 1024));
  serve_cmd->add_option("--notify", notify_specs,
                        "Where to send run results: slack=URL, dingtalk=URL[,secret=S] or "
                        "webhook=URL (repeatable)")
      ->allow_extra_args(false);
  serve_cmd->add_flag("--no-requeue", no_requeue,
                      "Do not re-queue runs a dead server left interrupted");
  serve_cmd->add_option("--public-url", serve.public_url,
                        "Base URL of this server in notification links (default: http://LISTEN)");
  actions.emplace_back(serve_cmd, [&] {
    serve.data_dir = data_dir;
    serve.requeue_interrupted = no_requeue ? 0 : 1;
    for (const std::string& spec : notify_specs) {
      tauon::Result<tauon::notify::Channel> channel = tauon::notify::ParseChannel(spec);
      if (!channel) {
        fmt::print(stderr, "tauon: error: {}\n", channel.error().message);
        exit_code = kExitUsage;
        return;
      }
      serve.notify.push_back(*channel);
    }
    exit_code = tauon::server::Serve(serve);
  });

  // tauon repo add|list|remove
  CLI::App* repo_cmd = app.add_subcommand("repo", "Manage the repositories a server watches");
  repo_cmd->require_subcommand(1);
  tauon::cli::RepoAddOptions repo_add;
  std::string secret_file;
  CLI::App* repo_add_cmd = repo_cmd->add_subcommand("add", "Watch a repository");
  repo_add_cmd->add_option("name", repo_add.name, "A name for it")->required();
  repo_add_cmd->add_option("url", repo_add.url, "Its clone URL or path")->required();
  repo_add_cmd->add_option("--branch", repo_add.branches,
                           "Only branches matching this glob (repeatable; default: all)")
      ->allow_extra_args(false);
  repo_add_cmd->add_option("--poll", repo_add.poll, "How often to fetch (default: 10s, min 1s)");
  repo_add_cmd->add_option("--webhook-secret-file", secret_file,
                           "File holding the secret that signs its webhooks");
  actions.emplace_back(repo_add_cmd, [&] {
    if (!secret_file.empty()) repo_add.webhook_secret_file = secret_file;
    // A local path means this machine's path: the server may run elsewhere.
    if (repo_add.url.find("://") == std::string::npos && std::filesystem::exists(repo_add.url)) {
      repo_add.url = std::filesystem::absolute(repo_add.url).lexically_normal().string();
    }
    remote([&](const tauon::cli::Remote& r) { return tauon::cli::RepoAddCommand(r, repo_add); });
  });
  bool repo_list_json = false;
  CLI::App* repo_list_cmd = repo_cmd->add_subcommand("list", "List the watched repositories");
  repo_list_cmd->add_flag("--json", repo_list_json, "Print JSON");
  actions.emplace_back(repo_list_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::RepoListCommand(r, repo_list_json);
    });
  });
  std::string repo_remove_name;
  CLI::App* repo_remove_cmd = repo_cmd->add_subcommand("remove", "Stop watching a repository");
  repo_remove_cmd->add_option("name", repo_remove_name, "Its name")->required();
  actions.emplace_back(repo_remove_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::RepoRemoveCommand(r, repo_remove_name);
    });
  });

  // tauon trigger
  std::string trigger_repo, trigger_ref;
  bool trigger_json = false;
  CLI::App* trigger_cmd =
      app.add_subcommand("trigger", "Queue a run of a watched repository on the server");
  trigger_cmd->add_option("repo", trigger_repo, "The repository's name")->required();
  trigger_cmd->add_option("--ref", trigger_ref, "Branch, tag or commit (default: its HEAD)");
  trigger_cmd->add_flag("--json", trigger_json, "Print the queued run as JSON");
  actions.emplace_back(trigger_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::TriggerCommand(r, trigger_repo, trigger_ref, trigger_json);
    });
  });

  // tauon cancel / rerun
  std::string cancel_run;
  CLI::App* cancel_cmd = app.add_subcommand("cancel", "Cancel a queued or running run on the server");
  cancel_cmd->add_option("run", cancel_run, "Run id, or 'last'")->required();
  actions.emplace_back(cancel_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) { return tauon::cli::CancelCommand(r, cancel_run); });
  });
  std::string rerun_run;
  bool rerun_failed = false, rerun_json = false;
  CLI::App* rerun_cmd = app.add_subcommand("rerun", "Run a finished run's commit again on the server");
  rerun_cmd->add_option("run", rerun_run, "Run id, or 'last'")->required();
  rerun_cmd->add_flag("--failed", rerun_failed,
                      "Only the jobs that did not succeed; succeeded ones are reused");
  rerun_cmd->add_flag("--json", rerun_json, "Print the queued run as JSON");
  actions.emplace_back(rerun_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::RerunCommand(r, rerun_run, rerun_failed, rerun_json);
    });
  });

  // tauon deploy / status
  tauon::cli::DeployOptions deploy;
  bool deploy_no_wait = false;
  std::string deploy_timeout = "5m";
  CLI::App* deploy_cmd = app.add_subcommand(
      "deploy", "Deploy a model version to an environment of the server, and wait until it serves");
  deploy_cmd->add_option("environment", deploy.environment,
                         "The environment (defined in the version's .tauon.yml deploy section)")
      ->required();
  deploy_cmd->add_option("--model", deploy.model, "NAME@VERSION, NAME@ALIAS or NAME (the latest)")
      ->required();
  deploy_cmd->add_option("--repo", deploy.repo, "The repository the model must come from");
  deploy_cmd->add_flag("--no-wait", deploy_no_wait, "Return once the release has started");
  deploy_cmd->add_option("--timeout", deploy_timeout,
                         "How long to wait for the release to serve (default: 5m)");
  deploy_cmd->add_flag("--json", deploy.json, "Print the environment as JSON at the end");
  // --timeout of deploy and promote: false (a usage error, said) when malformed.
  auto parse_timeout = [&](const std::string& text, tauon::Duration& out) {
    tauon::Result<tauon::Duration> timeout = tauon::ParseDuration(text);
    if (!timeout || timeout->count() <= 0) {
      fmt::print(stderr, "tauon: error: invalid --timeout '{}' (e.g. 30s, 5m)\n", text);
      exit_code = kExitUsage;
      return false;
    }
    out = *timeout;
    return true;
  };
  actions.emplace_back(deploy_cmd, [&] {
    if (!parse_timeout(deploy_timeout, deploy.timeout)) return;
    deploy.wait = !deploy_no_wait;
    remote([&](const tauon::cli::Remote& r) { return tauon::cli::DeployCommand(r, deploy); });
  });
  tauon::cli::DeployOptions rollout;
  rollout.wait = false;
  std::string rollout_timeout = "5m";
  for (const auto& [name, help] :
       {std::pair{"promote", "Move an environment's canary to its next step (the last: it takes "
                             "all the traffic), switch to its blue-green preview, or deploy the "
                             "version waiting for its approval"},
        std::pair{"abort", "Roll back the release in progress in an environment: all traffic "
                           "back on the stable release"}}) {
    CLI::App* command = app.add_subcommand(name, help);
    command->add_option("environment", rollout.environment, "The environment")->required();
    if (std::string_view(name) == "promote") {
      command->add_flag("--wait", rollout.wait,
                        "Then follow the release until it serves or fails, as tauon deploy does");
      command->add_option("--timeout", rollout_timeout, "With --wait: give up waiting after this")
          ->capture_default_str();
    }
    actions.emplace_back(command, [&, action = std::string(name)] {
      if (!parse_timeout(rollout_timeout, rollout.timeout)) return;
      remote([&](const tauon::cli::Remote& r) {
        return tauon::cli::RolloutCommand(r, action, rollout);
      });
    });
  }
  tauon::cli::DeployOptions rollback;
  rollback.rollback = true;
  bool rollback_no_wait = false;
  CLI::App* rollback_cmd = app.add_subcommand(
      "rollback", "Deploy again the version an environment served before (or --to VERSION)");
  rollback_cmd->add_option("environment", rollback.environment, "The environment")->required();
  rollback_cmd->add_option("--to", rollback.to, "VERSION or NAME@VERSION (default: the one before)");
  rollback_cmd->add_flag("--no-wait", rollback_no_wait, "Return once the release has started");
  rollback_cmd->add_flag("--json", rollback.json, "Print the environment as JSON at the end");
  actions.emplace_back(rollback_cmd, [&] {
    rollback.wait = !rollback_no_wait;
    remote([&](const tauon::cli::Remote& r) { return tauon::cli::DeployCommand(r, rollback); });
  });
  std::string status_environment;
  bool status_json = false;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "Environments on the server: releases, replicas, weights and live traffic");
  status_cmd->add_option("environment", status_environment, "One environment, in detail");
  status_cmd->add_flag("--json", status_json, "Print JSON");
  actions.emplace_back(status_cmd, [&] {
    remote([&](const tauon::cli::Remote& r) {
      return tauon::cli::StatusCommand(r, status_environment, status_json);
    });
  });

  // tauon router
  tauon::router::RouterCommandOptions router_options;
  std::string router_connect_timeout, router_read_timeout, router_header_timeout,
      router_idle_timeout;
  CLI::App* router_cmd = app.add_subcommand(
      "router", "Run a traffic router in the foreground: weighted HTTP proxy to releases' "
                "replicas, with pinning, sticky keys, mirroring and Prometheus metrics");
  router_cmd->add_option("--listen", router_options.listen,
                         "Address to listen on (default: 127.0.0.1:8000; port 0 picks one)");
  router_cmd->add_option("--release", router_options.releases,
                         "NAME[@VERSION]=WEIGHT:HOST:PORT[,HOST:PORT...]: a release, its weight "
                         "and its replicas (repeatable, at least one)")
      ->allow_extra_args(false);
  router_cmd->add_option("--mirror", router_options.mirror,
                         "NAME:PERCENT: also send PERCENT% of the other releases' requests to "
                         "release NAME; its responses are discarded and recorded");
  router_cmd->add_option("--sticky-header", router_options.sticky_header,
                         "Route requests by the hash of this header's value");
  router_cmd->add_option("--sticky-cookie", router_options.sticky_cookie,
                         "Route requests by the hash of this cookie's value");
  router_cmd->add_option("--metrics-listen", router_options.metrics_listen,
                         "Serve GET /metrics (Prometheus) and GET /stats (JSON) on this address");
  router_cmd->add_option("--environment", router_options.environment,
                         "The environment label of the metrics (default: default)");
  router_cmd->add_option("--threads", router_options.router.threads,
                         "I/O threads (default: cores)")
      ->check(CLI::Range(1, 256));
  router_cmd->add_option("--connect-timeout", router_connect_timeout,
                         "Connecting to a replica (default: 2s)");
  router_cmd->add_option("--read-timeout", router_read_timeout,
                         "Each wait for a replica's response bytes (default: 60s)");
  router_cmd->add_option("--header-timeout", router_header_timeout,
                         "A client must send a request's head and body within this (default: 10s)");
  router_cmd->add_option("--idle-timeout", router_idle_timeout,
                         "Idle client connections are closed after this (default: 60s)");
  router_cmd->add_option("--max-body", router_options.router.max_request_body_bytes,
                         "Largest request body in bytes (default: 16777216)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  actions.emplace_back(router_cmd, [&] {
    for (auto [text, target] : {std::pair{&router_connect_timeout, &router_options.router.connect_timeout},
                                std::pair{&router_read_timeout, &router_options.router.read_timeout},
                                std::pair{&router_header_timeout, &router_options.router.header_timeout},
                                std::pair{&router_idle_timeout, &router_options.router.idle_timeout}}) {
      if (text->empty()) continue;
      tauon::Result<tauon::Duration> duration = tauon::ParseDuration(*text);
      if (!duration || duration->count() <= 0) {
        fmt::print(stderr, "tauon: error: invalid duration '{}' (e.g. 500ms, 2s, 1m)\n", *text);
        exit_code = kExitUsage;
        return;
      }
      *target = *duration;
    }
    exit_code = tauon::router::RouterCommand(router_options);
  });

  // tauon tests replay|rank|flaky
  CLI::App* tests_cmd =
      app.add_subcommand("tests", "Test history: replay a history, rank tests, list flaky tests");
  tests_cmd->require_subcommand(1);
  std::string replay_file;
  bool replay_json = false;
  CLI::App* tests_replay = tests_cmd->add_subcommand(
      "replay", "Replay a test history (CSV, plain or gzip) and print each ordering method's APFD");
  tests_replay->add_option("file", replay_file, "The history file")->required();
  tests_replay->add_flag("--json", replay_json, "Print JSON");
  actions.emplace_back(tests_replay, [&] {
    exit_code = tauon::cli::TestsReplayCommand(replay_file, replay_json);
  });
  std::string rank_repo, rank_job;
  bool rank_json = false;
  CLI::App* tests_rank = tests_cmd->add_subcommand(
      "rank", "A repository's known tests, most likely to fail first, with the reasons");
  tests_rank->add_option("repo", rank_repo, "The repository: its name as runs record it, or its "
                                            "directory")
      ->required();
  tests_rank->add_option("--job", rank_job, "Only this job");
  tests_rank->add_flag("--json", rank_json, "Print JSON");
  // rank and flaky read a server's history when one is named.
  auto tests_source = [&](auto&& command) {
    if (!use_server()) {
      exit_code = command(tauon::cli::TestsSource{data_dir, std::nullopt});
      return;
    }
    remote([&](const tauon::cli::Remote& r) {
      return command(tauon::cli::TestsSource{data_dir, r});
    });
  };
  actions.emplace_back(tests_rank, [&] {
    tests_source([&](const tauon::cli::TestsSource& source) {
      return tauon::cli::TestsRankCommand(source, rank_repo, rank_job, rank_json);
    });
  });
  std::string flaky_repo;
  bool flaky_json = false;
  CLI::App* tests_flaky = tests_cmd->add_subcommand(
      "flaky", "A repository's flaky tests, with the runs and commits that show them");
  tests_flaky->add_option("repo", flaky_repo, "The repository: its name as runs record it, or its "
                                              "directory")
      ->required();
  tests_flaky->add_flag("--json", flaky_json, "Print JSON");
  actions.emplace_back(tests_flaky, [&] {
    tests_source([&](const tauon::cli::TestsSource& source) {
      return tauon::cli::TestsFlakyCommand(source, flaky_repo, flaky_json);
    });
  });

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
  for (const auto& [command, action] : actions) {
    if (command->parsed()) {
      action();
      break;
    }
  }
  return exit_code;
}
