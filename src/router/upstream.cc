// A request to a replica (worker.h): pooled connections, retries on another
// replica, streaming the answer back, and mirroring a share of requests to
// the shadow release.
#include "router/worker.h"

#include <array>

#include "router/http1.h"
#include "router/rewrite.h"
#include "util/strings.h"

namespace tauon::router::detail {
namespace {

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

}  // namespace

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

}  // namespace tauon::router::detail
