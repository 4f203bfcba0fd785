// Names a process across restarts of whoever watches it: its pid alone can
// be reused, but (boot, pid, start time) cannot. Used to find out, after a
// crash, whether a run's owner or a step's process group is still the one
// that was recorded.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tauon {

struct ProcessIdentity {
  std::string boot_id;       // /proc/sys/kernel/random/boot_id
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // Field 22 of /proc/PID/stat.

  // The calling process.
  static ProcessIdentity Self();
  // Process `pid` as it is now; nullopt if there is none (or it is a zombie).
  static std::optional<ProcessIdentity> Of(pid_t pid);
  // "boot:pid:ticks"; Parse() reads it back (nullopt if malformed).
  std::string ToString() const;
  static std::optional<ProcessIdentity> Parse(std::string_view text);

  // True if this very process is still running (not a zombie).
  bool IsAlive() const;

  bool operator==(const ProcessIdentity&) const = default;
};

}  // namespace tauon
