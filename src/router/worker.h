// The router's I/O, shared by its three files: router.cc (the Router:
// routing tables, statistics, start and stop), session.cc (a client
// connection: read, route, answer) and upstream.cc (a request to a replica:
// the connection pool, retries, mirroring). Asio coroutines, one event loop
// per thread, each with a Worker that only its thread touches. The wire
// format lives in http1.cc, the split in balancer.cc, the counters in
// stats.cc. Internal: nothing outside src/router includes this.
#pragma once

#if defined(__SANITIZE_THREAD__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif
// g++ 12 mistakes Asio's coroutine frame allocator (a sized operator
// delete matching its operator new) for a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <utility>  // Before Boost: Asio 1.74 misses it under -std=c++2b.

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "router/balancer.h"
#include "router/router.h"

namespace tauon::router {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// What only the router's I/O files use.
namespace detail {

inline constexpr Duration kSweepInterval{100};
inline constexpr size_t kReadChunk = 16 * 1024;

inline SteadyTime Now() { return std::chrono::steady_clock::now(); }

// A growable byte buffer with a consumed prefix: reads append at the end,
// parsing consumes from the front. Views into data() stay valid until the
// next Prepare().
class Buffer {
 public:
  std::string_view data() const { return {storage_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }
  // Room for at least `min` more bytes.
  asio::mutable_buffer Prepare(size_t min) {
    if (capacity_ - end_ < min) {
      if (begin_ > 0) {
        std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (capacity_ - end_ < min) {
        size_t capacity = std::max(capacity_ * 2, end_ + min);
        std::unique_ptr<char[]> bigger(new char[capacity]);
        if (end_ > 0) std::memcpy(bigger.get(), storage_.get(), end_);
        storage_ = std::move(bigger);
        capacity_ = capacity;
      }
    }
    return asio::buffer(storage_.get() + end_, capacity_ - end_);
  }
  void Commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

struct UpstreamConnection {
  explicit UpstreamConnection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  Buffer buffer;
  SteadyTime idle_since;
};

// A table with everything resolved: shared, immutable.
struct CompiledTable {
  RoutingTable table;
  std::vector<std::vector<tcp::endpoint>> endpoints;  // [backend][replica]
  std::vector<std::vector<std::string>> keys;         // Pool keys "ip:port" per [backend][replica].
  std::vector<std::shared_ptr<ReleaseCounters>> counters;  // Per backend.
  // Requests at each replica now, per [backend][replica]; shared by every
  // table naming the same address, so requests started under an older table
  // count too (Router::InFlight).
  std::vector<std::vector<std::shared_ptr<std::atomic<int64_t>>>> in_flight;
  std::vector<uint32_t> weights;
  std::vector<std::string> default_hosts;  // Per backend: Host for requests without one.
  int mirror = -1;  // Backend index of the mirror release.
};

// Both halves of a mirrored request: the comparison happens when the second
// one finishes. Used on one thread only.
struct MirrorPair {
  std::shared_ptr<ReleaseCounters> shadow;
  int shard = 0;
  int pending = 2;
  bool primary_ok = false, mirror_ok = false;  // Complete JSON bodies within the limit.
  std::string primary_body, mirror_body;

  void Finish() {
    if (--pending > 0) return;
    if (!primary_ok || !mirror_ok) return;
    nlohmann::json a = nlohmann::json::parse(primary_body, nullptr, false);
    nlohmann::json b = nlohmann::json::parse(mirror_body, nullptr, false);
    if (a.is_discarded() || b.is_discarded()) return;
    shadow->RecordMirrorComparison(shard, a == b);
  }
};

struct Worker;

// Deadline of one socket: the sweep closes sockets whose deadline passed, so
// a pending read or write ends with an error and `fired` says why. Cheaper
// than a timer per operation: arming is a store.
struct Watch {
  Watch(Worker* worker, tcp::socket* socket);
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  void Arm(Duration d);
  void Disarm() { deadline = SteadyTime::max(); }

  Worker* worker;
  tcp::socket* socket;
  SteadyTime deadline = SteadyTime::max();
  bool fired = false;
  Watch* prev = nullptr;  // The worker's intrusive list of watches.
  Watch* next = nullptr;
};

}  // namespace detail

struct Router::Impl {
  std::string environment;
  RouterOptions options;
  int thread_count = 1;
  SteadyTime created = detail::Now();

  mutable std::mutex mutex;
  std::shared_ptr<const detail::CompiledTable> table;  // Guarded by mutex.
  std::map<std::string, std::shared_ptr<ReleaseCounters>> counters;  // Guarded by mutex.
  // By "ip:port"; never removed (a few bytes per address ever used).
  std::map<std::string, std::shared_ptr<std::atomic<int64_t>>> replica_in_flight;  // Guarded by mutex.
  std::atomic<uint64_t> table_version{1};
  std::atomic<uint64_t> bad_requests{0};

  // Set by Start, cleared by Stop: guarded by mutex.
  std::vector<std::unique_ptr<detail::Worker>> workers;
  std::vector<std::thread> threads;
  bool started = false;  // Guarded by mutex.
  bool stopped = false;  // Guarded by mutex.

  std::shared_ptr<const detail::CompiledTable> CurrentTable() const {
    std::lock_guard lock(mutex);
    return table;
  }
};

namespace detail {

// One I/O thread and everything only it touches.
struct Worker {
  Worker(Router::Impl* impl, int index)
      : impl(impl), index(index), acceptor(io), sweep(io) {
    std::random_device random;
    id_prefix = fmt::format("{:08x}", random());
  }

  Router::Impl* impl;
  int index;
  // Declared before the event loop so that it outlives it.
  Watch* watches = nullptr;  // Intrusive list: no allocation per request.
  // Sockets and timers are only used on this thread (Stop posts to it): the
  // reactor needs no per-descriptor locking.
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp::acceptor acceptor;
  asio::steady_timer sweep;
  bool stopping = false;

  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle;

  // The table this thread routes with, and its picking state.
  uint64_t version = 0;
  std::shared_ptr<const CompiledTable> table;
  WeightedPicker picker;
  // One per primary release: a single sampler would alias with the weighted
  // picker's cycle (10% of a 90:10 split can be every canary request) and
  // compare one release only; per release, each gets exactly N% mirrored.
  std::vector<PercentSampler> mirror_samplers;
  std::vector<size_t> next_replica;                  // Per backend.
  std::vector<std::vector<SteadyTime>> down_until;   // Per backend and replica.

  std::string id_prefix;
  uint64_t request_count = 0;
  SteadyTime coarse_now = Now();  // Updated by the sweep (every kSweepInterval) and per request.
  bool any_down = false;          // Some replica is marked down (PickReplica reads the clock).
  std::atomic<uint64_t> accepted{0};
  std::atomic<int64_t> open{0};

  void Refresh() {
    uint64_t current = impl->table_version.load(std::memory_order_acquire);
    if (current == version && table) return;
    {
      std::lock_guard lock(impl->mutex);
      RefreshLocked();
    }
  }
  // REQUIRES: impl->mutex is held.
  void RefreshLocked() {
    table = impl->table;
    version = impl->table_version.load(std::memory_order_acquire);
    picker = WeightedPicker(table->weights);
    mirror_samplers.assign(table->endpoints.size(), PercentSampler(table->table.mirror_percent));
    next_replica.assign(table->endpoints.size(), 0);
    down_until.clear();
    for (const auto& replicas : table->endpoints) {
      down_until.emplace_back(replicas.size(), SteadyTime::min());
    }
    // Spread the threads' round robins.
    for (size_t& n : next_replica) n = static_cast<size_t>(index);
    // Close pooled connections to replicas that left the table: a replica
    // being stopped sees its idle keep-alive connections go at once.
    std::erase_if(idle, [&](const auto& entry) {
      for (const auto& keys : table->keys) {
        if (std::find(keys.begin(), keys.end(), entry.first) != keys.end()) return false;
      }
      return true;
    });
  }

  // 24 hex digits: 8 random per thread, 2 for the thread, 14 counting.
  void NextRequestId(std::string* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    uint64_t value = (static_cast<uint64_t>(index & 0xff) << 56) | (++request_count & ((1ull << 56) - 1));
    for (int i = 15; i >= 0; --i, value >>= 4) digits[i] = kHex[value & 0xf];
    out->assign(id_prefix);
    out->append(digits, 16);
  }

  // The next replica of `backend` in table `t` not in `tried`, preferring
  // ones not marked down; -1 when all were tried. A request that started
  // before the thread moved to a newer table finishes on its own table, in
  // order and without down marks.
  // `tried` is a bit set of replica indexes (replicas past 64 cannot be
  // excluded; attempts are bounded anyway).
  static bool IsTried(uint64_t tried, size_t i) { return i < 64 && (tried >> i) & 1; }
  static void SetTried(uint64_t* tried, size_t i) {
    if (i < 64) *tried |= uint64_t{1} << i;
  }
  int PickReplica(const CompiledTable* t, int backend, uint64_t tried) {
    size_t n = t->endpoints[backend].size();
    if (n == 0) return -1;
    if (t != table.get()) {
      for (size_t i = 0; i < n; ++i) {
        if (!IsTried(tried, i)) return static_cast<int>(i);
      }
      return -1;
    }
    SteadyTime now = any_down ? Now() : SteadyTime::min();
    int fallback = -1;
    for (size_t k = 0; k < n; ++k) {
      size_t i = (next_replica[backend] + k) % n;
      if (IsTried(tried, i)) continue;
      if (down_until[backend][i] > now) {
        if (fallback < 0) fallback = static_cast<int>(i);
        continue;
      }
      next_replica[backend] = i + 1;
      return static_cast<int>(i);
    }
    return fallback;
  }

  std::unique_ptr<UpstreamConnection> TakeIdle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    // The sweep drops connections idle longer than upstream_idle_timeout.
    while (!it->second.empty()) {
      std::unique_ptr<UpstreamConnection> conn = std::move(it->second.back());
      it->second.pop_back();
      // An idle connection has nothing to read: EOF or bytes mean the
      // upstream closed it (or is broken). Checking costs one syscall and
      // keeps a failure after sending unambiguous (see Forward).
      char byte;
      ssize_t n = recv(conn->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return conn;
    }
    return nullptr;
  }

  void PutIdle(const std::string& key, std::unique_ptr<UpstreamConnection> conn) {
    if (stopping) return;
    auto& list = idle[key];
    if (list.size() >= impl->options.max_idle_per_upstream) return;
    conn->idle_since = coarse_now;
    conn->buffer.Clear();
    list.push_back(std::move(conn));
  }

  void StartSweep() {
    sweep.expires_after(kSweepInterval);
    sweep.async_wait([this](error_code ec) {
      if (ec || stopping) return;
      SteadyTime now = Now();
      coarse_now = now;
      Refresh();  // A table change closes idle connections to removed replicas.
      for (Watch* watch = watches; watch; watch = watch->next) {
        if (watch->deadline <= now && !watch->fired) {
          watch->fired = true;
          error_code ignored;
          watch->socket->close(ignored);
        }
      }
      // Drop pooled connections that went stale.
      SteadyTime oldest = now - impl->options.upstream_idle_timeout;
      for (auto& [key, list] : idle) {
        std::erase_if(list, [&](const auto& conn) { return conn->idle_since < oldest; });
      }
      StartSweep();
    });
  }

  void Shutdown() {
    stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    sweep.cancel();
    for (Watch* watch = watches; watch; watch = watch->next) watch->socket->close(ignored);
    idle.clear();
  }

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(tcp::socket client);
  // Per-connection buffers reused by every request on it.
  struct Scratch {
    std::string client_head;
    std::vector<asio::const_buffer> out;
    std::vector<std::string_view> pieces;
  };
  struct Outcome {
    int status = 0;
    bool keep_client = true;  // The client connection is still usable.
  };
  asio::awaitable<Outcome> Forward(int backend, const std::string& head, const std::string& body,
                                   std::string_view method, bool client_http10,
                                   bool client_keep_alive, const std::string& request_id,
                                   tcp::socket& client, Watch& client_watch,
                                   std::shared_ptr<MirrorPair> pair, Scratch& scratch);
  asio::awaitable<void> Mirror(int backend, std::shared_ptr<const CompiledTable> table,
                               std::string head, std::string body, std::string method,
                               std::shared_ptr<MirrorPair> pair);
  void MarkDown(const CompiledTable* t, int backend, int replica, bool down) {
    if (t != table.get()) return;
    if (!down && !any_down) return;
    if (down) any_down = true;
    down_until[backend][replica] =
        down ? Now() + impl->options.down_after_connect_failure : SteadyTime::min();
  }
  asio::awaitable<std::unique_ptr<UpstreamConnection>> Connect(const tcp::endpoint& endpoint,
                                                               const std::string& key,
                                                               bool* reused);
};

// The sweep's clock: deadlines are only checked by the sweep, so they need
// no finer time than it has (and reading the clock per arm is not free).
inline void Watch::Arm(Duration d) { deadline = worker->coarse_now + d; }

inline Watch::Watch(Worker* worker, tcp::socket* socket) : worker(worker), socket(socket) {
  next = worker->watches;
  if (next) next->prev = this;
  worker->watches = this;
}

inline Watch::~Watch() {
  if (prev) {
    prev->next = next;
  } else {
    worker->watches = next;
  }
  if (next) next->prev = prev;
}

}  // namespace detail
}  // namespace tauon::router
