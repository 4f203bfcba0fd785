#include "server/server.h"

#include <signal.h>

#include <fmt/format.h>

#include <thread>

#include "deploy/controller.h"
#include "deploy/router_traffic.h"
#include "http/server.h"
#include "server/api.h"
#include "server/deploy_api.h"
#include "server/dispatcher.h"
#include "server/watcher.h"
#include "store/store.h"

namespace tauon::server {

int Serve(const ServeOptions& options) {
  namespace fs = std::filesystem;
  // Block the stop signals in every thread; this one waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  const fs::path data_dir = fs::absolute(options.data_dir).lexically_normal();
  fs::create_directories(data_dir, ec);
  if (ec) {
    fmt::print(stderr, "tauon: error: cannot create {}: {}\n", data_dir.string(), ec.message());
    return 1;
  }
  runs::DataLayout layout(data_dir);
  {
    // Creates or migrates the database before any thread uses it.
    Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout.database());
    if (!store) {
      fmt::print(stderr, "tauon: error: {}\n", store.error().message);
      return 1;
    }
  }
  bool created = false;
  Result<std::string> token = LoadOrCreateToken(layout, &created);
  if (!token) {
    fmt::print(stderr, "tauon: error: {}\n", token.error().message);
    return 1;
  }

  std::unique_ptr<notify::Notifier> notifier;
  if (!options.notify.empty()) notifier = std::make_unique<notify::Notifier>(options.notify);
  DispatcherOptions dispatch;
  dispatch.max_jobs = options.max_jobs > 0
                          ? options.max_jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  dispatch.requeue_interrupted = options.requeue_interrupted;
  Dispatcher dispatcher(layout, dispatch, notifier.get());
  // Before listening: jobs of a dead predecessor may still hold its port.
  Result<std::vector<int64_t>> recovered = dispatcher.Recover();
  if (!recovered) {
    fmt::print(stderr, "tauon: error: {}\n", recovered.error().message);
    return 1;
  }
  Watcher watcher(layout, dispatcher);
  Api api(layout, dispatcher, watcher, *token);
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  // Environments' routers listen where the server does.
  SystemClock clock;
  deploy::RouterTraffic traffic;
  auto controller = std::make_unique<deploy::Controller>(data_dir, clock, traffic, host,
                                                        notifier.get());
  if (Status recovered = controller->Recover(); !recovered) {
    fmt::print(stderr, "tauon: error: {}\n", recovered.error().message);
    return 1;
  }
  // Rollouts start from the default branch: its new model versions go to
  // the first environments of their pipeline.
  dispatcher.OnModelRegistered(
      [&controller](const store::ModelVersionRecord& version) { controller->Registered(version); });
  DeployApi deploy_api(*controller, *token);
  api.AddMetrics([&traffic] { return traffic.PrometheusText(); });
  api.AddMetrics([&controller] { return controller->analysis_export().PrometheusText(); });
  http::Server http_server;
  api.Register(http_server);
  deploy_api.Register(http_server);

  Result<int> port = http_server.Start(options.listen);
  if (!port) {
    fmt::print(stderr, "tauon: error: {}\n", port.error().message);
    return 1;
  }
  if (host.empty()) host = "0.0.0.0";
  const std::string url = fmt::format("http://{}:{}", host, *port);
  dispatcher.Start(options.public_url.empty() ? url : options.public_url);
  controller->SetPublicUrl(options.public_url.empty() ? url : options.public_url);
  watcher.Start();
  fmt::print(stderr, "tauon: serving on {} (data in {}, up to {} job{} at once)\n", url,
             data_dir.string(), dispatch.max_jobs, dispatch.max_jobs == 1 ? "" : "s");
  fmt::print(stderr, "tauon: API token {} {}\n", created ? "created in" : "in",
             layout.token().string());
  for (const notify::Channel& channel : options.notify) {
    fmt::print(stderr, "tauon: notifying {}\n", channel.Describe());
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fmt::print(stderr, "tauon: {} received: stopping\n", sigabbrev_np(signal_number));
  http_server.Stop();
  watcher.Stop();
  dispatcher.Stop();
  controller.reset();  // Stops the replicas, gracefully.
  notifier.reset();
  fmt::print(stderr, "tauon: stopped\n");
  return 0;
}

}  // namespace tauon::server
