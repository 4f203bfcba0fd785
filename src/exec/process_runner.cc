#include "exec/process_runner.h"

#include <string.h>

namespace tauon::exec {

std::string ExitStatus::Describe() const {
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return name ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", signal);
  }
  return fmt::format("exit code {}", code);
}

}  // namespace tauon::exec
