#include "util/clock.h"

#include <cctype>
#include <ctime>

namespace tauon {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

std::string FormatTime(TimePoint t) {
  auto ms = t.time_since_epoch().count();
  time_t seconds = static_cast<time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  struct tm tm;
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Result<TimePoint> ParseTime(std::string_view text) {
  struct tm tm = {};
  int millis = 0;
  std::string s(text);
  int consumed = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return Fail("invalid time '{}': expected RFC 3339 like 2026-01-31T12:00:00Z", text);
  }
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
      if (digits < 3) millis = millis * 10 + (s[i] - '0');
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (i + 1 != s.size() || s[i] != 'Z') {
    return Fail("invalid time '{}': expected a UTC time ending in Z", text);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t seconds = timegm(&tm);
  return TimePoint(Duration(static_cast<int64_t>(seconds) * 1000 + millis));
}

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Fail("empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!isdigit(static_cast<unsigned char>(text[i]))) {
      return Fail("invalid duration '{}': expected a number followed by ms, s, m or h (e.g. 30s, 15m)",
                  text);
    }
    int64_t value = 0;
    for (; i < text.size() && isdigit(static_cast<unsigned char>(text[i])); ++i) {
      value = value * 10 + (text[i] - '0');
      if (value > 1'000'000'000) return Fail("duration '{}' is too large", text);
    }
    if (i < text.size() && text[i] == '.') {
      return Fail("invalid duration '{}': use whole numbers (e.g. 1h30m, 1500ms)", text);
    }
    size_t unit_start = i;
    while (i < text.size() && isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t factor;
    if (unit == "ms") {
      factor = 1;
    } else if (unit == "s") {
      factor = 1000;
    } else if (unit == "m") {
      factor = 60'000;
    } else if (unit == "h") {
      factor = 3'600'000;
    } else if (unit.empty()) {
      return Fail("invalid duration '{}': missing unit (ms, s, m or h)", text);
    } else {
      return Fail("invalid duration '{}': unknown unit '{}' (expected ms, s, m or h)", text, unit);
    }
    total += value * factor;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms < 0) ms = 0;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  int64_t seconds = ms / 1000;
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

}  // namespace tauon
