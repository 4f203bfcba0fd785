#include "deploy/providers.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>

#include "exec/local_runner.h"
#include "http/client.h"
#include "http/http.h"
#include "util/strings.h"

extern char** environ;

namespace tauon::deploy {
namespace {

// A command's stdout beyond this is not a JSON object of a few numbers.
constexpr size_t kMaxOutput = 1 << 20;
// Between a timed-out command's SIGTERM and SIGKILL.
constexpr Duration kKillGrace{500};

const SystemClock kClock;

// "127.0.0.1:9090": a server named in errors without its userinfo, path or query.
std::string HostOf(const std::string& url) {
  Result<http::Url> parsed = http::ParseUrl(url);
  if (!parsed) return "the configured URL";
  return fmt::format("{}:{}", parsed->host, parsed->port);
}

std::string Seconds(Duration d) { return FormatDuration(d); }

Result<reports::Metrics> QueryPrometheus(const std::string& name, std::string url,
                                         const std::string& query, Duration timeout) {
  while (url.ends_with('/')) url.pop_back();
  http::ClientRequest request;
  request.url = url + "/api/v1/query?query=" + http::PercentEncode(query);
  request.timeout = timeout;
  request.headers.Add("Accept", "application/json");
  Result<http::ClientResponse> response = http::Fetch(request);
  if (!response) {
    return Fail("cannot query Prometheus at {}: {}", HostOf(url), response.error().message);
  }
  Result<double> value = ParsePrometheusAnswer(response->status, response->body);
  if (!value) return std::unexpected(value.error());
  return reports::Metrics{{name, *value}};
}

// The server's environment without what belongs to replicas and Tauon,
// then the context's variables.
std::vector<std::string> CommandEnv(const ProviderContext& context) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("PORT=") || entry.starts_with("TAUON_")) continue;
    env.emplace_back(entry);
  }
  for (const auto& [key, value] : context.env) env.push_back(key + "=" + value);
  return env;
}

bool IsRouterMetric(std::string_view key) {
  if (key.starts_with("canary.") || key.starts_with("stable.")) return true;
  for (std::string_view metric : spec::kAnalysisMetrics) {
    if (key == metric) return true;
  }
  return false;
}

}  // namespace

Result<double> ParsePrometheusAnswer(int status, std::string_view body) {
  nlohmann::json answer = nlohmann::json::parse(body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    return Fail("Prometheus answered {} without a JSON object (is the URL a Prometheus server?)",
                status);
  }
  if (answer.value("status", "") != "success") {
    std::string error = answer.contains("error") && answer["error"].is_string()
                            ? answer["error"].get<std::string>()
                            : "no error message";
    return Fail("Prometheus answered {}: {}", status, error);
  }
  const nlohmann::json& data = answer.contains("data") ? answer["data"] : nlohmann::json();
  const std::string type =
      data.is_object() && data.contains("resultType") && data["resultType"].is_string()
          ? data["resultType"].get<std::string>()
          : "";
  const nlohmann::json result =
      data.is_object() && data.contains("result") ? data["result"] : nlohmann::json();
  nlohmann::json sample;  // [time, "value"]
  if (type == "scalar") {
    sample = result;
  } else if (type == "vector") {
    if (!result.is_array()) return Fail("Prometheus answered a malformed vector");
    if (result.empty()) {
      return Fail("the query returned no series (nothing matched, or no data yet)");
    }
    if (result.size() > 1) {
      return Fail("the query returned {} series, expected one (aggregate them, e.g. with sum())",
                  result.size());
    }
    sample = result[0].is_object() && result[0].contains("value") ? result[0]["value"]
                                                                  : nlohmann::json();
  } else {
    return Fail("the query returned a {}, expected a scalar or a one-series vector",
                type.empty() ? "malformed answer" : type);
  }
  if (!sample.is_array() || sample.size() != 2 || !sample[1].is_string()) {
    return Fail("Prometheus answered a malformed sample");
  }
  const std::string text = sample[1].get<std::string>();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return Fail("Prometheus answered a non-number '{}'", text);
  if (!std::isfinite(value)) {
    return Fail("the query's value is {} (e.g. a ratio of rates without traffic)", text);
  }
  return value;
}

struct ProviderRun::State {
  std::vector<ProviderResult> results;  // Slot i is written by provider i's thread only.
  std::atomic<size_t> finished{0};      // Slots written (release: the slot before the count).
  std::atomic<bool> cancelled{false};
  std::mutex mu;                                   // Guards runners and the call of on_done.
  std::vector<exec::LocalProcessRunner*> runners;  // Of commands in progress, to wake.
  std::function<void()> on_done;

  // A provider's result is written: counts it, and tells on_done after the last.
  void Finished() {
    size_t count = finished.fetch_add(1, std::memory_order_release) + 1;
    if (count != results.size() || !on_done) return;
    std::lock_guard lock(mu);
    if (!cancelled.load()) on_done();
  }
};

ProviderRun::ProviderRun(const std::vector<spec::AnalysisProvider>& providers,
                         ProviderContext context)
    : state_(std::make_shared<State>()) {
  state_->results.resize(providers.size());
  state_->on_done = std::move(context.on_done);
  const std::vector<std::string> env = CommandEnv(context);
  for (size_t i = 0; i < providers.size(); ++i) {
    const spec::AnalysisProvider& provider = providers[i];
    state_->results[i].provider = &provider;
    const Duration timeout = provider.timeout.value_or(context.default_timeout);
    if (provider.kind == spec::AnalysisProvider::Kind::kPrometheus) {
      // Its own copies: the thread may outlive the run (and `providers`).
      std::thread([state = state_, i, name = provider.name, url = provider.url,
                   query = provider.query, timeout] {
        const TimePoint start = kClock.Now();
        Result<reports::Metrics> values = QueryPrometheus(name, url, query, timeout);
        ProviderResult& result = state->results[i];
        if (values) {
          result.values = std::move(*values);
        } else {
          result.error = values.error().message;
        }
        result.took = kClock.Now() - start;
        state->Finished();
      }).detach();
      continue;
    }
    exec::ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", provider.run};
    spec.env = env;
    spec.cwd = context.cwd;
    spec.kill_grace = kKillGrace;
    if (!context.log_dir.empty()) {
      spec.stderr_path =
          context.log_dir / (provider.name.empty() ? fmt::format("provider-command-{}.log", i + 1)
                                                   : fmt::format("provider-{}.log", provider.name));
    } else {
      spec.stderr_path = "/dev/null";
    }
    commands_.emplace_back([state = state_, i, spec = std::move(spec), prefix = provider.name,
                            timeout]() mutable {
      ProviderResult& result = state->results[i];
      const TimePoint start = kClock.Now();
      auto finish = [&] {
        result.took = kClock.Now() - start;
        state->Finished();
      };
      std::string output;
      bool too_long = false;
      spec.on_output = [&](std::string_view chunk) {
        if (output.size() + chunk.size() > kMaxOutput) {
          too_long = true;
        } else {
          output.append(chunk);
        }
      };
      exec::LocalProcessRunner runner(kClock, kKillGrace);
      {
        std::lock_guard lock(state->mu);
        state->runners.push_back(&runner);
      }
      auto unregister = [&] {
        std::lock_guard lock(state->mu);
        std::erase(state->runners, &runner);
      };
      Result<exec::ProcessId> id = runner.Start(std::move(spec));
      if (!id) {
        unregister();
        result.error = id.error().message;
        finish();
        return;
      }
      const TimePoint deadline = start + timeout;
      bool timed_out = false, killed = false;
      exec::ExitStatus status;
      for (;;) {
        if (state->cancelled.load() && !killed) {
          runner.Kill(*id);
          killed = true;
        }
        exec::WaitResult waited =
            runner.Wait(timed_out || killed ? std::nullopt : std::optional(deadline));
        if (waited.kind == exec::WaitResult::Kind::kExited) {
          status = waited.status;
          break;
        }
        if (waited.kind == exec::WaitResult::Kind::kDeadline && !timed_out) {
          timed_out = true;
          runner.Terminate(*id);  // SIGKILL kKillGrace later, delivered by Wait().
        }
      }
      unregister();
      if (killed) {
        result.error = "stopped: the analysis ended";
      } else if (timed_out) {
        result.error = fmt::format("timed out after {}", Seconds(timeout));
      } else if (!status.ok()) {
        result.error = fmt::format("failed with {}", status.Describe());
      } else if (too_long) {
        result.error = fmt::format("printed more than {} bytes: expected a JSON object of numbers",
                                   kMaxOutput);
      } else if (Trim(output).empty()) {
        result.error = "printed nothing: expected a JSON object of numbers on stdout";
      } else if (Result<reports::Metrics> values = reports::ParseMetrics(Trim(output)); !values) {
        result.error = fmt::format("printed no JSON object of numbers: {}", values.error().message);
      } else {
        for (const auto& [key, value] : *values) {
          std::string name = prefix.empty() ? key : prefix + "." + key;
          if (IsRouterMetric(name)) {
            result.error = fmt::format(
                "printed '{}', a name of the router's metrics: give the provider a 'name'", key);
            result.values.clear();
            break;
          }
          result.values[name] = value;
        }
      }
      finish();
    });
  }
}

ProviderRun::~ProviderRun() {
  {
    // Under mu: on_done is not running now, and is not called from here on.
    std::lock_guard lock(state_->mu);
    state_->cancelled.store(true);
    for (exec::LocalProcessRunner* runner : state_->runners) runner->Wake();
  }
  for (std::thread& thread : commands_) thread.join();
}

bool ProviderRun::done() const {
  return state_->finished.load(std::memory_order_acquire) == state_->results.size();
}

std::vector<ProviderResult> ProviderRun::results() const { return state_->results; }

}  // namespace tauon::deploy
