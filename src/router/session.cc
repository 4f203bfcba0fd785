// A client connection (worker.h): reads each request and its body, picks the
// release (the pin header, the sticky header, else the weighted split),
// rewrites the head for the upstream, starts a mirror, hands the request to
// Forward and counts it; malformed requests it answers itself.
#include "router/worker.h"

#include "router/http1.h"
#include "router/rewrite.h"
#include "util/strings.h"

namespace tauon::router::detail {
namespace {

constexpr std::string_view kPinHeader = "x-tauon-release";

}  // namespace

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

}  // namespace tauon::router::detail
