#include "router/stats.h"

#include <algorithm>

namespace tauon::router {

namespace {

using Counter = std::atomic<uint64_t>;

// Single-writer increment: only the owning thread writes a shard.
inline void Bump(Counter& counter, uint64_t delta = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

inline uint64_t Read(const Counter& counter) { return counter.load(std::memory_order_relaxed); }

int StatusClass(int status) { return std::clamp(status / 100, 1, 5) - 1; }

struct AtomicHistogram {
  std::array<Counter, kLatencyBuckets> counts{};
  Counter sum_micros{0};

  void Record(uint64_t micros) {
    Bump(counts[LatencyBucket(micros)]);
    Bump(sum_micros, micros);
  }
  void AddTo(LatencyHistogram* out) const {
    for (int i = 0; i < kLatencyBuckets; ++i) {
      uint64_t n = Read(counts[i]);
      out->counts[i] += n;
      out->count += n;
    }
    out->sum_seconds += static_cast<double>(Read(sum_micros)) / 1e6;
  }
  void Clear() {
    for (Counter& c : counts) c.store(0, std::memory_order_relaxed);
    sum_micros.store(0, std::memory_order_relaxed);
  }
};

}  // namespace

const std::array<uint64_t, kLatencyBounds>& LatencyBoundsMicros() {
  static const std::array<uint64_t, kLatencyBounds> bounds = [] {
    std::array<uint64_t, kLatencyBounds> b{};
    // Tenths of the decade's base: 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5.
    constexpr uint64_t kSteps[] = {100, 125, 150, 200, 250, 300, 400, 500, 600, 750};
    uint64_t base = 1;  // x100 us at the first decade -> 100 us.
    int i = 0;
    for (int decade = 0; decade < 6; ++decade, base *= 10) {
      for (uint64_t step : kSteps) b[i++] = step * base;
    }
    b[i] = 100 * base;  // 100 s.
    return b;
  }();
  return bounds;
}

int LatencyBucket(uint64_t micros) {
  const auto& bounds = LatencyBoundsMicros();
  return static_cast<int>(std::lower_bound(bounds.begin(), bounds.end(), micros) - bounds.begin());
}

const char* UpstreamErrorName(int kind) {
  static constexpr const char* kNames[] = {"connect", "timeout", "protocol", "closed"};
  return kind >= 0 && kind < kUpstreamErrorKinds ? kNames[kind] : "unknown";
}

double LatencyHistogram::QuantileMs(double q) const {
  if (count == 0) return 0;
  const auto& bounds = LatencyBoundsMicros();
  double rank = q * static_cast<double>(count);
  uint64_t seen = 0;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    if (counts[i] == 0) continue;
    if (static_cast<double>(seen + counts[i]) >= rank) {
      if (i == kLatencyBounds) return static_cast<double>(bounds.back()) / 1000.0;
      double lower = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
      double upper = static_cast<double>(bounds[i]);
      double fraction = (rank - static_cast<double>(seen)) / static_cast<double>(counts[i]);
      return (lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0)) / 1000.0;
    }
    seen += counts[i];
  }
  return static_cast<double>(bounds.back()) / 1000.0;
}

LatencyHistogram& LatencyHistogram::operator-=(const LatencyHistogram& other) {
  for (int i = 0; i < kLatencyBuckets; ++i) {
    counts[i] = counts[i] >= other.counts[i] ? counts[i] - other.counts[i] : 0;
  }
  count = count >= other.count ? count - other.count : 0;
  sum_seconds = std::max(0.0, sum_seconds - other.sum_seconds);
  return *this;
}

LatencyHistogram& LatencyHistogram::operator+=(const LatencyHistogram& other) {
  for (int i = 0; i < kLatencyBuckets; ++i) counts[i] += other.counts[i];
  count += other.count;
  sum_seconds += other.sum_seconds;
  return *this;
}

uint64_t ReleaseSnapshot::total_requests() const {
  uint64_t total = 0;
  for (uint64_t n : requests) total += n;
  return total;
}

const ReleaseSnapshot* Snapshot::Find(std::string_view release) const {
  for (const ReleaseSnapshot& r : releases) {
    if (r.release == release) return &r;
  }
  return nullptr;
}

IntervalStats Interval(const ReleaseSnapshot& before, const ReleaseSnapshot& after,
                       double seconds) {
  IntervalStats stats;
  uint64_t after_total = after.total_requests(), before_total = before.total_requests();
  stats.requests = after_total >= before_total ? after_total - before_total : 0;
  stats.errors = after.requests[4] >= before.requests[4] ? after.requests[4] - before.requests[4]
                                                          : 0;
  if (seconds > 0) stats.request_rate = static_cast<double>(stats.requests) / seconds;
  if (stats.requests > 0) {
    stats.error_rate = static_cast<double>(stats.errors) / static_cast<double>(stats.requests);
  }
  LatencyHistogram latency = after.latency;
  latency -= before.latency;
  stats.p50_ms = latency.QuantileMs(0.50);
  stats.p95_ms = latency.QuantileMs(0.95);
  stats.p99_ms = latency.QuantileMs(0.99);
  return stats;
}

// One thread's counters, on their own cache lines.
struct alignas(64) ReleaseCounters::Shard {
  std::array<Counter, 5> requests{};
  std::array<Counter, kUpstreamErrorKinds> upstream_errors{};
  std::atomic<int64_t> in_flight{0};
  AtomicHistogram latency;
  struct Slot {
    std::atomic<int64_t> epoch{-1};
    AtomicHistogram latency;
  };
  std::array<Slot, kWindowSlots> window;
  std::array<Counter, 5> mirror_requests{};
  Counter mirror_upstream_errors{0};
  AtomicHistogram mirror_latency;
  Counter mirror_agreed{0};
  Counter mirror_disagreed{0};
};

ReleaseCounters::ReleaseCounters(int shards)
    : shards_(new Shard[std::max(shards, 1)]), shard_count_(std::max(shards, 1)) {}

ReleaseCounters::~ReleaseCounters() = default;

void ReleaseCounters::RecordResponse(int shard, int status, uint64_t micros,
                                     int64_t now_seconds) {
  Shard& s = shards_[shard];
  Bump(s.requests[StatusClass(status)]);
  s.latency.Record(micros);
  int64_t epoch = now_seconds / kWindowSlotSeconds;
  Shard::Slot& slot = s.window[static_cast<size_t>(epoch % kWindowSlots)];
  if (slot.epoch.load(std::memory_order_relaxed) != epoch) {
    // A reader summing this slot meanwhile may see part of the old counts:
    // the window is for display, so that is acceptable.
    slot.latency.Clear();
    slot.epoch.store(epoch, std::memory_order_relaxed);
  }
  slot.latency.Record(micros);
}

void ReleaseCounters::RecordUpstreamError(int shard, UpstreamError kind) {
  Bump(shards_[shard].upstream_errors[static_cast<int>(kind)]);
}

void ReleaseCounters::AddInFlight(int shard, int delta) {
  std::atomic<int64_t>& n = shards_[shard].in_flight;
  n.store(n.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

void ReleaseCounters::RecordMirror(int shard, int status, uint64_t micros) {
  Shard& s = shards_[shard];
  Bump(s.mirror_requests[StatusClass(status)]);
  s.mirror_latency.Record(micros);
}

void ReleaseCounters::RecordMirrorUpstreamError(int shard) {
  Bump(shards_[shard].mirror_upstream_errors);
}

void ReleaseCounters::RecordMirrorComparison(int shard, bool agreed) {
  Bump(agreed ? shards_[shard].mirror_agreed : shards_[shard].mirror_disagreed);
}

void ReleaseCounters::AddTo(ReleaseSnapshot* out, int64_t now_seconds) const {
  int64_t epoch = now_seconds / kWindowSlotSeconds;
  for (int i = 0; i < shard_count_; ++i) {
    const Shard& s = shards_[i];
    for (int c = 0; c < 5; ++c) {
      out->requests[c] += Read(s.requests[c]);
      out->mirror_requests[c] += Read(s.mirror_requests[c]);
    }
    for (int k = 0; k < kUpstreamErrorKinds; ++k) {
      out->upstream_errors[k] += Read(s.upstream_errors[k]);
    }
    out->in_flight += s.in_flight.load(std::memory_order_relaxed);
    s.latency.AddTo(&out->latency);
    for (const Shard::Slot& slot : s.window) {
      int64_t slot_epoch = slot.epoch.load(std::memory_order_relaxed);
      if (slot_epoch >= 0 && slot_epoch > epoch - kWindowSlots && slot_epoch <= epoch) {
        slot.latency.AddTo(&out->recent_latency);
      }
    }
    out->mirror_upstream_errors += Read(s.mirror_upstream_errors);
    s.mirror_latency.AddTo(&out->mirror_latency);
    out->mirror_agreed += Read(s.mirror_agreed);
    out->mirror_disagreed += Read(s.mirror_disagreed);
  }
}

}  // namespace tauon::router
