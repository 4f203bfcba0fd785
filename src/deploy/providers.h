// The measurements an analysis takes from outside the router
// (`analysis.providers`): Prometheus instant queries and commands that print
// a JSON object of numbers. A ProviderRun starts all of an interval's
// providers at once, each on its own thread, and is polled: whoever drives
// the analysis (the deploy controller's Tick(), under its mutex) never waits
// for a command or an HTTP call.
//
// Reusable for any analysis against live releases (a canary's interval, a
// blue-green preview before promotion): what a command may reach is given as
// environment variables by the caller (ProviderContext::env).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "reports/metrics.h"
#include "spec/pipeline.h"
#include "util/clock.h"

namespace tauon::deploy {

struct ProviderContext {
  // Added to the environment of command providers (which is otherwise the
  // server's, without PORT and TAUON_*): e.g. TAUON_CANARY_URL,
  // TAUON_STABLE_URL, TAUON_ENVIRONMENT_URL, TAUON_PREVIEW_URL,
  // TAUON_MODEL_DIR. Never shown in results or errors.
  std::vector<std::pair<std::string, std::string>> env;
  std::filesystem::path cwd;  // Where commands run ("" = the server's directory).
  // Command NAME's stderr goes to LOG_DIR/provider-NAME.log (unnamed:
  // provider-command-I.log, I its index), replaced every interval; "" = discarded.
  std::filesystem::path log_dir;
  Duration default_timeout{5000};  // For providers without `timeout`.
  // Called on a provider's thread when the last provider is done, unless the
  // run was destroyed first (never after ~ProviderRun returns): e.g. to wake
  // whoever polls done(). Must not block.
  std::function<void()> on_done;
};

// What one provider measured, or why it could not.
struct ProviderResult {
  const spec::AnalysisProvider* provider = nullptr;  // Into the run's providers.
  reports::Metrics values;                           // Empty on error.
  std::string error;  // "" when it worked; never holds the environment's values.
  Duration took{0};
};

class ProviderRun {
 public:
  // Starts every provider of `providers` (which must outlive the run).
  ProviderRun(const std::vector<spec::AnalysisProvider>& providers, ProviderContext context);
  // Kills commands still running and waits for them. A Prometheus query
  // still in flight is left to end by its timeout on its own thread.
  ~ProviderRun();
  ProviderRun(const ProviderRun&) = delete;
  ProviderRun& operator=(const ProviderRun&) = delete;

  // True once every provider returned (or failed). Non-blocking.
  bool done() const;
  // REQUIRES: done(). In the order of the providers.
  std::vector<ProviderResult> results() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::vector<std::thread> commands_;  // Joined by the destructor.
};

// The metric a Prometheus query API answer (GET /api/v1/query) holds: a
// scalar, or a vector of exactly one sample. Anything else (an error
// status, an empty or longer vector, a matrix, a non-finite value) is an
// error saying what came back. Exposed for tests.
Result<double> ParsePrometheusAnswer(int status, std::string_view body);

}  // namespace tauon::deploy
