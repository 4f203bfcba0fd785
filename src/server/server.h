// `tauon serve`: the API, webhooks, the repository watcher, the run
// dispatcher and notifications in one process, until SIGINT or SIGTERM.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "notify/notifier.h"

namespace tauon::server {

struct ServeOptions {
  std::filesystem::path data_dir = ".tauon";
  std::string listen = "127.0.0.1:8080";
  int max_jobs = 0;  // 0: the number of cores.
  std::vector<notify::Channel> notify;
  int requeue_interrupted = 1;
  std::string public_url;  // For links in notifications; default http://LISTEN.
};

// Serves until SIGINT or SIGTERM; returns the exit code. Prints where the
// API token is and what it recovered at start.
int Serve(const ServeOptions& options);

}  // namespace tauon::server
