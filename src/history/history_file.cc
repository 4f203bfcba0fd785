#include "history/history_file.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>

#include "util/strings.h"

namespace tauon::history {
namespace {

constexpr std::string_view kHeader = "Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle";
constexpr size_t kFields = 8;

// Splits on ';' without allocating; fields are views into `line`.
size_t SplitFields(std::string_view line, std::string_view* fields, size_t max) {
  size_t count = 0;
  size_t start = 0;
  while (true) {
    size_t end = line.find(';', start);
    if (count < max) fields[count] = line.substr(start, end == std::string_view::npos ? end : end - start);
    ++count;
    if (end == std::string_view::npos) return count;
    start = end + 1;
  }
}

std::string Shown(std::string_view field) {
  constexpr size_t kMax = 40;
  return field.size() <= kMax ? std::string(field) : std::string(field.substr(0, kMax)) + "...";
}

Status ParseLine(std::string_view line, size_t number, std::map<int64_t, Cycle>& cycles) {
  std::string_view fields[kFields];
  size_t count = SplitFields(line, fields, kFields);
  if (count != kFields) {
    return Fail("{}: expected {} ';'-separated fields ({}), found {}", number, kFields, kHeader,
                count);
  }
  Execution execution;
  std::string_view name = Trim(fields[1]);
  if (name.empty()) return Fail("{}: Name is empty", number);
  execution.name = std::string(name);
  std::string_view duration = Trim(fields[2]);
  auto [dend, derr] = std::from_chars(duration.data(), duration.data() + duration.size(),
                                      execution.duration);
  if (duration.empty() || derr != std::errc() || dend != duration.data() + duration.size() ||
      !std::isfinite(execution.duration) || execution.duration < 0) {
    return Fail("{}: Duration must be a number >= 0, found '{}'", number, Shown(duration));
  }
  std::string_view verdict = Trim(fields[6]);
  if (verdict != "0" && verdict != "1") {
    return Fail("{}: Verdict must be 0 or 1, found '{}'", number, Shown(verdict));
  }
  execution.failed = verdict == "1";
  std::string_view cycle_text = Trim(fields[7]);
  int64_t cycle = 0;
  auto [cend, cerr] =
      std::from_chars(cycle_text.data(), cycle_text.data() + cycle_text.size(), cycle);
  if (cycle_text.empty() || cerr != std::errc() ||
      cend != cycle_text.data() + cycle_text.size()) {
    return Fail("{}: Cycle must be an integer, found '{}'", number, Shown(cycle_text));
  }
  Cycle& into = cycles[cycle];
  into.id = cycle;
  into.executions.push_back(std::move(execution));
  return Ok();
}

}  // namespace

Result<std::vector<Cycle>> ParseHistory(std::string_view text) {
  std::map<int64_t, Cycle> cycles;
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1) {
      if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
      if (line != kHeader) {
        return Fail("1: expected the header '{}', found '{}'", kHeader, Shown(line));
      }
      continue;
    }
    if (Trim(line).empty()) continue;
    if (Status parsed = ParseLine(line, number, cycles); !parsed) return std::unexpected(parsed.error());
  }
  if (number == 0) return Fail("1: empty file (expected the header '{}')", kHeader);
  std::vector<Cycle> out;
  out.reserve(cycles.size());
  for (auto& [id, cycle] : cycles) out.push_back(std::move(cycle));
  return out;
}

Result<std::vector<Cycle>> ReadHistoryFile(const std::filesystem::path& path) {
  // gzread reads plain files as they are, so one path serves both.
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return Fail("{}: cannot open: {}", path.string(), std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  while (true) {
    int n = gzread(file, buffer, sizeof buffer);
    if (n < 0) {
      int code = 0;
      std::string message = gzerror(file, &code);
      gzclose(file);
      return Fail("{}: cannot read: {}", path.string(), message);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  gzclose(file);
  Result<std::vector<Cycle>> cycles = ParseHistory(text);
  if (!cycles) return Fail("{}:{}", path.string(), cycles.error().message);
  return cycles;
}

}  // namespace tauon::history
