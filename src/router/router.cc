// The router's I/O: Asio coroutines, one event loop per thread. The wire
// format lives in http1.cc, the split in balancer.cc, the counters in
// stats.cc; this file moves bytes and decides what to do on failures.
#if defined(__SANITIZE_THREAD__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif
// g++ 12 mistakes Asio's coroutine frame allocator (a sized operator
// delete matching its operator new) for a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "router/router.h"

#include <utility>  // Before Boost: Asio 1.74 misses it under -std=c++2b.

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "router/balancer.h"
#include "router/http1.h"
#include "router/rewrite.h"
#include "util/strings.h"

namespace tauon::router {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr Duration kSweepInterval{100};
constexpr size_t kReadChunk = 16 * 1024;
constexpr std::string_view kPinHeader = "x-tauon-release";

SteadyTime Now() { return std::chrono::steady_clock::now(); }

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

Result<tcp::endpoint> ResolveEndpoint(const std::string& host, int port) {
  if (port < 1 || port > 65535) return Fail("port {} out of range (1-65535)", port);
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || h == "localhost") h = "127.0.0.1";
  error_code ec;
  asio::ip::address address = asio::ip::make_address(h, ec);
  if (!ec) return tcp::endpoint(address, static_cast<uint16_t>(port));
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(h, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Fail("cannot resolve '{}': {}", host, ec ? ec.message() : "no address");
  }
  return results.begin()->endpoint();
}

std::string EndpointKey(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

bool IsJsonContentType(std::string_view value) {
  for (size_t i = 0; i + 4 <= value.size(); ++i) {
    if (EqualsIgnoreCase(value.substr(i, 4), "json")) return true;
  }
  return false;
}

// Counts a request at a replica while it lives.
class ReplicaInFlight {
 public:
  explicit ReplicaInFlight(std::atomic<int64_t>* counter) : counter_(counter) {
    counter_->fetch_add(1, std::memory_order_relaxed);
  }
  ~ReplicaInFlight() { counter_->fetch_sub(1, std::memory_order_relaxed); }
  ReplicaInFlight(const ReplicaInFlight&) = delete;
  ReplicaInFlight& operator=(const ReplicaInFlight&) = delete;

 private:
  std::atomic<int64_t>* counter_;
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

}  // namespace

Status ValidateTable(const RoutingTable& table) {
  std::map<std::string, int> seen;
  for (const Backend& backend : table.backends) {
    if (backend.release.empty()) return Fail("a release has an empty name");
    for (char c : backend.release) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return Fail("release name '{}' may only hold letters, digits, '-', '_' and '.'",
                    backend.release);
      }
    }
    if (!seen.emplace(backend.release, 1).second) {
      return Fail("release '{}' appears twice", backend.release);
    }
    for (const Upstream& upstream : backend.upstreams) {
      if (upstream.port < 1 || upstream.port > 65535) {
        return Fail("release '{}': port {} of replica '{}' is out of range (1-65535)",
                    backend.release, upstream.port, upstream.id);
      }
      if (upstream.host.empty()) {
        return Fail("release '{}': replica '{}' has no host", backend.release, upstream.id);
      }
    }
  }
  if (table.mirror_percent < 0 || table.mirror_percent > 100) {
    return Fail("mirror percent {} is not within 0-100", table.mirror_percent);
  }
  if (!table.mirror_release.empty() && !seen.contains(table.mirror_release)) {
    return Fail("mirror release '{}' is not in the table", table.mirror_release);
  }
  return Ok();
}

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

struct Router::Impl {
  std::string environment;
  RouterOptions options;
  int thread_count = 1;
  SteadyTime created = Now();

  mutable std::mutex mutex;
  std::shared_ptr<const CompiledTable> table;  // Guarded by mutex.
  std::map<std::string, std::shared_ptr<ReleaseCounters>> counters;  // Guarded by mutex.
  // By "ip:port"; never removed (a few bytes per address ever used).
  std::map<std::string, std::shared_ptr<std::atomic<int64_t>>> replica_in_flight;  // Guarded by mutex.
  std::atomic<uint64_t> table_version{1};
  std::atomic<uint64_t> bad_requests{0};

  std::vector<std::unique_ptr<Worker>> workers;  // Set by Start, cleared by Stop: guarded by mutex.
  std::vector<std::thread> threads;
  bool started = false;  // Guarded by mutex.
  bool stopped = false;  // Guarded by mutex.

  std::shared_ptr<const CompiledTable> CurrentTable() const {
    std::lock_guard lock(mutex);
    return table;
  }
};

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
void Watch::Arm(Duration d) { deadline = worker->coarse_now + d; }

Watch::Watch(Worker* worker, tcp::socket* socket) : worker(worker), socket(socket) {
  next = worker->watches;
  if (next) next->prev = this;
  worker->watches = this;
}

Watch::~Watch() {
  if (prev) {
    prev->next = next;
  } else {
    worker->watches = next;
  }
  if (next) next->prev = prev;
}

asio::awaitable<void> Worker::Accept() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: pause instead of spinning.
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(io, Session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<std::unique_ptr<UpstreamConnection>> Worker::Connect(
    const tcp::endpoint& endpoint, const std::string& key, bool* reused) {
  if (*reused) {
    std::unique_ptr<UpstreamConnection> conn = TakeIdle(key);
    if (conn) co_return conn;
  }
  *reused = false;
  auto conn = std::make_unique<UpstreamConnection>(io);
  Watch watch(this, &conn->socket);
  watch.Arm(impl->options.connect_timeout);
  error_code ec;
  co_await conn->socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return nullptr;
  conn->socket.set_option(tcp::no_delay(true), ec);
  co_return conn;
}

namespace {

}  // namespace

asio::awaitable<Worker::Outcome> Worker::Forward(int backend, const std::string& head,
                                                 const std::string& body, std::string_view method,
                                                 bool client_http10, bool client_keep_alive,
                                                 const std::string& request_id,
                                                 tcp::socket& client, Watch& client_watch,
                                                 std::shared_ptr<MirrorPair> pair,
                                                 Scratch& scratch) {
  const RouterOptions& options = impl->options;
  std::shared_ptr<const CompiledTable> t = table;  // Kept alive across suspensions.
  ReleaseCounters& counters = *t->counters[backend];
  const std::string& release = t->table.backends[backend].release;
  size_t replicas = t->endpoints[backend].size();
  uint64_t tried = 0;
  int same_replica = -1;  // Retry this replica on a fresh connection.
  // The request went out and the connection died without a response: the
  // replica may have run it (or crashed on it). It is retried once on a
  // fresh connection to the same replica (the pooled one may have been
  // closed just then), never on another: a request that kills replicas must
  // not kill them all.
  bool maybe_processed = false;
  int fail_status = 502;
  std::string fail_message;  // Built on failure only.
  if (replicas == 0) fail_status = 503;
  error_code ec;

  for (size_t attempt = 0; attempt < 2 * replicas + 1 && !stopping; ++attempt) {
    int replica = same_replica >= 0 ? same_replica : PickReplica(t.get(), backend, tried);
    if (replica < 0) break;
    bool reused = same_replica < 0;  // Try the pool unless retrying fresh.
    same_replica = -1;
    std::unique_ptr<UpstreamConnection> conn;
    if (reused) conn = TakeIdle(t->keys[backend][replica]);
    if (!conn) {
      reused = false;
      conn = co_await Connect(t->endpoints[backend][replica], t->keys[backend][replica], &reused);
    }
    const std::string& upstream_id = t->table.backends[backend].upstreams[replica].id;
    if (!conn) {
      if (stopping) break;
      counters.RecordUpstreamError(index, UpstreamError::kConnect);
      MarkDown(t.get(), backend, replica, true);
      if (maybe_processed) {
        fail_status = 502;
        fail_message = fmt::format("replica '{}' of release '{}' closed the connection without "
                                   "a response",
                                   upstream_id, release);
        break;
      }
      SetTried(&tried, replica);
      fail_status = 502;
      fail_message = fmt::format("cannot connect to replica '{}' of release '{}'", upstream_id,
                                 release);
      continue;
    }
    MarkDown(t.get(), backend, replica, false);
    ReplicaInFlight at_replica(t->in_flight[backend][replica].get());
    const std::string& key = t->keys[backend][replica];
    Watch watch(this, &conn->socket);
    watch.Arm(options.read_timeout);
    std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(body)};
    co_await asio::async_write(conn->socket, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec && reused && !watch.fired) {
      // A pooled connection the upstream had closed: its siblings probably
      // are too. Retry on a fresh one (the request is whole in memory).
      idle.erase(key);
      same_replica = replica;
      continue;
    }
    // Read the response head, skipping 1xx interim responses.
    ResponseHead response;
    std::string error;
    size_t scanned = 0;
    bool got_bytes = false;
    ParseResult parsed = ParseResult::kIncomplete;
    while (!ec) {
      if (!conn->buffer.empty()) {
        parsed = ParseResponseHead(conn->buffer.data(), &scanned, method, &response, &error);
        if (parsed == ParseResult::kDone && response.status < 200 && response.status != 101) {
          conn->buffer.Consume(response.head_bytes);
          scanned = 0;
          parsed = ParseResult::kIncomplete;
          continue;
        }
        if (parsed != ParseResult::kIncomplete) break;
        if (conn->buffer.size() > options.max_header_bytes) {
          parsed = ParseResult::kError;
          error = fmt::format("response head over {} bytes", options.max_header_bytes);
          break;
        }
      }
      size_t n = co_await conn->socket.async_read_some(conn->buffer.Prepare(kReadChunk),
                                                      asio::redirect_error(asio::use_awaitable, ec));
      conn->buffer.Commit(n);
      if (n > 0) got_bytes = true;
    }
    if (parsed == ParseResult::kDone && response.status == 101) {
      parsed = ParseResult::kError;
      error = "101 Switching Protocols to a request without Upgrade";
    }
    if (parsed != ParseResult::kDone) {
      if (stopping) break;
      if (ec && !got_bytes && reused && !watch.fired) {
        idle.erase(key);
        same_replica = replica;
        maybe_processed = true;
        continue;
      }
      if (watch.fired) {
        counters.RecordUpstreamError(index, UpstreamError::kTimeout);
        fail_status = 504;
        fail_message = fmt::format("replica '{}' of release '{}' did not answer within {} ms",
                                   upstream_id, release, options.read_timeout.count());
      } else if (parsed == ParseResult::kError) {
        counters.RecordUpstreamError(index, UpstreamError::kProtocol);
        fail_status = 502;
        fail_message = fmt::format("replica '{}' of release '{}' sent an invalid response: {}",
                                   upstream_id, release, error);
      } else {
        counters.RecordUpstreamError(index, UpstreamError::kClosed);
        fail_status = 502;
        fail_message = fmt::format("replica '{}' of release '{}' closed the connection without "
                                   "a response",
                                   upstream_id, release);
      }
      break;  // The request may have been processed: no retry elsewhere.
    }
    if (response.body == BodyKind::kContentLength &&
        response.content_length > options.max_response_body_bytes) {
      counters.RecordUpstreamError(index, UpstreamError::kProtocol);
      fail_status = 502;
      fail_message = fmt::format("replica '{}' of release '{}' sent a response over {} bytes",
                                 upstream_id, release, options.max_response_body_bytes);
      break;
    }

    // Stream the response to the client.
    bool chunk_encode = !client_http10 && response.body == BodyKind::kUntilClose;
    bool forward_chunked = response.body == BodyKind::kChunked && !client_http10;
    bool close_client = !client_keep_alive ||
                        (client_http10 && (response.body == BodyKind::kChunked ||
                                           response.body == BodyKind::kUntilClose));
    bool capture = pair && IsJsonContentType(FindField(response.fields, "content-type"));
    std::string& client_head = scratch.client_head;
    BuildClientHead(response, chunk_encode || forward_chunked, close_client,
                    client_http10 && !close_client, request_id, release, &client_head);
    conn->buffer.Consume(response.head_bytes);
    Outcome outcome{response.status, !close_client};
    uint64_t remaining = response.content_length;
    uint64_t total = 0;
    ChunkedDecoder decoder;
    std::vector<std::string_view>& pieces = scratch.pieces;
    bool upstream_done = response.body == BodyKind::kNone;
    bool upstream_failed = false;
    bool first = true;
    for (;;) {
      // What is in the buffer now: the bytes to send and whether it ends the body.
      std::string_view data = conn->buffer.data();
      std::string_view raw;        // For Content-Length, forwarded chunked, 1.0 until-close.
      pieces.clear();
      if (!upstream_done) {
        switch (response.body) {
          case BodyKind::kContentLength:
            raw = data.substr(0, static_cast<size_t>(std::min<uint64_t>(remaining, data.size())));
            remaining -= raw.size();
            upstream_done = remaining == 0;
            if (capture) pieces.push_back(raw);
            break;
          case BodyKind::kChunked: {
            size_t used = decoder.Feed(data, &pieces);
            if (decoder.has_error()) {
              upstream_failed = true;
              counters.RecordUpstreamError(index, UpstreamError::kProtocol);
              break;
            }
            raw = data.substr(0, used);
            upstream_done = decoder.done();
            break;
          }
          case BodyKind::kUntilClose:
            raw = data;
            pieces.push_back(raw);
            break;
          case BodyKind::kNone:
            break;
        }
      }
      if (upstream_failed) break;
      total += raw.size();
      if (total > options.max_response_body_bytes) {
        counters.RecordUpstreamError(index, UpstreamError::kProtocol);
        upstream_failed = true;
        break;
      }
      if (capture) {
        for (std::string_view piece : pieces) {
          if (pair->primary_body.size() + piece.size() > options.mirror_max_body_bytes) {
            capture = false;
            pair->primary_body.clear();
            break;
          }
          pair->primary_body.append(piece);
        }
      }
      // Build the write: head (first time), then the body bytes.
      std::vector<asio::const_buffer>& out = scratch.out;
      out.clear();
      std::string chunk_header;
      if (first) out.push_back(asio::buffer(client_head));
      if (chunk_encode) {
        if (!raw.empty()) {
          chunk_header = fmt::format("{:x}\r\n", raw.size());
          out.push_back(asio::buffer(chunk_header));
          out.push_back(asio::buffer(raw.data(), raw.size()));
          out.push_back(asio::buffer("\r\n", 2));
        }
      } else if (response.body == BodyKind::kChunked && client_http10) {
        for (std::string_view piece : pieces) out.push_back(asio::buffer(piece.data(), piece.size()));
      } else if (!raw.empty()) {
        out.push_back(asio::buffer(raw.data(), raw.size()));
      }
      if (chunk_encode && upstream_done) out.push_back(asio::buffer("0\r\n\r\n", 5));
      first = false;
      if (!out.empty()) {
        // Only one side is waited on at a time: a slow client does not
        // time the upstream out, a slow token stream not the client.
        watch.Disarm();
        client_watch.Arm(options.idle_timeout);
        co_await asio::async_write(client, out, asio::redirect_error(asio::use_awaitable, ec));
        client_watch.Disarm();
        if (ec) {
          outcome.keep_client = false;
          co_return outcome;  // The client left: the upstream connection is dropped.
        }
      }
      conn->buffer.Consume(raw.size());
      if (upstream_done) break;
      watch.Arm(options.read_timeout);
      size_t n = co_await conn->socket.async_read_some(conn->buffer.Prepare(kReadChunk),
                                                      asio::redirect_error(asio::use_awaitable, ec));
      conn->buffer.Commit(n);
      if (ec) {
        if (response.body == BodyKind::kUntilClose && ec == asio::error::eof) {
          upstream_done = true;
          if (chunk_encode) {
            client_watch.Arm(options.idle_timeout);
            co_await asio::async_write(client, asio::buffer("0\r\n\r\n", 5),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) outcome.keep_client = false;
          }
          break;
        }
        counters.RecordUpstreamError(index, watch.fired ? UpstreamError::kTimeout
                                                        : UpstreamError::kClosed);
        upstream_failed = true;
        break;
      }
    }
    if (upstream_failed) {
      // Part of the response is out: the only way to tell the client is to
      // close its connection before the body's end.
      outcome.keep_client = false;
      co_return outcome;
    }
    if (pair) pair->primary_ok = capture;
    if (response.keep_alive && response.body != BodyKind::kUntilClose && conn->buffer.empty() &&
        !watch.fired) {
      PutIdle(key, std::move(conn));
    }
    co_return outcome;
  }
  if (stopping) co_return Outcome{503, false};
  if (fail_message.empty()) fail_message = fmt::format("release '{}' has no ready replica", release);
  std::string reply = ErrorResponse(fail_status, fail_message, request_id, !client_keep_alive);
  client_watch.Arm(options.idle_timeout);
  co_await asio::async_write(client, asio::buffer(reply),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return Outcome{fail_status, !ec && client_keep_alive};
}

asio::awaitable<void> Worker::Mirror(int backend, std::shared_ptr<const CompiledTable> t,
                                     std::string head, std::string body, std::string method,
                                     std::shared_ptr<MirrorPair> pair) {
  const RouterOptions& options = impl->options;
  ReleaseCounters& counters = *t->counters[backend];
  SteadyTime start = Now();
  uint64_t tried = 0;
  int status = 0;
  bool json = false;
  for (size_t attempt = 0; attempt < t->endpoints[backend].size() && !stopping; ++attempt) {
    int replica = PickReplica(t.get(), backend, tried);
    if (replica < 0) break;
    SetTried(&tried, replica);
    bool reused = false;  // Fresh connections: a stale pooled one would need a retry.
    std::unique_ptr<UpstreamConnection> conn =
        co_await Connect(t->endpoints[backend][replica], t->keys[backend][replica], &reused);
    if (!conn) continue;
    ReplicaInFlight at_replica(t->in_flight[backend][replica].get());
    Watch watch(this, &conn->socket);
    watch.Arm(options.read_timeout);
    error_code ec;
    std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(body)};
    co_await asio::async_write(conn->socket, request, asio::redirect_error(asio::use_awaitable, ec));
    ResponseHead response;
    std::string error;
    size_t scanned = 0;
    bool have_head = false, done = false;
    ChunkedDecoder decoder;
    std::vector<std::string_view> pieces;
    uint64_t remaining = 0;
    while (!ec && !done) {
      std::string_view data = conn->buffer.data();
      if (!have_head && !data.empty()) {
        ParseResult parsed = ParseResponseHead(data, &scanned, method, &response, &error);
        if (parsed == ParseResult::kError) break;
        if (parsed == ParseResult::kDone) {
          conn->buffer.Consume(response.head_bytes);
          scanned = 0;
          if (response.status < 200) continue;
          have_head = true;
          status = response.status;
          json = IsJsonContentType(FindField(response.fields, "content-type"));
          remaining = response.content_length;
          done = response.body == BodyKind::kNone;
          continue;
        }
      } else if (have_head) {
        pieces.clear();
        if (response.body == BodyKind::kContentLength) {
          std::string_view raw = data.substr(0, std::min<uint64_t>(remaining, data.size()));
          remaining -= raw.size();
          pieces.push_back(raw);
          done = remaining == 0;
          conn->buffer.Consume(raw.size());
        } else if (response.body == BodyKind::kChunked) {
          size_t used = decoder.Feed(data, &pieces);
          if (decoder.has_error()) break;
          done = decoder.done();
          conn->buffer.Consume(used);
        } else {
          pieces.push_back(data);
          conn->buffer.Consume(data.size());
        }
        for (std::string_view piece : pieces) {
          if (json && pair->mirror_body.size() + piece.size() <= options.mirror_max_body_bytes) {
            pair->mirror_body.append(piece);
          } else {
            json = false;
          }
        }
        if (done) break;
      }
      size_t n = co_await conn->socket.async_read_some(conn->buffer.Prepare(kReadChunk),
                                                      asio::redirect_error(asio::use_awaitable, ec));
      conn->buffer.Commit(n);
      if (ec == asio::error::eof && have_head && response.body == BodyKind::kUntilClose) done = true;
    }
    if (done && status > 0) {
      counters.RecordMirror(index, status,
                            static_cast<uint64_t>(
                                std::chrono::duration_cast<std::chrono::microseconds>(Now() - start)
                                    .count()));
      pair->mirror_ok = json;
      if (response.keep_alive && response.body != BodyKind::kUntilClose &&
          conn->buffer.empty() && !watch.fired) {
        PutIdle(t->keys[backend][replica], std::move(conn));
      }
      pair->Finish();
      co_return;
    }
    break;  // Sent, but no valid answer: not retried (the request may have run).
  }
  counters.RecordMirrorUpstreamError(index);
  pair->Finish();
}

asio::awaitable<void> Worker::Session(tcp::socket client) {
  const RouterOptions& options = impl->options;
  open.fetch_add(1, std::memory_order_relaxed);
  struct OpenCount {
    std::atomic<int64_t>* open;
    ~OpenCount() { open->fetch_sub(1, std::memory_order_relaxed); }
  } open_count{&open};
  error_code ec;
  client.set_option(tcp::no_delay(true), ec);
  std::string remote;
  {
    tcp::endpoint peer = client.remote_endpoint(ec);
    if (!ec) remote = peer.address().to_string();
  }
  Watch watch(this, &client);
  Buffer in;
  std::string head_out, body, error, request_id, method;
  Scratch scratch;
  RequestHead request;
  while (!stopping) {
    // Read a request head: idle timeout until its first byte, then the
    // header timeout for the whole head (and body).
    size_t scanned = 0;
    int error_status = 400;
    watch.Arm(in.empty() ? options.idle_timeout : options.header_timeout);
    bool started = !in.empty();
    ParseResult parsed = ParseResult::kIncomplete;
    for (;;) {
      if (!in.empty()) {
        parsed = ParseRequestHead(in.data(), &scanned, &request, &error, &error_status);
        if (parsed != ParseResult::kIncomplete) break;
        if (in.size() > options.max_header_bytes) {
          parsed = ParseResult::kError;
          error_status = 431;
          error = fmt::format("request head over {} bytes", options.max_header_bytes);
          break;
        }
      }
      size_t n = co_await client.async_read_some(in.Prepare(4096),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      in.Commit(n);
      if (ec) break;
      if (!started && n > 0) {
        started = true;
        watch.Arm(options.header_timeout);
      }
    }
    if (parsed == ParseResult::kIncomplete) {
      // The client left, or was too slow (the sweep closed the socket: no
      // 408 can be sent, the connection just ends).
      if (watch.fired && started && !stopping) {
        impl->bad_requests.fetch_add(1, std::memory_order_relaxed);
      }
      co_return;
    }
    if (parsed == ParseResult::kError) {
      impl->bad_requests.fetch_add(1, std::memory_order_relaxed);
      std::string reply = ErrorResponse(error_status, error, "", true);
      watch.Arm(options.idle_timeout);
      co_await asio::async_write(client, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      client.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    SteadyTime start = Now();
    coarse_now = start;
    Refresh();
    std::shared_ptr<const CompiledTable> t = table;

    // Which release: pin, sticky key, or the weighted split.
    int backend = -1;
    int refuse_status = 0;
    std::string refuse_message;
    bool has_pin = false;
    std::string_view pin = FindField(request.fields, kPinHeader, &has_pin);
    const auto& backends = t->table.backends;
    if (has_pin) {
      for (size_t i = 0; i < backends.size(); ++i) {
        if (backends[i].release == pin || (!backends[i].version.empty() && backends[i].version == pin)) {
          backend = static_cast<int>(i);
          break;
        }
      }
      if (backend < 0) {
        refuse_status = 400;
        std::vector<std::string> names;
        for (const Backend& b : backends) names.push_back(b.release);
        refuse_message = fmt::format("X-Tauon-Release '{}' names no release (releases: {})", pin,
                                     names.empty() ? "none" : Join(names, ", "));
      }
    } else {
      std::string_view key;
      if (!t->table.sticky_header.empty()) key = FindField(request.fields, t->table.sticky_header);
      if (key.empty() && !t->table.sticky_cookie.empty()) {
        key = FindCookie(request.fields, t->table.sticky_cookie);
      }
      backend = key.empty() ? picker.Next() : PickByKey(t->weights, key);
      if (backend < 0) {
        refuse_status = 503;
        refuse_message = fmt::format("environment '{}' has no release taking traffic",
                                     impl->environment);
      }
    }

    // The head for the upstream, built now: the views into `in` die at the
    // next read.
    bool has_request_id = false;
    request_id.assign(FindField(request.fields, "x-request-id", &has_request_id));
    if (!has_request_id || request_id.empty()) NextRequestId(&request_id);
    method.assign(request.method);
    bool http10 = request.version_minor == 0;
    bool keep_alive = request.keep_alive;
    head_out.clear();
    BuildUpstreamHead(request, request_id, !has_request_id, remote,
                      backend >= 0 ? std::string_view(t->default_hosts[backend]) : "", &head_out);
    BodyKind body_kind = request.body;
    uint64_t content_length = request.content_length;
    bool expect_continue = request.expect_continue;
    in.Consume(request.head_bytes);

    // Read the whole body: retries and mirrors need it, and model requests
    // are small.
    body.clear();
    if (body_kind == BodyKind::kContentLength && content_length > options.max_request_body_bytes) {
      impl->bad_requests.fetch_add(1, std::memory_order_relaxed);
      std::string reply = ErrorResponse(
          413, fmt::format("request body over {} bytes", options.max_request_body_bytes),
          request_id, true);
      co_await asio::async_write(client, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      client.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    if (expect_continue && body_kind != BodyKind::kNone && in.empty()) {
      co_await asio::async_write(client, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n", 25),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    ChunkedDecoder decoder;
    std::vector<std::string_view> pieces;
    bool body_error = false, too_large = false;
    while (body_kind != BodyKind::kNone) {
      std::string_view data = in.data();
      if (body_kind == BodyKind::kContentLength) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(content_length - body.size(), data.size()));
        body.append(data.substr(0, take));
        in.Consume(take);
        if (body.size() == content_length) break;
      } else {
        pieces.clear();
        size_t used = decoder.Feed(data, &pieces);
        for (std::string_view piece : pieces) body.append(piece);
        in.Consume(used);
        if (decoder.has_error()) {
          body_error = true;
          error = decoder.error();
          break;
        }
        if (body.size() > options.max_request_body_bytes) {
          too_large = true;
          break;
        }
        if (decoder.done()) break;
      }
      size_t n = co_await client.async_read_some(in.Prepare(kReadChunk),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      in.Commit(n);
      if (ec) co_return;  // Gone or too slow while sending the body.
    }
    if (body_error || too_large) {
      impl->bad_requests.fetch_add(1, std::memory_order_relaxed);
      std::string reply =
          too_large ? ErrorResponse(413,
                                    fmt::format("request body over {} bytes",
                                                options.max_request_body_bytes),
                                    request_id, true)
                    : ErrorResponse(400, fmt::format("malformed chunked body: {}", error),
                                    request_id, true);
      co_await asio::async_write(client, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      client.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    FinishUpstreamHead(body.size(), body_kind != BodyKind::kNone, &head_out);

    if (refuse_status != 0) {
      if (refuse_status == 400) impl->bad_requests.fetch_add(1, std::memory_order_relaxed);
      std::string reply = ErrorResponse(refuse_status, refuse_message, request_id, !keep_alive);
      watch.Arm(options.idle_timeout);
      co_await asio::async_write(client, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) co_return;
      continue;
    }

    // Mirror a share of the requests to the shadow release.
    std::shared_ptr<MirrorPair> pair;
    if (t->mirror >= 0 && t->mirror != backend && body.size() <= options.mirror_max_body_bytes &&
        t == table && mirror_samplers[backend].Next()) {
      pair = std::make_shared<MirrorPair>();
      pair->shadow = t->counters[t->mirror];
      pair->shard = index;
      asio::co_spawn(io, Mirror(t->mirror, t, head_out, body, method, pair), asio::detached);
    }

    ReleaseCounters& counters = *t->counters[backend];
    counters.AddInFlight(index, 1);
    watch.Disarm();  // Forward arms it for each write; the model may take its time.
    Outcome outcome = co_await Forward(backend, head_out, body, method, http10, keep_alive,
                                       request_id, client, watch, pair, scratch);
    counters.AddInFlight(index, -1);
    if (pair) pair->Finish();
    SteadyTime end = Now();
    coarse_now = end;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(end - start).count();
    counters.RecordResponse(
        index, outcome.status, static_cast<uint64_t>(micros),
        std::chrono::duration_cast<std::chrono::seconds>(end.time_since_epoch()).count());
    if (!outcome.keep_client) {
      client.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

Router::Router(std::string environment, RouterOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->environment = std::move(environment);
  impl_->options = options;
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  impl_->thread_count = std::max(threads, 1);
  impl_->table = std::make_shared<CompiledTable>();
}

Router::~Router() { Stop(); }

const std::string& Router::environment() const { return impl_->environment; }

Status Router::SetTable(RoutingTable table) {
  if (Status valid = ValidateTable(table); !valid) return valid;
  auto compiled = std::make_shared<CompiledTable>();
  for (const Backend& backend : table.backends) {
    std::vector<tcp::endpoint> endpoints;
    for (const Upstream& upstream : backend.upstreams) {
      Result<tcp::endpoint> endpoint = ResolveEndpoint(upstream.host, upstream.port);
      if (!endpoint) {
        return Fail("release '{}', replica '{}': {}", backend.release, upstream.id,
                    endpoint.error().message);
      }
      endpoints.push_back(*endpoint);
    }
    std::vector<std::string> keys;
    for (const tcp::endpoint& endpoint : endpoints) keys.push_back(EndpointKey(endpoint));
    compiled->keys.push_back(std::move(keys));
    compiled->endpoints.push_back(std::move(endpoints));
    compiled->weights.push_back(backend.weight);
    compiled->default_hosts.push_back(
        backend.upstreams.empty()
            ? std::string()
            : fmt::format("{}:{}", backend.upstreams[0].host, backend.upstreams[0].port));
  }
  for (size_t i = 0; i < table.backends.size(); ++i) {
    if (table.backends[i].release == table.mirror_release && table.mirror_percent > 0) {
      compiled->mirror = static_cast<int>(i);
    }
  }
  compiled->table = std::move(table);
  {
    std::lock_guard lock(impl_->mutex);
    for (const Backend& backend : compiled->table.backends) {
      std::shared_ptr<ReleaseCounters>& counters = impl_->counters[backend.release];
      if (!counters) counters = std::make_shared<ReleaseCounters>(impl_->thread_count);
      compiled->counters.push_back(counters);
    }
    for (const auto& keys : compiled->keys) {
      auto& in_flight = compiled->in_flight.emplace_back();
      for (const std::string& key : keys) {
        auto& counter = impl_->replica_in_flight[key];
        if (!counter) counter = std::make_shared<std::atomic<int64_t>>(0);
        in_flight.push_back(counter);
      }
    }
    impl_->table = std::move(compiled);
    impl_->table_version.fetch_add(1, std::memory_order_acq_rel);
  }
  return Ok();
}

RoutingTable Router::table() const { return impl_->CurrentTable()->table; }

int64_t Router::InFlight(const std::string& host, int port) const {
  Result<tcp::endpoint> endpoint = ResolveEndpoint(host, port);
  if (!endpoint) return 0;
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->replica_in_flight.find(EndpointKey(*endpoint));
  return it == impl_->replica_in_flight.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

Snapshot Router::Stats() const {
  Snapshot snapshot;
  snapshot.environment = impl_->environment;
  SteadyTime now = Now();
  snapshot.uptime_seconds = std::chrono::duration<double>(now - impl_->created).count();
  int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::shared_ptr<const CompiledTable> table;
  std::map<std::string, std::shared_ptr<ReleaseCounters>> counters;
  {
    std::lock_guard lock(impl_->mutex);
    table = impl_->table;
    counters = impl_->counters;
  }
  // Releases in table order first, then the ones removed from it.
  auto add = [&](const std::string& name, const Backend* backend) {
    ReleaseSnapshot release;
    release.release = name;
    if (backend) {
      release.version = backend->version;
      release.weight = backend->weight;
      release.ready_replicas = static_cast<int>(backend->upstreams.size());
      release.in_table = true;
    }
    counters[name]->AddTo(&release, now_seconds);
    snapshot.releases.push_back(std::move(release));
  };
  for (const Backend& backend : table->table.backends) add(backend.release, &backend);
  for (const auto& [name, unused] : counters) {
    if (!snapshot.Find(name)) add(name, nullptr);
  }
  snapshot.bad_requests = impl_->bad_requests.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->mutex);
  for (const auto& worker : impl_->workers) {
    snapshot.connections_accepted += worker->accepted.load(std::memory_order_relaxed);
    snapshot.connections_open += worker->open.load(std::memory_order_relaxed);
  }
  return snapshot;
}

Result<int> Router::Start(const std::string& address) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started) return Fail("the router is already started");
    impl_->started = true;
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Fail("invalid listen address '{}': expected HOST:PORT", address);
  }
  std::string host = address.substr(0, colon);
  int port = 0;
  std::string port_text = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return Fail("invalid listen address '{}': bad port '{}'", address, port_text);
  }
  tcp::endpoint endpoint;
  if (host.empty()) {
    endpoint = tcp::endpoint(tcp::v4(), static_cast<uint16_t>(port));
  } else {
    std::string h = host;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h == "localhost") h = "127.0.0.1";
    error_code error;
    asio::ip::address ip = asio::ip::make_address(h, error);
    if (error) {
      return Fail("invalid listen address '{}': '{}' is not an IP address", address, host);
    }
    endpoint = tcp::endpoint(ip, static_cast<uint16_t>(port));
  }
  // One listening socket per thread on the same port (SO_REUSEPORT): the
  // kernel spreads connections and no thread hands sockets to another.
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < impl_->thread_count; ++i) {
    auto worker = std::make_unique<Worker>(impl_.get(), i);
    error_code error;
    worker->acceptor.open(endpoint.protocol(), error);
    if (!error) worker->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) {
      int one = 1;
      if (setsockopt(worker->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one,
                     sizeof(one)) != 0) {
        error = error_code(errno, boost::system::system_category());
      }
    }
    if (!error) worker->acceptor.bind(endpoint, error);
    if (!error) worker->acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) return Fail("cannot listen on {}: {}", address, error.message());
    if (i == 0) endpoint.port(worker->acceptor.local_endpoint().port());
    workers.push_back(std::move(worker));
  }
  std::lock_guard lock(impl_->mutex);
  impl_->workers = std::move(workers);
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    w->RefreshLocked();
    w->StartSweep();
    asio::co_spawn(w->io, w->Accept(), asio::detached);
    impl_->threads.emplace_back([w] { w->io.run(); });
  }
  return static_cast<int>(endpoint.port());
}

void Router::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Only Start and Stop touch the workers' list itself, and both ran under
  // the mutex or before this point; Stats reads it under the mutex.
  std::vector<Worker*> workers;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& worker : impl_->workers) workers.push_back(worker.get());
  }
  for (Worker* w : workers) asio::post(w->io, [w] { w->Shutdown(); });
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  std::vector<std::unique_ptr<Worker>> finished;
  {
    std::lock_guard lock(impl_->mutex);
    finished.swap(impl_->workers);
  }
}

}  // namespace tauon::router
