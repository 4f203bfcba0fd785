// The router's traffic statistics: cumulative counters and latency histograms
// per release, written by the I/O threads without locks and read as
// snapshots.
//
// Everything in a Snapshot is cumulative (since the router started), so a
// caller gets any interval's rates and percentiles from the difference of two
// snapshots (see Interval()); the canary analysis does that. The sliding
// window (`recent_latency`) is for display: /metrics and status.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tauon::router {

// Latency histogram buckets: upper bounds in microseconds, ten per decade
// (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 x 10^k) from 100 us to 100 s, and a
// last, unbounded bucket. Percentiles interpolate inside a bucket, so they
// are within 25% of the truth (usually much closer).
inline constexpr int kLatencyBounds = 61;
inline constexpr int kLatencyBuckets = kLatencyBounds + 1;  // + the unbounded one.
const std::array<uint64_t, kLatencyBounds>& LatencyBoundsMicros();
int LatencyBucket(uint64_t micros);

// The sliding window for `recent_latency`: kWindowSlots slots of
// kWindowSlotSeconds; a snapshot covers the current slot and the ones before
// it, i.e. the last 50 to 60 seconds.
inline constexpr int kWindowSlots = 6;
inline constexpr int kWindowSlotSeconds = 10;

// Why an exchange with an upstream failed.
enum class UpstreamError {
  kConnect,   // Connection refused, unreachable or connect timeout.
  kTimeout,   // No (complete) response within the read timeout.
  kProtocol,  // Not HTTP, or over a size limit: garbage gets 502.
  kClosed,    // The upstream closed or reset the connection mid-response.
};
inline constexpr int kUpstreamErrorKinds = 4;
const char* UpstreamErrorName(int kind);

struct LatencyHistogram {
  std::array<uint64_t, kLatencyBuckets> counts{};
  uint64_t count = 0;
  double sum_seconds = 0;

  // The q-quantile (0 < q <= 1) in milliseconds, interpolated inside its
  // bucket; 0 when empty.
  double QuantileMs(double q) const;
  LatencyHistogram& operator-=(const LatencyHistogram& other);
  LatencyHistogram& operator+=(const LatencyHistogram& other);
};

struct ReleaseSnapshot {
  std::string release;
  std::string version;
  uint32_t weight = 0;
  int ready_replicas = 0;
  bool in_table = false;  // False for a release removed from the table (counters kept).
  // Primary traffic, by status class: [0] = 1xx ... [4] = 5xx.
  std::array<uint64_t, 5> requests{};
  std::array<uint64_t, kUpstreamErrorKinds> upstream_errors{};
  int64_t in_flight = 0;
  LatencyHistogram latency;         // Cumulative.
  LatencyHistogram recent_latency;  // The sliding window only.
  // Mirrored (shadow) traffic this release received.
  std::array<uint64_t, 5> mirror_requests{};
  uint64_t mirror_upstream_errors = 0;
  LatencyHistogram mirror_latency;
  // Mirrored requests whose primary and shadow responses were both JSON:
  // whether the two documents were equal.
  uint64_t mirror_agreed = 0;
  uint64_t mirror_disagreed = 0;

  uint64_t total_requests() const;
};

struct Snapshot {
  std::string environment;
  double uptime_seconds = 0;  // Since the router was created.
  std::vector<ReleaseSnapshot> releases;
  uint64_t bad_requests = 0;  // Refused before any release was chosen (400, 413, 431, ...).
  uint64_t connections_accepted = 0;
  int64_t connections_open = 0;

  const ReleaseSnapshot* Find(std::string_view release) const;
};

// One release's traffic between two snapshots of the same router.
struct IntervalStats {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 5xx responses.
  double request_rate = 0;  // Per second.
  double error_rate = 0;    // errors / requests; 0 without requests.
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
};
IntervalStats Interval(const ReleaseSnapshot& before, const ReleaseSnapshot& after,
                       double seconds);

// The live counters of one release. Each I/O thread writes only its own
// shard (single writer: plain load + store, no read-modify-write), and a
// reader sums the shards; the atomics only make the concurrent reads
// well-defined. Counters may be read mid-request, never torn.
class ReleaseCounters {
 public:
  explicit ReleaseCounters(int shards);
  ~ReleaseCounters();

  // `now_seconds` is a steady clock in seconds (it picks the window slot).
  void RecordResponse(int shard, int status, uint64_t micros, int64_t now_seconds);
  void RecordUpstreamError(int shard, UpstreamError kind);
  void AddInFlight(int shard, int delta);
  void RecordMirror(int shard, int status, uint64_t micros);
  void RecordMirrorUpstreamError(int shard);
  void RecordMirrorComparison(int shard, bool agreed);

  // Adds the shards' totals to `out` (counters and histograms).
  void AddTo(ReleaseSnapshot* out, int64_t now_seconds) const;

 private:
  struct Shard;
  std::unique_ptr<Shard[]> shards_;
  int shard_count_;
};

}  // namespace tauon::router
