// Follows a run as it is written: the output lines of its steps, and the
// status of its jobs and of the run itself. Used for `tauon logs -f` and the
// API's Server-Sent Events stream. Reads only what the recorder wrote (log
// files and the store), so it works from any process.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace tauon::runs {

class LogFollower {
 public:
  struct Event {
    // "line": {job, step, attempt, time, text}
    // "job":  {job, status, attempt, error}
    // "run":  {id, status, error}, sent when the run's status changes
    std::string type;
    nlohmann::json data;
  };

  LogFollower(store::Store& store, std::filesystem::path data_dir, int64_t run_id)
      : store_(store), data_dir_(std::move(data_dir)), run_id_(run_id) {}

  // What happened since the last call, oldest first. `finished` is set once
  // the run is over and every line it wrote has been returned. Fails if the
  // run does not exist.
  Result<std::vector<Event>> Poll(bool* finished);

 private:
  // Appends the complete lines written to `path` since the last call.
  void ReadNewLines(const std::string& path, const nlohmann::json& where,
                    std::vector<Event>* events);

  store::Store& store_;
  const std::filesystem::path data_dir_;
  const int64_t run_id_;
  std::map<std::string, uint64_t> offsets_;       // Log path -> bytes consumed.
  std::map<std::string, std::string> job_state_;  // Job name -> "status/attempt" last sent.
  std::string run_status_;
};

}  // namespace tauon::runs
