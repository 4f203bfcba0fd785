#include "cli/deploy.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <thread>

#include "api/resources.h"
#include "artifacts/registry.h"
#include "cli/commands.h"
#include "http/client.h"
#include "util/strings.h"

namespace tauon::cli {
namespace {

using nlohmann::json;

std::string Text(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string Ms(const json& value) {
  if (!value.is_number()) return "-";
  return fmt::format("{:.1f}", value.get<double>());
}

// "digits@3", or "-" without a release.
std::string Version(const json& environment) {
  if (environment["model"].is_null()) return "-";
  return fmt::format("{}@{}", Text(environment["model"]), Text(environment["version"]));
}

void PrintDetail(const json& environment) {
  fmt::print("environment {}  {}  (repository {})\n", Text(environment["environment"]),
             Text(environment["url"]), Text(environment["repo"]));
  if (environment["release"].is_null()) {
    fmt::print("no release yet\n");
    return;
  }
  fmt::print("release     {} {}  {}  strategy {}\n", Text(environment["release"]),
             Version(environment), Text(environment["phase"]), Text(environment["strategy"]));
  std::vector<std::string> weights;
  for (const auto& [version, weight] : environment["weights"].items()) {
    weights.push_back(fmt::format("{} {}%", version, weight.dump()));
  }
  fmt::print("weights     {}\n", weights.empty() ? "none: no release serves yet" : Join(weights, ", "));
  if (environment.contains("preview_url")) {
    fmt::print("preview     {}\n", Text(environment["preview_url"]));
  }
  if (environment.contains("step")) {
    const json& step = environment["step"];
    fmt::print("canary      step {} of {}: {}% of traffic since {}{}\n", Text(step["index"]),
               Text(step["of"]), Text(step["weight"]), Text(step["since"]),
               step.value("waits_for_promote", false)
                   ? fmt::format("; waits for tauon promote {}", Text(environment["environment"]))
                   : "");
  }

  fmt::print("\n{:<8} {:>7}  {:<24} {:<9} {:>7} {:>6} {:>8}  {}\n", "REPLICA", "RELEASE", "VERSION",
             "STATE", "PID", "PORT", "RESTARTS", "LAST EXIT");
  for (const json& replica : environment["replicas"]) {
    std::string state = Text(replica["state"]);
    if (state == "backoff" && replica["restart_at"].is_string()) {
      state += " (restarts at " + Text(replica["restart_at"]).substr(11, 8) + ")";
    }
    fmt::print("{:<8} {:>7}  {:<24} {:<9} {:>7} {:>6} {:>8}  {}\n", Text(replica["name"]),
               Text(replica["release"]), Text(replica["version"]), state, Text(replica["pid"]),
               Text(replica["port"]), Text(replica["restarts"]),
               replica["last_exit"].get<std::string>().empty() ? "-" : Text(replica["last_exit"]));
  }
  if (environment["replicas"].empty()) fmt::print("(no replicas running)\n");

  const json& traffic = environment["traffic"];
  if (traffic.is_object() && !traffic["releases"].empty()) {
    fmt::print("\n{:<8} {:<24} {:>6} {:>9} {:>8} {:>6} {:>6} {:>7} {:>8} {:>8} {:>8} {:>9}\n",
               "TRAFFIC", "VERSION", "WEIGHT", "REQ/S", "TOTAL", "2XX", "4XX", "5XX",
               "P50 MS", "P95 MS", "P99 MS", "IN FLIGHT");
    for (const json& release : traffic["releases"]) {
      const json& requests = release["requests"];
      fmt::print("{:<8} {:<24} {:>6} {:>9.1f} {:>8} {:>6} {:>6} {:>7} {:>8} {:>8} {:>8} {:>9}\n",
                 Text(release["release"]), Text(release["version"]), Text(release["weight"]),
                 release.value("rate_per_second", 0.0), Text(requests["total"]),
                 Text(requests["2xx"]), Text(requests["4xx"]), Text(requests["5xx"]),
                 Ms(release["latency_ms"]["p50"]), Ms(release["latency_ms"]["p95"]),
                 Ms(release["latency_ms"]["p99"]), Text(release["in_flight"]));
    }
  }

  if (!environment["analysis"].empty()) {
    fmt::print("\n{:<9} {:<24} {:<13} {:>8}  {}\n", "INTERVAL", "AT", "VERDICT", "REQUESTS",
               "CHECKS");
    const json& analysis = environment["analysis"];
    for (size_t i = analysis.size(); i-- > 0;) {
      const json& interval = analysis[i];
      std::vector<std::string> checks;
      for (const json& check : interval["checks"]) {
        std::vector<std::string> values;
        for (const auto& [name, value] : check["values"].items()) {
          values.push_back(fmt::format("{}={}", name, value.dump()));
        }
        checks.push_back(fmt::format("{} [{}] {}", Text(check["check"]), Join(values, " "),
                                     Text(check["verdict"])));
      }
      fmt::print("{:<9} {:<24} {:<13} {:>8}  {}\n", Text(interval["interval"]), Text(interval["at"]),
                 Text(interval["verdict"]), Text(interval["canary_requests"]),
                 checks.empty() ? Text(interval["reason"]) : Join(checks, "; "));
    }
  }
  fmt::print("\nEVENTS\n");
  const json& events = environment["events"];
  for (size_t i = events.size(); i-- > 0;) {  // Oldest first, as a log.
    const json& event = events[i];
    std::string text = event["release"].is_null() ? "" : "release " + Text(event["release"]);
    if (!event["why"].get<std::string>().empty()) {
      text += (text.empty() ? "" : ": ") + Text(event["why"]);
    }
    fmt::print("{}  {:<11} {}  ({})\n", Text(event["at"]), Text(event["what"]), text,
               Text(event["who"]));
  }
}

}  // namespace

int DeployCommand(const Remote& remote, const DeployOptions& options) {
  json body = json::object();
  if (options.rollback) {
    if (!options.to.empty()) body["to"] = options.to;
  } else {
    // Malformed is a usage error, said before asking the server.
    if (Result<artifacts::ModelRef> ref = artifacts::ParseModelRef(options.model); !ref) {
      return Failed(kExitUsage, "{}", ref.error().message);
    }
    body["model"] = options.model;
    if (!options.repo.empty()) body["repo"] = options.repo;
  }
  if (const char* user = getenv("USER"); user && *user) body["by"] = user;
  const std::string path = "/api/v1/environments/" + http::PercentEncode(options.environment);
  Result<json> started =
      CallApi(remote, "POST", path + (options.rollback ? "/rollback" : "/deploy"), body);
  if (!started) return Failed(kExitFailed, "{}", started.error().message);
  const int64_t release = (*started)["release"].get<int64_t>();
  if (!options.wait) {
    if (options.json) {
      fmt::print("{}\n", api::ToJsonText(*started));
    } else {
      fmt::print("release {} of {} started in {} ({})\n", release, Version(*started),
                 options.environment, Text((*started)["url"]));
    }
    return kExitOk;
  }
  if (!options.json) {
    fmt::print("{} {} to {}: release {}\n", options.rollback ? "rolling back to" : "deploying",
               Version(*started), options.environment, release);
  }
  return Follow(remote, options, *started, release);
}

int Follow(const Remote& remote, const DeployOptions& options, json environment, int64_t release) {
  const std::string path = "/api/v1/environments/" + http::PercentEncode(options.environment);
  // Polls the environment, printing each replica's changes, until the
  // release serves or will never serve.
  std::map<std::string, std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (true) {
    for (const json& replica : environment["replicas"]) {
      if (replica["release"].get<int64_t>() != release || options.json) continue;
      std::string name = Text(replica["name"]);
      std::string state = Text(replica["state"]);
      std::string line = state;
      if (state == "starting") line += fmt::format(" (pid {}, port {})", Text(replica["pid"]), Text(replica["port"]));
      if (state == "backoff") line += fmt::format(" after {}, restart {}", Text(replica["last_exit"]),
                                                  replica["restarts"].get<int>() + 1);
      if (seen[name] != line) {
        fmt::print("  {} {}\n", name, line);
        seen[name] = line;
      }
    }
    std::string phase;
    for (const json& r : environment["releases"]) {
      if (r["id"].get<int64_t>() == release) phase = Text(r["phase"]);
    }
    if (environment["release"].get<int64_t>() == release && !environment["phase"].is_null()) {
      phase = Text(environment["phase"]);
    }
    if (phase == "canary" && !options.json) {
      const json& step = environment["step"];
      std::string line = fmt::format("canary step {} of {}: {}% of traffic", Text(step["index"]),
                                     Text(step["of"]), Text(step["weight"]));
      if (step.value("waits_for_promote", false)) {
        line += fmt::format(" (waits for tauon promote {})", options.environment);
      }
      if (!environment["analysis"].empty() && environment["analysis"][0]["release"] == release) {
        const json& last = environment["analysis"][0];
        line += fmt::format(", analysis interval {} {}", Text(last["interval"]), Text(last["verdict"]));
        if (!last["reason"].get<std::string>().empty()) line += ": " + Text(last["reason"]);
      }
      if (seen["#canary"] != line) {
        fmt::print("  {}\n", line);
        seen["#canary"] = line;
      }
    }
    // A rolling update's and a blue-green preview's moves, as they happen.
    if (!options.json) {
      const json& events = environment["events"];
      for (auto e = events.rbegin(); e != events.rend(); ++e) {
        const std::string what = Text((*e)["what"]);
        if ((*e)["release"] != release ||
            (what != "rolling" && what != "preview" && what != "waiting")) {
          continue;
        }
        const std::string key = "#" + Text((*e)["at"]) + what + Text((*e)["why"]);
        if (!seen.contains(key)) {
          fmt::print("  {}: {}\n", what, Text((*e)["why"]));
          seen[key] = "";
        }
      }
    }
    if (phase == "live") {
      if (options.json) {
        fmt::print("{}\n", api::ToJsonText(environment));
      } else {
        fmt::print("release {} is live in {}: {} serves 100% of {}\n", release,
                   options.environment, Version(environment), Text(environment["url"]));
      }
      return kExitOk;
    }
    if (phase == "failed" || phase == "superseded" || phase == "stopped") {
      std::string reason;
      for (const json& r : environment["releases"]) {
        if (r["id"].get<int64_t>() == release) reason = Text(r["reason"]);
      }
      if (options.json) fmt::print("{}\n", api::ToJsonText(environment));
      return Failed(kExitFailed, "release {} {}{}", release, phase, reason.empty() ? "" : ": " + reason);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (options.json) fmt::print("{}\n", api::ToJsonText(environment));
      return Failed(kExitFailed,
                    "release {} is not live after {}s (still {}); it goes on in the "
                    "background: tauon status {}",
                    release, options.timeout.count() / 1000, phase, options.environment);
    }
    std::fflush(stdout);  // Progress shows as it happens, also through a pipe (CI logs).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Result<json> now = CallApi(remote, "GET", path);
    if (!now) return Failed(kExitFailed, "{}", now.error().message);
    environment = std::move(*now);
  }
}

int StatusCommand(const Remote& remote, const std::string& environment, bool as_json) {
  if (!environment.empty()) {
    Result<json> detail =
        CallApi(remote, "GET", "/api/v1/environments/" + http::PercentEncode(environment));
    if (!detail) return Failed(kExitFailed, "{}", detail.error().message);
    if (as_json) {
      fmt::print("{}\n", api::ToJsonText(*detail));
    } else {
      PrintDetail(*detail);
    }
    return kExitOk;
  }
  Result<json> list = CallApi(remote, "GET", "/api/v1/environments");
  if (!list) return Failed(kExitFailed, "{}", list.error().message);
  const json& environments = (*list)["environments"];
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(environments));
    return kExitOk;
  }
  if (environments.empty()) {
    fmt::print("no environments yet (tauon deploy ENV --model NAME@VERSION creates one)\n");
    return kExitOk;
  }
  fmt::print("{:<16} {:<28} {:<28} {:>7}  {:<10} {}\n", "ENVIRONMENT", "URL", "VERSION",
             "RELEASE", "PHASE", "READY");
  for (const json& e : environments) {
    int ready = 0, total = 0;
    for (const json& replica : e["replicas"]) {
      if (replica["release"] != e["release"]) continue;
      ++total;
      if (replica["state"] == "ready") ++ready;
    }
    fmt::print("{:<16} {:<28} {:<28} {:>7}  {:<10} {}/{}\n", Text(e["environment"]),
               Text(e["url"]), Version(e), Text(e["release"]), Text(e["phase"]), ready, total);
  }
  return kExitOk;
}

int RolloutCommand(const Remote& remote, const std::string& action, const DeployOptions& options) {
  json body = json::object();
  if (const char* user = getenv("USER"); user && *user) body["by"] = user;
  Result<json> done = CallApi(
      remote, "POST",
      "/api/v1/environments/" + http::PercentEncode(options.environment) + "/" + action, body);
  if (!done) return Failed(kExitFailed, "{}", done.error().message);
  fmt::print("{}\n", Text((*done)["message"]));
  if (!options.wait || !(*done)["release"].is_number()) return kExitOk;
  return Follow(remote, options, *done, (*done)["release"].get<int64_t>());
}

bool IsReplicaLogRef(const std::string& text) {
  size_t slash = text.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < text.size();
}

int ReplicaLogsCommand(const Remote& remote, const std::string& ref, int64_t release) {
  const size_t slash = ref.find('/');
  const std::string environment = ref.substr(0, slash);
  const std::string replica = ref.substr(slash + 1);
  http::ClientRequest request;
  request.url = fmt::format("{}/api/v1/environments/{}/replicas/{}/logs", remote.url,
                            http::PercentEncode(environment), http::PercentEncode(replica));
  if (release > 0) request.url += fmt::format("?release={}", release);
  request.headers.Set("Authorization", "Bearer " + remote.token);
  Result<http::ClientResponse> response = http::Fetch(request);
  if (!response) {
    return Failed(kExitFailed, "cannot reach the server at {}: {}", remote.url,
                  response.error().message);
  }
  if (response->status != 200) {
    json error = json::parse(response->body, nullptr, false);
    return Failed(kExitFailed, "{} (HTTP {})",
                  error.is_object() && error.contains("error") ? Text(error["error"])
                                                               : response->body.substr(0, 200),
                  response->status);
  }
  fmt::print("{}", response->body);
  return kExitOk;
}

}  // namespace tauon::cli
