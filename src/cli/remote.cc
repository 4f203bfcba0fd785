#include "cli/remote.h"

#include <fmt/format.h>

#include "api/resources.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "http/client.h"
#include "util/files.h"
#include "util/strings.h"

namespace tauon::cli {
namespace {

using nlohmann::json;

// "7" -> "7"; "last" -> the newest run's id, asked of the server.
Result<std::string> RunId(const Remote& remote, const std::string& run) {
  if (run != "last") {
    if (run.empty() || run.find_first_not_of("0123456789") != std::string::npos) {
      return Fail("invalid run '{}': expected a run id or 'last'", run);
    }
    return run;
  }
  Result<json> runs = CallApi(remote, "GET", "/api/v1/runs?limit=1");
  if (!runs) return std::unexpected(runs.error());
  if ((*runs)["runs"].empty()) return Fail("there are no runs yet");
  return (*runs)["runs"][0]["id"].dump();
}

}  // namespace

Result<Remote> ConnectRemote(const std::string& server, const std::filesystem::path& data_dir) {
  Remote remote;
  const char* env_server = getenv("TAUON_SERVER");
  remote.url = !server.empty()                   ? server
               : env_server && *env_server      ? std::string(env_server)
                                                 : std::string("http://127.0.0.1:8080");
  while (remote.url.ends_with('/')) remote.url.pop_back();
  if (Result<http::Url> url = http::ParseUrl(remote.url); !url) {
    return Fail("invalid --server '{}': {}", remote.url, url.error().message);
  }
  if (const char* token = getenv("TAUON_TOKEN"); token && *token) {
    remote.token = token;
  } else if (Result<std::string> file = ReadFileToString(data_dir / "token"); file) {
    remote.token = std::string(Trim(*file));
  } else {
    return Fail("no API token: set TAUON_TOKEN, or pass the server's --data-dir (its token file "
                "is DATA/token)");
  }
  return remote;
}

Result<json> CallApi(const Remote& remote, const std::string& method, const std::string& path,
                     const std::optional<json>& body, int* status) {
  http::ClientRequest request;
  request.method = method;
  request.url = remote.url + path;
  request.headers.Set("Authorization", "Bearer " + remote.token);
  request.headers.Set("Accept", "application/json");
  if (body) {
    request.body = api::ToJsonText(*body, -1);
    request.headers.Set("Content-Type", "application/json");
  }
  request.timeout = Duration(120'000);  // Adding a repository fetches it.
  Result<http::ClientResponse> response = http::Fetch(request);
  if (!response) return Fail("cannot reach the server at {}: {}", remote.url, response.error().message);
  if (status) *status = response->status;
  json parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (response->status >= 400) {
    std::string message = parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()
                              ? parsed["error"].get<std::string>()
                              : fmt::format("{}", Trim(response->body).substr(0, 200));
    return Fail("{} (HTTP {})", message, response->status);
  }
  if (parsed.is_discarded()) return Fail("the server sent something that is not JSON");
  return parsed;
}

int RepoAddCommand(const Remote& remote, const RepoAddOptions& options) {
  json body = {{"name", options.name},
               {"url", options.url},
               {"branches", options.branches},
               {"poll", options.poll}};
  if (options.webhook_secret_file) {
    Result<std::string> secret = ReadFileToString(*options.webhook_secret_file);
    if (!secret) return Failed(kExitUsage, "{}", secret.error().message);
    std::string trimmed(Trim(*secret));
    if (trimmed.empty()) {
      return Failed(kExitUsage, "{} is empty", options.webhook_secret_file->string());
    }
    body["webhook_secret"] = trimmed;
  }
  Result<json> repo = CallApi(remote, "POST", "/api/v1/repos", body);
  if (!repo) return Failed(kExitFailed, "{}", repo.error().message);
  size_t matching = 0;
  for (const auto& [branch, sha] : (*repo)["heads"].items()) {
    bool passes = options.branches.empty();
    for (const std::string& glob : options.branches) passes = passes || GlobMatch(glob, branch);
    matching += passes;
  }
  fmt::print("added repository {} ({}), {} branch{} watched; polling every {}{}\n",
             (*repo)["name"].get<std::string>(), (*repo)["url"].get<std::string>(), matching,
             matching == 1 ? "" : "es",
             FormatDuration(Duration((*repo)["poll_ms"].get<int64_t>())),
             (*repo)["webhook_secret"].get<bool>() ? "; webhooks accepted" : "");
  return kExitOk;
}

int RepoListCommand(const Remote& remote, bool as_json) {
  Result<json> repos = CallApi(remote, "GET", "/api/v1/repos");
  if (!repos) return Failed(kExitFailed, "{}", repos.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText((*repos)["repos"]));
    return kExitOk;
  }
  if ((*repos)["repos"].empty()) {
    fmt::print("no repositories yet: add one with 'tauon repo add NAME URL'\n");
    return kExitOk;
  }
  fmt::print("{:<20}{:<10}{:<9}{:<24}{}\n", "NAME", "POLL", "WEBHOOK", "BRANCHES", "URL");
  for (const json& repo : (*repos)["repos"]) {
    std::vector<std::string> globs = repo["branches"].get<std::vector<std::string>>();
    fmt::print("{:<20}{:<10}{:<9}{:<24}{}\n", repo["name"].get<std::string>(),
               FormatDuration(Duration(repo["poll_ms"].get<int64_t>())),
               repo["webhook_secret"].get<bool>() ? "yes" : "no",
               globs.empty() ? "*" : Join(globs, ","), repo["url"].get<std::string>());
  }
  return kExitOk;
}

int RepoRemoveCommand(const Remote& remote, const std::string& name) {
  Result<json> removed = CallApi(remote, "DELETE", "/api/v1/repos/" + http::PercentEncode(name));
  if (!removed) return Failed(kExitFailed, "{}", removed.error().message);
  fmt::print("removed repository {}\n", name);
  return kExitOk;
}

int TriggerCommand(const Remote& remote, const std::string& repo, const std::string& ref,
                   bool as_json) {
  Result<json> run = CallApi(remote, "POST", "/api/v1/runs", json{{"repo", repo}, {"ref", ref}});
  if (!run) return Failed(kExitFailed, "{}", run.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*run));
  } else {
    std::string branch = (*run)["branch"].get<std::string>();
    fmt::print("queued run {}: {} {} @ {}\n", (*run)["id"].dump(), repo,
               branch.empty() ? "(detached)" : branch,
               (*run)["commit"].get<std::string>().substr(0, 12));
  }
  return kExitOk;
}

int CancelCommand(const Remote& remote, const std::string& run) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  Result<json> cancelled = CallApi(remote, "POST", "/api/v1/runs/" + *id + "/cancel");
  if (!cancelled) return Failed(kExitFailed, "{}", cancelled.error().message);
  fmt::print("cancelling run {}\n", *id);
  return kExitOk;
}

int RerunCommand(const Remote& remote, const std::string& run, bool failed_only, bool as_json) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  Result<json> again =
      CallApi(remote, "POST", "/api/v1/runs/" + *id + "/rerun", json{{"failed", failed_only}});
  if (!again) return Failed(kExitFailed, "{}", again.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*again));
  } else {
    fmt::print("queued run {}: {} of run {}{}\n", (*again)["id"].dump(),
               failed_only ? "the failed jobs" : "all jobs", *id,
               failed_only ? " (succeeded jobs reused)" : "");
  }
  return kExitOk;
}

int RemoteRunsCommand(const Remote& remote, const std::optional<std::string>& repo,
                      const std::optional<std::string>& branch,
                      const std::optional<std::string>& status, int limit, bool as_json) {
  std::string path = fmt::format("/api/v1/runs?limit={}", limit);
  if (repo) path += "&repo=" + http::PercentEncode(*repo);
  if (branch) path += "&branch=" + http::PercentEncode(*branch);
  if (status) path += "&status=" + http::PercentEncode(*status);
  Result<json> runs = CallApi(remote, "GET", path);
  if (!runs) return Failed(kExitFailed, "{}", runs.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText((*runs)["runs"]));
  } else {
    fmt::print("{}", RenderRunList((*runs)["runs"], Style::For(stdout)));
  }
  return kExitOk;
}

int RemoteShowCommand(const Remote& remote, const std::string& run, bool as_json) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  Result<json> resource = CallApi(remote, "GET", "/api/v1/runs/" + *id);
  if (!resource) return Failed(kExitFailed, "{}", resource.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*resource));
  } else {
    fmt::print("{}", RenderRun(*resource, Style::For(stdout), /*detailed=*/true));
  }
  return kExitOk;
}

int RemoteArtifactsCommand(const Remote& remote, const std::string& run, bool as_json) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  Result<json> artifacts = CallApi(remote, "GET", "/api/v1/runs/" + *id + "/artifacts");
  if (!artifacts) return Failed(kExitFailed, "{}", artifacts.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText((*artifacts)["artifacts"]));
    return kExitOk;
  }
  if ((*artifacts)["artifacts"].empty()) {
    fmt::print("run {} stored no artifacts\n", *id);
    return kExitOk;
  }
  fmt::print("{:<24}{:<40}{:>12}  {}\n", "JOB", "PATH", "SIZE", "DIGEST");
  for (const json& a : (*artifacts)["artifacts"]) {
    fmt::print("{:<24}{:<40}{:>12}  {}\n", a["job"].get<std::string>(),
               a["path"].get<std::string>(), a["size"].get<int64_t>(),
               a["digest"].get<std::string>());
  }
  return kExitOk;
}

int RemoteLogsCommand(const Remote& remote, const std::string& run, const std::string& job) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  if (!job.empty()) {
    Result<json> resource = CallApi(remote, "GET", "/api/v1/runs/" + *id);
    if (!resource) return Failed(kExitFailed, "{}", resource.error().message);
    std::vector<std::string> names;
    for (const json& j : (*resource)["jobs"]) names.push_back(j["name"].get<std::string>());
    auto named = [&](std::string_view selector) {
      return std::any_of(names.begin(), names.end(),
                         [&](const std::string& name) { return JobNameMatches(name, selector); });
    };
    if (!named(job)) {
      size_t slash = job.rfind('/');
      if (slash != std::string::npos && named(std::string_view(job).substr(0, slash))) {
        return Failed(kExitUsage,
                      "a step's log (JOB/STEP) is read from the data directory: run tauon logs "
                      "without --server (and $TAUON_SERVER) on the server's machine");
      }
      return Failed(kExitUsage, "run {} has no job '{}' (jobs: {})", *id, job, Join(names, ", "));
    }
  }
  Result<json> logs = CallApi(remote, "GET", "/api/v1/runs/" + *id + "/logs");
  if (!logs) return Failed(kExitFailed, "{}", logs.error().message);
  EventPrinter printer(stdout, Style::For(stdout));
  for (const json& event : (*logs)["events"]) {
    if (!job.empty() && !JobNameMatches(event["data"].value("job", ""), job)) continue;
    printer.Print(event["type"].get<std::string>(), event["data"]);
  }
  return kExitOk;
}

int RemoteFollowCommand(const Remote& remote, const std::string& run) {
  Result<std::string> id = RunId(remote, run);
  if (!id) return Failed(kExitUsage, "{}", id.error().message);
  // A plain request first: an unknown run gets the server's own message.
  if (Result<json> exists = CallApi(remote, "GET", "/api/v1/runs/" + *id); !exists) {
    return Failed(kExitFailed, "{}", exists.error().message);
  }
  http::ClientRequest request;
  request.url = remote.url + "/api/v1/runs/" + *id + "/logs?follow=1";
  request.headers.Set("Authorization", "Bearer " + remote.token);
  request.headers.Set("Accept", "text/event-stream");
  request.timeout = Duration(60'000);  // The server sends a keep-alive every 15 s.
  EventPrinter printer(stdout, Style::For(stdout));
  std::string buffer;
  bool ended = false;
  Result<http::ClientResponse> response =
      http::FetchStream(request, [&](std::string_view data) {
        buffer.append(data);
        // Events are separated by a blank line; fields are "event:" and "data:".
        size_t end;
        while ((end = buffer.find("\n\n")) != std::string::npos) {
          std::string event = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          std::string type, payload;
          for (const std::string& line : Split(event, '\n')) {
            if (line.starts_with("event: ")) type = line.substr(7);
            if (line.starts_with("data: ")) payload += line.substr(6);
          }
          if (type == "end") {
            ended = true;
            return false;
          }
          json parsed = json::parse(payload, nullptr, /*allow_exceptions=*/false);
          if (!type.empty() && !parsed.is_discarded()) printer.Print(type, parsed);
        }
        return true;
      });
  if (!response) return Failed(kExitFailed, "{}", response.error().message);
  if (response->status >= 400) {
    return Failed(kExitFailed, "the server answered HTTP {} for run {}", response->status, *id);
  }
  if (!ended) return Failed(kExitFailed, "the stream ended before the run did");
  return ExitCodeOf(printer.final_status());
}

}  // namespace tauon::cli
