#include "util/process_identity.h"

#include <unistd.h>

#include <charconv>

#include "util/files.h"
#include "util/strings.h"

namespace tauon {
namespace {

const std::string& BootId() {
  static const std::string id = [] {
    Result<std::string> text = ReadFileToString("/proc/sys/kernel/random/boot_id");
    return text ? std::string(Trim(*text)) : std::string("unknown-boot");
  }();
  return id;
}

// Start time and state of `pid` from /proc/PID/stat; nullopt if gone.
std::optional<std::pair<uint64_t, char>> StatOf(pid_t pid) {
  Result<std::string> stat = ReadFileToString(fmt::format("/proc/{}/stat", pid));
  if (!stat) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields after
  // the last ')' are fixed. State is field 3, start time field 22.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<std::string> fields = Split(Trim(std::string_view(*stat).substr(close + 1)), ' ');
  if (fields.size() < 20 || fields[0].empty()) return std::nullopt;
  uint64_t ticks = 0;
  const std::string& start = fields[19];
  if (std::from_chars(start.data(), start.data() + start.size(), ticks).ec != std::errc()) {
    return std::nullopt;
  }
  return std::pair(ticks, fields[0][0]);
}

}  // namespace

ProcessIdentity ProcessIdentity::Self() {
  return Of(getpid()).value_or(ProcessIdentity{BootId(), getpid(), 0});
}

std::optional<ProcessIdentity> ProcessIdentity::Of(pid_t pid) {
  std::optional<std::pair<uint64_t, char>> stat = StatOf(pid);
  if (!stat || stat->second == 'Z' || stat->second == 'X') return std::nullopt;
  return ProcessIdentity{BootId(), pid, stat->first};
}

std::string ProcessIdentity::ToString() const {
  return fmt::format("{}:{}:{}", boot_id, pid, start_ticks);
}

std::optional<ProcessIdentity> ProcessIdentity::Parse(std::string_view text) {
  std::vector<std::string> parts = Split(text, ':');
  if (parts.size() != 3 || parts[0].empty()) return std::nullopt;
  ProcessIdentity id;
  id.boot_id = parts[0];
  if (std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), id.pid).ec !=
          std::errc() ||
      std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), id.start_ticks).ec !=
          std::errc() ||
      id.pid <= 0) {
    return std::nullopt;
  }
  return id;
}

bool ProcessIdentity::IsAlive() const {
  if (boot_id != BootId()) return false;
  std::optional<ProcessIdentity> now = Of(pid);
  return now && now->start_ticks == start_ticks;
}

}  // namespace tauon
