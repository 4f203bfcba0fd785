#include "cli/tests_cmd.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/resources.h"
#include "cli/commands.h"
#include "history/history_file.h"
#include "history/replay.h"

namespace tauon::cli {

int TestsReplayCommand(const std::filesystem::path& file, bool as_json) {
  Result<std::vector<history::Cycle>> cycles = history::ReadHistoryFile(file);
  if (!cycles) {
    fmt::print(stderr, "tauon: error: {}\n", cycles.error().message);
    return kExitFailed;
  }
  history::ReplayResult result = history::Replay(*cycles);
  if (as_json) {
    nlohmann::json out = {{"file", file.string()},
                          {"cycles", result.cycles},
                          {"failing_cycles", result.failing_cycles},
                          {"nontrivial_cycles", result.nontrivial_cycles},
                          {"executions", result.executions},
                          {"tests", result.tests},
                          {"methods", nlohmann::json::array()}};
    for (const history::MethodResult& m : result.methods) {
      out["methods"].push_back({{"name", m.name},
                                {"apfd_failing", m.apfd_failing},
                                {"apfd_nontrivial", m.apfd_nontrivial}});
    }
    nlohmann::json weights = nlohmann::json::object();
    for (size_t i = 0; i < history::kFeatureCount; ++i) {
      weights[std::string(history::kFeatureNames[i])] = result.tauon_weights[i];
    }
    out["tauon_weights"] = weights;
    fmt::print("{}\n", api::ToJsonText(out));
    return kExitOk;
  }
  fmt::print("# {}: {} cycles, {} executions, {} tests; mean APFD over {} failing cycles, "
             "then over {} non-trivial ones (more than one test, not all failing)\n",
             file.string(), result.cycles, result.executions, result.tests, result.failing_cycles,
             result.nontrivial_cycles);
  for (const history::MethodResult& m : result.methods) {
    fmt::print("{:<16} {:.4f} {:.4f}\n", m.name, m.apfd_failing, m.apfd_nontrivial);
  }
  return kExitOk;
}

}  // namespace tauon::cli
