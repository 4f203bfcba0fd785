// Time, behind an interface so the engine and the deploy controller can be
// tested with simulated time.
#pragma once

#include <chrono>
#include <string>

#include "util/error.h"

namespace tauon {

using Duration = std::chrono::milliseconds;
// Wall-clock time; durations are measured on it too, so that fake clocks need
// to model only one time line.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::hours(24 * 365 * 50)))
      : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

// "2026-11-25T13:16:17.123Z" (RFC 3339, UTC, milliseconds).
std::string FormatTime(TimePoint t);
// Parses what FormatTime writes (the fraction is optional).
Result<TimePoint> ParseTime(std::string_view text);

// Parses "500ms", "30s", "15m", "1h30m", "2h". A bare number is refused: units
// are required so that `timeout: 5` is never misread.
Result<Duration> ParseDuration(std::string_view text);
// "850ms", "3.4s", "2m05s", "1h02m".
std::string FormatDuration(Duration d);

}  // namespace tauon
