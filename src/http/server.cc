// The server parses requests with Beast and writes responses itself (status
// line, fields, body or chunks): that keeps HEAD, streaming and HTTP/1.0
// clients simple and leaves Beast's serializer out.
#if defined(__SANITIZE_THREAD__)
// Asio's fences are fine; g++ 12 warns that TSan does not model them.
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#include "http/server.h"

#include <utility>  // Before Boost: Asio 1.74 misses it under -std=c++2b.

#include <algorithm>
#include <array>
#include <ctime>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "util/strings.h"

namespace tauon::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// How long a connection that is being closed keeps reading (and dropping)
// what the client still sends, so that it gets our last response instead of
// a reset.
constexpr Duration kLingerTimeout{2000};
constexpr size_t kLingerMaxBytes = 1024 * 1024;
// Pause before accepting again after an accept error such as EMFILE.
constexpr Duration kAcceptRetryDelay{50};

struct RouteEntry {
  std::string method;
  std::vector<std::string> segments;  // Literals, "{name}", or a last "{name...}".
  Handler handler;
};

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  std::vector<std::string_view> segments;
  for (;;) {
    size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRest(std::string_view segment) {
  return segment.size() > 5 && IsParam(segment) && segment.ends_with("...}");
}

bool MatchRoute(const RouteEntry& route, const std::vector<std::string>& segments,
                std::map<std::string, std::string>* params) {
  params->clear();
  const auto& pattern = route.segments;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (IsRest(p)) {
      std::vector<std::string> rest(
          segments.begin() + static_cast<ptrdiff_t>(std::min(i, segments.size())), segments.end());
      (*params)[p.substr(1, p.size() - 5)] = Join(rest, "/");
      return true;
    }
    if (i >= segments.size()) return false;
    if (IsParam(p)) {
      if (segments[i].empty()) return false;
      (*params)[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return pattern.size() == segments.size();
}

bool IsTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidField(const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text, n);
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

// "a=1&b=x%20y" -> {a: 1, b: "x y"}; nullopt for malformed escapes.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> result;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    result[*key] = *value;
  }
  return result;
}

}  // namespace

// Routes, constant after Start().
struct Router {
  std::vector<RouteEntry> routes;
  Handler fallback;

  // `raw_path` is request.path before percent-decoding: segments decode one
  // by one so that "%2F" stays inside its segment.
  Response Dispatch(Request& request, std::string_view raw_path) const {
    std::vector<std::string> segments;
    for (std::string_view raw : SplitPath(raw_path)) {
      segments.push_back(PercentDecode(raw).value_or(std::string(raw)));
    }
    std::map<std::string, std::string> params;
    const RouteEntry* match = nullptr;
    const RouteEntry* get_match = nullptr;  // Serves HEAD when no HEAD route does.
    std::set<std::string> allowed;
    for (const RouteEntry& route : routes) {
      if (!MatchRoute(route, segments, &params)) continue;
      allowed.insert(route.method);
      if (route.method == "GET") allowed.insert("HEAD");
      if (route.method == request.method) {
        match = &route;
        break;
      }
      if (request.method == "HEAD" && route.method == "GET" && !get_match) get_match = &route;
    }
    if (!match) match = get_match;
    if (match) {
      MatchRoute(*match, segments, &request.params);
      return match->handler(request);
    }
    if (!allowed.empty()) {
      Response response = Response::Error(
          405, fmt::format("method {} not allowed for {}", request.method, request.path));
      response.headers.Set("Allow", Join({allowed.begin(), allowed.end()}, ", "));
      return response;
    }
    if (fallback) return fallback(request);
    return Response::Error(404, fmt::format("not found: {}", request.path));
  }
};

class Session;

// The state of one Start()..Stop(): the io_context, its thread and the
// connections. Everything but `thread` is used on the io thread only.
struct Loop {
  Loop(const ServerOptions& options, const Router& router) : options(options), router(router) {}

  const ServerOptions& options;
  const Router& router;
  // Open connections; a Session removes itself when destroyed. Declared
  // before `io` so that it outlives handlers destroyed with `io`.
  std::unordered_set<Session*> sessions;
  bool stopping = false;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::thread thread;

  void Accept();
  void CloseAll();
};

// One connection: reads requests, calls the router, writes responses or
// streams. Kept alive by the handlers of its pending operations.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Loop& loop, tcp::socket socket)
      : loop_(loop), socket_(std::move(socket)), deadline_(loop.io), poll_timer_(loop.io) {
    loop_.sessions.insert(this);
    error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) remote_ = FormatEndpoint(peer);
    socket_.set_option(tcp::no_delay(true), ec);
  }
  ~Session() { loop_.sessions.erase(this); }

  // The first request must arrive within the header timeout.
  void Start() { ReadHeader(); }

  // Closes the socket at once and ends any stream; pending operations
  // complete with errors and do nothing more.
  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
    poll_timer_.cancel();
    stream_ = nullptr;  // Frees what the handler's stream holds.
  }

 private:
  // Closes the connection if it is still in the current phase after `timeout`.
  void ArmDeadline(Duration timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      if (self->deadline_.expiry() > asio::steady_timer::clock_type::now()) return;  // Re-armed.
      self->Close();
    });
  }
  void DisarmDeadline() { deadline_.expires_at(asio::steady_timer::time_point::max()); }

  // Between requests: the connection may stay idle for idle_timeout, then
  // the headers must arrive within header_timeout.
  void WaitForRequest() {
    if (loop_.stopping) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // Pipelined.
    ArmDeadline(loop_.options.idle_timeout);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    const ServerOptions& options = loop_.options;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
    ArmDeadline(options.header_timeout);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (closed_) return;
    if (ec) return OnReadError(ec);
    const auto& message = parser_->get();
    if (!parser_->is_done()) {
      auto expect = message.find(bhttp::field::expect);
      if (expect != message.end() && EqualsIgnoreCase(View(expect->value()), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        ArmDeadline(loop_.options.idle_timeout);
        asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = shared_from_this()](error_code ec, size_t) {
                            if (self->closed_) return;
                            if (ec) return self->Close();
                            self->ReadBody();
                          });
        return;
      }
      return ReadBody();
    }
    HandleRequest();
  }

  // The body must keep coming: at most idle_timeout between reads.
  void ReadBody() {
    ArmDeadline(loop_.options.idle_timeout);
    bhttp::async_read_some(socket_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, size_t) {
                             if (self->closed_) return;
                             if (ec) return self->OnReadError(ec);
                             if (self->parser_->is_done()) return self->HandleRequest();
                             self->ReadBody();
                           });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return SendErrorAndClose(
          431, fmt::format("request headers larger than {} bytes", loop_.options.max_header_bytes));
    }
    if (ec == bhttp::error::body_limit) {
      return SendErrorAndClose(
          413, fmt::format("request body larger than {} bytes", loop_.options.max_body_bytes));
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return Close();  // The client went away or timed out.
    }
    SendErrorAndClose(400, fmt::format("malformed request: {}", ec.message()));
  }

  void SendErrorAndClose(int status, std::string message) {
    keep_alive_ = false;
    version_ = 11;
    WriteResponse(Response::Error(status, std::move(message)), false);
  }

  void HandleRequest() {
    DisarmDeadline();
    auto& message = parser_->get();
    version_ = message.version();
    keep_alive_ = message.keep_alive();

    Request request;
    request.method = std::string(View(message.method_string()));
    request.target = std::string(View(message.target()));
    request.remote = remote_;
    for (const auto& field : message) {
      request.headers.Add(std::string(View(field.name_string())), std::string(View(field.value())));
    }
    request.body = std::move(message.body());
    parser_.reset();
    bool is_head = request.method == "HEAD";

    std::string_view target = request.target;
    if (size_t scheme = target.find("://");
        scheme != std::string_view::npos && !target.empty() && target[0] != '/') {
      // Absolute form ("GET http://host/path"), as proxies send it.
      size_t slash = target.find_first_of("/?", scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    if (target.empty() || (target[0] != '/' && target[0] != '?')) {
      return SendErrorAndClose(400, "malformed request target");
    }
    size_t question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    auto path = PercentDecode(raw_path);
    auto query = ParseQuery(question == std::string_view::npos ? std::string_view()
                                                               : target.substr(question + 1));
    if (!path || !query) return SendErrorAndClose(400, "malformed percent-encoding in the target");
    request.path = path->empty() ? "/" : std::move(*path);
    request.query = std::move(*query);

    Response response;
    try {
      response = loop_.router.Dispatch(request, raw_path);
    } catch (...) {
      // Handlers must not throw; when one does, the client gets a 500 (the
      // exception's text may hold internals, so it is not sent).
      response = Response::Error(500, "internal server error");
    }
    if (response.stream) {
      if (!is_head) return StartStream(std::move(response));
      // The stream's headers; its length is unknown.
      if (!response.headers.Get("Cache-Control")) response.headers.Set("Cache-Control", "no-cache");
      return WriteResponse(std::move(response), true, /*known_length=*/false);
    }
    WriteResponse(std::move(response), is_head);
  }

  // Status line and the handler's fields; nullopt when the handler returned
  // something that cannot be sent.
  std::optional<std::string> FormatHead(const Response& response) {
    if (response.status < 200 || response.status > 599) return std::nullopt;
    auto status = bhttp::int_to_status(static_cast<unsigned>(response.status));
    std::string head =
        fmt::format("HTTP/1.1 {} {}\r\n", response.status,
                    status == bhttp::status::unknown ? std::string_view("Unknown")
                                                     : View(bhttp::obsolete_reason(status)));
    bool has_server = false;
    for (const auto& [name, value] : response.headers.fields()) {
      if (!IsValidField(name, value)) return std::nullopt;
      // Framing is the server's business.
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
          EqualsIgnoreCase(name, "Connection")) {
        continue;
      }
      if (EqualsIgnoreCase(name, "Server")) has_server = true;
      head += fmt::format("{}: {}\r\n", name, value);
    }
    if (!has_server) head += "Server: tauon\r\n";
    head += fmt::format("Date: {}\r\n", HttpDate());
    return head;
  }

  // Writes status, fields and (unless `is_head`) the body; then reads the
  // next request or closes.
  void WriteResponse(Response response, bool is_head, bool known_length = true) {
    std::optional<std::string> head = FormatHead(response);
    if (!head) {
      response = Response::Error(500, "handler returned an invalid response");
      head = FormatHead(response);
    }
    if (loop_.stopping) keep_alive_ = false;
    bool has_body = response.status != 204 && response.status != 304;
    if (has_body && known_length)
      *head += fmt::format("Content-Length: {}\r\n", response.body.size());
    if (!keep_alive_) {
      *head += "Connection: close\r\n";
    } else if (version_ < 11) {
      *head += "Connection: keep-alive\r\n";
    }
    *head += "\r\n";
    out_head_ = std::move(*head);
    out_body_ = has_body && !is_head ? std::move(response.body) : std::string();

    ArmDeadline(loop_.options.idle_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->out_head_.clear();
      self->out_body_.clear();
      if (!self->keep_alive_) return self->Linger();
      self->WaitForRequest();
    });
  }

  // Ends the connection politely: no more sending, and what the client
  // still sends (e.g. a body we refused) is read and dropped for a while.
  void Linger() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    ArmDeadline(kLingerTimeout);
    buffer_.consume(buffer_.size());
    DrainForLinger();
  }

  void DrainForLinger() {
    socket_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              if (self->closed_) return;
                              self->lingered_bytes_ += n;
                              if (ec || self->lingered_bytes_ > kLingerMaxBytes) {
                                return self->Close();
                              }
                              self->DrainForLinger();
                            });
  }

  // Streams end the connection afterwards: a client reading a stream seldom
  // sends another request, and the watch for disconnects consumes input.
  void StartStream(Response response) {
    std::optional<std::string> head = FormatHead(response);
    if (!head) return WriteResponse(std::move(response), false);  // Turns into a 500.
    keep_alive_ = false;
    chunked_ = version_ >= 11;
    stream_ = std::move(response.stream);
    poll_interval_ = std::max(response.poll_interval, Duration(1));
    if (!response.headers.Get("Cache-Control")) *head += "Cache-Control: no-cache\r\n";
    if (chunked_) *head += "Transfer-Encoding: chunked\r\n";
    *head += "Connection: close\r\n\r\n";
    out_head_ = std::move(*head);
    ArmDeadline(loop_.options.idle_timeout);
    asio::async_write(socket_, asio::buffer(out_head_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec) return self->Close();
                        self->DisarmDeadline();
                        self->WatchForDisconnect();
                        self->PollStream();
                      });
  }

  // The client sends nothing more while it reads a stream: EOF or an error
  // here means it went away. Anything it does send is dropped.
  void WatchForDisconnect() {
    buffer_.consume(buffer_.size());
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (self->closed_) return;
                              if (ec) return self->Close();
                              self->WatchForDisconnect();
                            });
  }

  void PollStream() {
    if (closed_ || !stream_) return;
    if (loop_.stopping) return Close();
    std::optional<std::string> data;
    try {
      data = stream_();
    } catch (...) {
      // The status is sent already: cut the connection so that the client
      // sees an incomplete body rather than a clean end.
      return Close();
    }
    if (!data) {
      stream_ = nullptr;
      out_head_ = chunked_ ? "0\r\n\r\n" : "";
      return WriteStream(true);
    }
    if (data->empty()) return SchedulePoll();
    out_head_ = chunked_ ? fmt::format("{:x}\r\n", data->size()) : "";
    out_body_ = std::move(*data);
    if (chunked_) out_body_ += "\r\n";
    WriteStream(false);
  }

  void WriteStream(bool last) {
    ArmDeadline(loop_.options.idle_timeout);  // A client that stops reading is dropped.
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(socket_, buffers, [self = shared_from_this(), last](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->DisarmDeadline();
      self->out_head_.clear();
      self->out_body_.clear();
      if (last) {
        error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        // WatchForDisconnect closes the socket when the client does; the
        // deadline bounds the wait.
        self->ArmDeadline(kLingerTimeout);
        return;
      }
      self->SchedulePoll();
    });
  }

  void SchedulePoll() {
    poll_timer_.expires_after(poll_interval_);
    poll_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      self->PollStream();
    });
  }

  Loop& loop_;
  tcp::socket socket_;
  asio::steady_timer deadline_;  // Closes the connection when a phase takes too long.
  asio::steady_timer poll_timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool closed_ = false;
  size_t lingered_bytes_ = 0;
  // Bytes being written; they must live until the write completes.
  std::string out_head_;
  std::string out_body_;
  // Streaming state.
  std::function<std::optional<std::string>()> stream_;
  Duration poll_interval_{100};
  bool chunked_ = true;
};

void Loop::Accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors or similar: try again shortly.
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](error_code ec) {
        if (!ec && !stopping) Accept();
      });
      return;
    }
    std::make_shared<Session>(*this, std::move(socket))->Start();
    Accept();
  });
}

void Loop::CloseAll() {
  stopping = true;
  error_code ec;
  acceptor.close(ec);
  accept_retry.cancel();
  std::vector<Session*> open(sessions.begin(), sessions.end());
  for (Session* session : open) session->Close();
}

struct Server::Impl {
  ServerOptions options;
  Router router;
  std::mutex mutex;            // Serializes Start() and Stop().
  std::unique_ptr<Loop> loop;  // GUARDED_BY(mutex): set while serving.
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Server::~Server() { Stop(); }

void Server::Route(std::string method, std::string pattern, Handler handler) {
  RouteEntry route;
  route.method = std::move(method);
  for (std::string_view segment : SplitPath(pattern)) route.segments.emplace_back(segment);
  route.handler = std::move(handler);
  impl_->router.routes.push_back(std::move(route));
}

void Server::Fallback(Handler handler) { impl_->router.fallback = std::move(handler); }

Result<int> Server::Start(const std::string& address) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->loop) return Fail("server already listening");

  std::string_view host;
  std::string_view port_text;
  std::string_view text = address;
  if (StartsWith(text, "[")) {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) {
      return Fail("invalid listen address '{}': expected [IPv6]:port", address);
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Fail("invalid listen address '{}': expected host:port", address);
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    port = std::stoi(std::string(port_text));
  }
  if (port < 0 || port > 65535) {
    return Fail("invalid listen address '{}': bad port '{}'", address, port_text);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  asio::ip::address ip = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return Fail("invalid listen address '{}': '{}' is not an IP address", address, host);
  }

  auto loop = std::make_unique<Loop>(impl_->options, impl_->router);
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  loop->acceptor.open(endpoint.protocol(), ec);
  if (!ec) loop->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) loop->acceptor.bind(endpoint, ec);
  if (!ec) loop->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail("cannot listen on {}: {}", address, ec.message());
  int bound_port = loop->acceptor.local_endpoint(ec).port();
  if (ec) return Fail("cannot listen on {}: {}", address, ec.message());

  loop->Accept();
  Loop* raw = loop.get();
  loop->thread = std::thread([raw] {
    // Handlers catch what they can; anything else must not end the server.
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (...) {
      }
    }
  });
  impl_->loop = std::move(loop);
  return bound_port;
}

void Server::Stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->loop) return;
  Loop* loop = impl_->loop.get();
  asio::post(loop->io, [loop] { loop->CloseAll(); });
  // From a handler the thread cannot join itself: it stops serving when the
  // handler returns, and a later Stop() or the destructor joins it.
  if (std::this_thread::get_id() == loop->thread.get_id()) return;
  loop->thread.join();
  impl_->loop.reset();
}

}  // namespace tauon::http
