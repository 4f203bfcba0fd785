// The server and the client against each other over loopback, plus raw
// sockets for what a well-behaved client never sends.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "http/client.h"

namespace tauon::http {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Polls `done` every few milliseconds for at most `limit`.
template <typename Predicate>
bool WaitFor(Predicate done, Duration limit = Duration(5000)) {
  auto deadline = SteadyClock::now() + limit;
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string LocalUrl(int port, std::string_view target) {
  return fmt::format("http://127.0.0.1:{}{}", port, target);
}

Result<ClientResponse> Get(int port, std::string_view target, Duration timeout = Duration(5000)) {
  ClientRequest request;
  request.url = LocalUrl(port, target);
  request.timeout = timeout;
  return Fetch(request);
}

// A blocking IPv4 socket for hand-written requests.
class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads into the buffer until `ready(buffer)`, EOF or `limit`; returns
  // whether `ready` held.
  template <typename Ready>
  bool ReadUntil(Ready ready, Duration limit = Duration(5000)) {
    auto deadline = SteadyClock::now() + limit;
    while (!ready(buffer_)) {
      if (closed_) return false;
      auto left = std::chrono::duration_cast<Duration>(deadline - SteadyClock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
      } else {
        buffer_.append(chunk, static_cast<size_t>(n));
      }
    }
    return true;
  }

  // One response with a Content-Length body, taken from the buffer; "" if
  // none arrived.
  std::string ReadResponse() {
    size_t total = 0;
    bool complete = ReadUntil([&](const std::string& b) {
      size_t end = b.find("\r\n\r\n");
      if (end == std::string::npos) return false;
      size_t length = 0;
      size_t field = b.find("Content-Length: ");
      if (field != std::string::npos && field < end) {
        length = std::stoul(b.substr(field + 16, b.find("\r\n", field) - field - 16));
      }
      total = end + 4 + length;
      return b.size() >= total;
    });
    if (!complete) return "";
    std::string response = buffer_.substr(0, total);
    buffer_.erase(0, total);
    return response;
  }

  void ShutdownSend() { ::shutdown(fd_, SHUT_WR); }

  // True if the server closed the connection within `limit`.
  bool WaitForClose(Duration limit = Duration(5000)) {
    ReadUntil([](const std::string&) { return false; }, limit);
    return closed_;
  }

  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// A socket bound to a loopback port, listening or not.
class BoundSocket {
 public:
  explicit BoundSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (listen) ::listen(fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BoundSocket() { ::close(fd_); }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

Response Echo(const Request& request) {
  nlohmann::json query = request.query;
  nlohmann::json params = request.params;
  return Response::Json(200, {{"method", request.method},
                              {"path", request.path},
                              {"target", request.target},
                              {"query", query},
                              {"params", params},
                              {"body", request.body},
                              {"remote", request.remote}});
}

nlohmann::json BodyOf(const Result<ClientResponse>& response) {
  if (!response) return {{"fetch_error", response.error().message}};
  return nlohmann::json::parse(response->body, nullptr, false);
}

class ServerTest : public ::testing::Test {
 protected:
  // Starts `server_` on a free loopback port with `options`.
  void Start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(options);
    server_->Route("GET", "/runs/{id}", Echo);
    server_->Route("GET", "/runs/{id}/jobs/{job}", Echo);
    server_->Route("GET", "/files/{path...}", Echo);
    server_->Route("GET", "/runs", Echo);
    server_->Route("POST", "/runs", Echo);
    server_->Route("POST", "/echo", Echo);
    server_->Route("GET", "/first/{x}",
                   [](const Request&) { return Response::Text(200, "first"); });
    server_->Route("GET", "/first/literal",
                   [](const Request&) { return Response::Text(200, "second"); });
    server_->Route("GET", "/hello", [](const Request&) { return Response::Text(200, "hello"); });
    server_->Route("GET", "/throws", [](const Request&) -> Response {
      throw std::runtime_error("database is locked at /var/secret");
    });
    server_->Route("GET", "/throws-int", [](const Request&) -> Response { throw 42; });
    server_->Route("GET", "/bad-header", [](const Request&) {
      Response response = Response::Text(200, "x");
      response.headers.Set("Location", "/a\r\nSet-Cookie: evil=1");
      return response;
    });
    for (auto& [pattern, handler] : extra_routes_) server_->Route("GET", pattern, handler);
    auto port = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }

  std::vector<std::pair<std::string, Handler>> extra_routes_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(ServerTest, RoutesWithParamsQueryAndDecodedPath) {
  Start();
  nlohmann::json body = BodyOf(Get(port_, "/runs/7"));
  EXPECT_EQ(body["params"], nlohmann::json({{"id", "7"}}));
  EXPECT_EQ(body["path"], "/runs/7");
  EXPECT_EQ(body["method"], "GET");
  EXPECT_TRUE(body["remote"].get<std::string>().starts_with("127.0.0.1:")) << body["remote"];

  body = BodyOf(Get(port_, "/runs/a%20b/jobs/lint?a=1&b=x%20y&c=1+2&a=2&flag"));
  EXPECT_EQ(body["params"], nlohmann::json({{"id", "a b"}, {"job", "lint"}}));
  EXPECT_EQ(body["path"], "/runs/a b/jobs/lint");
  EXPECT_EQ(body["target"], "/runs/a%20b/jobs/lint?a=1&b=x%20y&c=1+2&a=2&flag");
  EXPECT_EQ(body["query"], nlohmann::json({{"a", "2"}, {"b", "x y"}, {"c", "1 2"}, {"flag", ""}}));

  // An encoded slash stays inside its segment.
  body = BodyOf(Get(port_, "/runs/a%2Fb"));
  EXPECT_EQ(body["params"], nlohmann::json({{"id", "a/b"}}));

  body = BodyOf(Get(port_, "/files/models/v1/model.onnx"));
  EXPECT_EQ(body["params"], nlohmann::json({{"path", "models/v1/model.onnx"}}));
  body = BodyOf(Get(port_, "/files/"));
  EXPECT_EQ(body["params"], nlohmann::json({{"path", ""}}));

  EXPECT_EQ(Get(port_, "/first/literal")->body, "first");  // First match wins.
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  Start();
  auto response = Get(port_, "/nothing/here");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":"not found: /nothing/here"})");
  EXPECT_EQ(response->headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(response->headers.Get("Server"), "tauon");

  EXPECT_EQ(Get(port_, "/runs/")->status, 404);  // {id} needs a non-empty segment.
  EXPECT_EQ(Get(port_, "/runs/7/extra")->status, 404);

  ClientRequest request;
  request.method = "DELETE";
  request.url = LocalUrl(port_, "/runs");
  response = Fetch(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->headers.Get("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(response->body, R"({"error":"method DELETE not allowed for /runs"})");
}

TEST_F(ServerTest, FallbackServesUnmatchedPaths) {
  Server server;
  server.Route("POST", "/api/hook", Echo);
  server.Fallback([](const Request& request) { return Response::Text(200, "ui:" + request.path); });
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_EQ(Get(*port, "/dashboard/runs%207")->body, "ui:/dashboard/runs 7");
  EXPECT_EQ(Get(*port, "/api/hook")->status, 405);  // A route matches the path.
}

TEST_F(ServerTest, HeadServesGetRoutesWithoutBody) {
  Start();
  ClientRequest request;
  request.method = "HEAD";
  request.url = LocalUrl(port_, "/hello");
  auto response = Fetch(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.Get("Content-Length"), "5");
  EXPECT_EQ(response->body, "");

  // And the connection stays usable: no stray body bytes.
  RawSocket socket(port_);
  socket.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(socket.ReadUntil([](const std::string& b) { return b.ends_with("\r\n\r\nhello"); }))
      << socket.buffer();
  EXPECT_TRUE(socket.buffer().starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(ServerTest, RequestBodies) {
  Start();
  ClientRequest request;
  request.method = "POST";
  request.url = LocalUrl(port_, "/echo");
  request.body = std::string(100'000, 'b');
  EXPECT_EQ(BodyOf(Fetch(request))["body"], request.body);

  RawSocket chunked(port_);
  chunked.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  std::string response = chunked.ReadResponse();
  EXPECT_NE(response.find(R"("body":"hello world")"), std::string::npos) << response;
}

TEST_F(ServerTest, ExpectContinue) {
  Start();
  RawSocket socket(port_);
  socket.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(socket.ReadUntil([](const std::string& b) { return b.ends_with("\r\n\r\n"); }));
  EXPECT_EQ(socket.buffer(), "HTTP/1.1 100 Continue\r\n\r\n");
  socket.buffer().clear();
  socket.Send("hello");
  EXPECT_NE(socket.ReadResponse().find(R"("body":"hello")"), std::string::npos);
}

TEST_F(ServerTest, BodyAndHeaderLimits) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  Start(options);

  ClientRequest request;
  request.method = "POST";
  request.url = LocalUrl(port_, "/echo");
  request.body = std::string(1024, 'x');
  EXPECT_EQ(Fetch(request)->status, 200);
  request.body = std::string(4096, 'x');
  auto response = Fetch(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body larger than 1024 bytes"})");

  // A chunked body is cut when it passes the limit.
  RawSocket chunked(port_);
  chunked.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  chunked.Send(fmt::format("{:x}\r\n{}\r\n", 2000, std::string(2000, 'y')));
  EXPECT_TRUE(chunked.ReadResponse().starts_with("HTTP/1.1 413 Payload Too Large\r\n"));
  EXPECT_TRUE(chunked.WaitForClose());

  ClientRequest big_header;
  big_header.url = LocalUrl(port_, "/hello");
  big_header.headers.Add("X-Big", std::string(4096, 'h'));
  response = Fetch(big_header);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, R"({"error":"request headers larger than 2048 bytes"})");

  EXPECT_EQ(Get(port_, "/hello")->body, "hello");  // Still serving.
}

TEST_F(ServerTest, MalformedRequestsGet400) {
  Start();
  const std::vector<std::string> requests = {
      "NOT HTTP AT ALL\r\n\r\n",
      "GET / HTTP/1.1\r\nHost x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET nopath HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\r\n\r\n"),
      std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26),
  };
  for (const std::string& bytes : requests) {
    RawSocket socket(port_);
    ASSERT_TRUE(socket.connected());
    socket.Send(bytes);
    std::string response = socket.ReadResponse();
    EXPECT_TRUE(response.starts_with("HTTP/1.1 400 Bad Request\r\n"))
        << bytes << " -> " << response;
    EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
    EXPECT_TRUE(socket.WaitForClose()) << bytes;
  }
  EXPECT_EQ(Get(port_, "/hello")->body, "hello");
}

TEST_F(ServerTest, SurvivesMangledRequests) {
  ServerOptions options;
  options.header_timeout = Duration(100);
  options.idle_timeout = Duration(100);
  options.max_body_bytes = 64;
  Start(options);
  const std::string valid =
      "POST /echo?a=%41&b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /runs/1 HTTP/1.1\r\n\r\n";
  static constexpr char kSpecials[] = "\r\n\0%:{}? 9";
  const std::string_view specials(kSpecials, sizeof kSpecials - 1);
  std::mt19937 random(7);
  for (int i = 0; i < 300; ++i) {
    std::string bytes = valid;
    for (int edit = 0, edits = 1 + static_cast<int>(random() % 4); edit < edits; ++edit) {
      size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.erase(at, 1 + random() % 8);
          break;
        default:
          bytes.insert(at, 1, specials[random() % specials.size()]);
          break;
      }
      if (bytes.empty()) bytes = "x";
    }
    RawSocket socket(port_);
    socket.Send(bytes);
    socket.ShutdownSend();
    EXPECT_TRUE(socket.WaitForClose()) << i;
  }
  EXPECT_EQ(Get(port_, "/hello")->body, "hello");
}

TEST_F(ServerTest, SlowHeadersAreCutByHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = Duration(200);
  Start(options);
  RawSocket socket(port_);
  auto start = SteadyClock::now();
  socket.Send("GET /hello HTTP/1.1\r\n");
  // A byte every 20 ms keeps the connection busy but the headers never end.
  bool closed = false;
  for (int i = 0; i < 250 && !closed; ++i) {
    closed = !socket.Send("X") || socket.WaitForClose(Duration(20));
  }
  auto elapsed = SteadyClock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(ServerTest, IdleKeepAliveConnectionsAreClosed) {
  ServerOptions options;
  options.idle_timeout = Duration(200);
  Start(options);
  RawSocket socket(port_);
  socket.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(socket.ReadResponse().ends_with("hello"));
  auto start = SteadyClock::now();
  EXPECT_TRUE(socket.WaitForClose());
  EXPECT_GE(SteadyClock::now() - start, 150ms);
}

TEST_F(ServerTest, KeepAliveAndPipelining) {
  Start();
  RawSocket socket(port_);
  socket.Send("GET /runs/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string first = socket.ReadResponse();
  socket.Send("GET /runs/2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string second = socket.ReadResponse();
  auto remote = [](const std::string& response) {
    return nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4))["remote"];
  };
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(first.find("Connection: close"), std::string::npos);
  EXPECT_EQ(remote(first), remote(second));  // One connection.

  socket.Send("GET /runs/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /runs/4 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(socket.ReadResponse().find(R"("id":"3")"), std::string::npos);
  EXPECT_NE(socket.ReadResponse().find(R"("id":"4")"), std::string::npos);

  socket.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(socket.ReadResponse().find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(socket.WaitForClose());

  RawSocket old(port_);
  old.Send("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(old.ReadResponse().starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(old.WaitForClose());
}

TEST_F(ServerTest, HandlerErrorsBecome500) {
  Start();
  auto response = Get(port_, "/throws");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, R"({"error":"internal server error"})");
  EXPECT_EQ(Get(port_, "/throws-int")->status, 500);

  response = Get(port_, "/bad-header");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->headers.Get("Set-Cookie"), std::nullopt);
  EXPECT_EQ(Get(port_, "/hello")->body, "hello");
}

// A stream whose steps are driven by the test, not by the clock.
struct StreamScript {
  std::atomic<int> polls{0};
  std::atomic<bool> client_saw_first{false};
  std::atomic<bool> gave_up{false};
  std::atomic<bool> destroyed{false};
  bool sent_second = false;  // Server thread only.
  SteadyClock::time_point start = SteadyClock::now();
};

TEST_F(ServerTest, StreamSendsChunksAsTheyCome) {
  auto script = std::make_shared<StreamScript>();
  extra_routes_.emplace_back("/events", [script](const Request&) {
    Response response;
    response.headers.Set("Content-Type", "text/event-stream");
    response.poll_interval = Duration(5);
    response.stream = [script]() -> std::optional<std::string> {
      if (script->polls++ == 0) return "data: one\n\n";
      if (script->client_saw_first) {
        if (script->sent_second) return std::nullopt;
        script->sent_second = true;
        return "data: two\n\n";
      }
      if (SteadyClock::now() - script->start > 5s) {
        script->gave_up = true;  // The first chunk never reached the client.
        return std::nullopt;
      }
      return "";
    };
    return response;
  });
  Start();

  ClientRequest request;
  request.url = LocalUrl(port_, "/events");
  std::string received;
  auto response = FetchStream(request, [&](std::string_view data) {
    received += data;
    if (received.find("one") != std::string::npos) script->client_saw_first = true;
    return true;
  });
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.Get("Content-Type"), "text/event-stream");
  EXPECT_EQ(response->headers.Get("Cache-Control"), "no-cache");
  EXPECT_EQ(response->headers.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(received, "data: one\n\ndata: two\n\n");
  EXPECT_FALSE(script->gave_up);

  // Fetch reads a chunked body whole.
  script->polls = 0;
  script->sent_second = false;
  script->client_saw_first = true;
  auto whole = Get(port_, "/events");
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(whole->body, "data: one\n\ndata: two\n\n");
}

TEST_F(ServerTest, StreamStopsWhenTheClientGoesAway) {
  auto script = std::make_shared<StreamScript>();
  // Tells when the server has let go of the stream.
  struct Guard {
    explicit Guard(std::shared_ptr<StreamScript> s) : script(std::move(s)) {}
    Guard(const Guard&) = delete;
    ~Guard() { script->destroyed = true; }
    std::shared_ptr<StreamScript> script;
  };
  extra_routes_.emplace_back("/events", [script](const Request&) {
    Response response;
    response.poll_interval = Duration(5);
    auto guard = std::make_shared<Guard>(script);
    // After the first chunk only the watch on the socket can notice that
    // the client left: nothing more is written.
    response.stream = [guard]() -> std::optional<std::string> {
      return guard->script->polls++ == 0 ? "data: one\n\n" : "";
    };
    return response;
  });
  Start();

  ClientRequest request;
  request.url = LocalUrl(port_, "/events");
  auto response = FetchStream(request, [](std::string_view) { return false; });
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_TRUE(WaitFor([&] { return script->destroyed.load(); }));
  int polls = script->polls;
  std::this_thread::sleep_for(30ms);  // Six poll intervals.
  EXPECT_EQ(script->polls, polls);
}

TEST_F(ServerTest, StreamThatThrowsCutsTheConnection) {
  extra_routes_.emplace_back("/events", [](const Request&) {
    Response response;
    response.poll_interval = Duration(1);
    response.stream = [calls = 0]() mutable -> std::optional<std::string> {
      if (++calls == 1) return "data: one\n\n";
      throw std::runtime_error("lost the log file");
    };
    return response;
  });
  Start();
  auto response = Get(port_, "/events");
  ASSERT_FALSE(response);
  EXPECT_EQ(
      response.error().message,
      fmt::format("connection to 127.0.0.1:{} closed before the response was complete", port_));

  ClientRequest head;  // HEAD gets the headers only, no stream.
  head.method = "HEAD";
  head.url = LocalUrl(port_, "/events");
  response = Fetch(head);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.Get("Cache-Control"), "no-cache");
}

TEST_F(ServerTest, StopWhileStreaming) {
  auto script = std::make_shared<StreamScript>();
  extra_routes_.emplace_back("/events", [script](const Request&) {
    Response response;
    response.poll_interval = Duration(5);
    response.stream = [script]() -> std::optional<std::string> {
      ++script->polls;
      return "";
    };
    return response;
  });
  Start();

  std::optional<Result<ClientResponse>> result;
  std::thread client([&] {
    ClientRequest request;
    request.url = LocalUrl(port_, "/events");
    result = FetchStream(request, [](std::string_view) { return true; });
  });
  ASSERT_TRUE(WaitFor([&] { return script->polls > 0; }));
  auto start = SteadyClock::now();
  server_->Stop();
  EXPECT_LT(SteadyClock::now() - start, 1s);
  client.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(
      result->error().message,
      fmt::format("connection to 127.0.0.1:{} closed before the response was complete", port_));
  server_->Stop();  // Idempotent.
  EXPECT_EQ(Get(port_, "/hello").error().message,
            fmt::format("connection refused to 127.0.0.1:{}", port_));
}

TEST(ServerStopTest, StopFromAHandler) {
  Server server;
  server.Route("POST", "/shutdown", [&server](const Request&) {
    server.Stop();  // Must not deadlock joining its own thread.
    return Response::Text(200, "bye");
  });
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ClientRequest request;
  request.method = "POST";
  request.url = LocalUrl(*port, "/shutdown");
  (void)Fetch(request);  // The response may or may not make it out.
  server.Stop();         // Joins.
  EXPECT_EQ(Get(*port, "/shutdown").error().message,
            fmt::format("connection refused to 127.0.0.1:{}", *port));
}

TEST_F(ServerTest, ManyConcurrentClients) {
  Start();
  // Clients that are slow to send their headers do not hold up the others.
  std::vector<std::unique_ptr<RawSocket>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<RawSocket>(port_));
    slow.back()->Send("GET /hello HTTP/1.1\r\n");
  }
  constexpr int kClients = 50;
  constexpr int kRequests = 4;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      for (int r = 0; r < kRequests; ++r) {
        ClientRequest request;
        request.method = "POST";
        request.url = LocalUrl(port_, "/echo");
        request.body = fmt::format("client {} request {}", c, r);
        auto response = Fetch(request);
        if (response && response->status == 200 && BodyOf(response)["body"] == request.body) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, kClients * kRequests);
}

TEST(ServerStartTest, AddressesAndErrors) {
  Server server;
  auto message = [&](const std::string& address) {
    auto port = server.Start(address);
    return port ? std::string("ok") : port.error().message;
  };
  EXPECT_EQ(message("nonsense"), "invalid listen address 'nonsense': expected host:port");
  EXPECT_EQ(message("127.0.0.1:99999"),
            "invalid listen address '127.0.0.1:99999': bad port '99999'");
  EXPECT_EQ(message("example.com:80"),
            "invalid listen address 'example.com:80': 'example.com' is not an IP address");
  EXPECT_EQ(message("[::1]"), "invalid listen address '[::1]': expected [IPv6]:port");

  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_GT(*port, 0);
  EXPECT_EQ(message("127.0.0.1:0"), "server already listening");
  Server other;
  auto taken = other.Start(fmt::format("127.0.0.1:{}", *port));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message,
            fmt::format("cannot listen on 127.0.0.1:{}: Address already in use", *port));
  server.Stop();
  server.Stop();
}

TEST(ServerStartTest, Ipv6Loopback) {
  Server server;
  server.Route("GET", "/who", Echo);
  auto port = server.Start("[::1]:0");
  if (!port) GTEST_SKIP() << "no IPv6 loopback: " << port.error().message;
  ClientRequest request;
  request.url = fmt::format("http://[::1]:{}/who", *port);
  nlohmann::json body = BodyOf(Fetch(request));
  EXPECT_TRUE(body["remote"].get<std::string>().starts_with("[::1]:")) << body;
}

TEST(ClientTest, ConnectionRefused) {
  BoundSocket closed_port(/*listen=*/false);
  ClientRequest request;
  request.url = fmt::format("http://user:secret@127.0.0.1:{}/x?token=abc", closed_port.port());
  auto response = Fetch(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message,
            fmt::format("connection refused to 127.0.0.1:{}", closed_port.port()));
}

TEST(ClientTest, TimesOutWithoutShowingCredentialsOrQuery) {
  BoundSocket silent(/*listen=*/true);  // Accepts (in the kernel), never answers.
  ClientRequest request;
  request.url = fmt::format("http://user:secret@127.0.0.1:{}/slow?token=abc", silent.port());
  request.headers.Add("Authorization", "Bearer hidden");
  request.body = "body text";
  request.timeout = Duration(200);
  auto start = SteadyClock::now();
  auto response = Fetch(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(
      response.error().message,
      fmt::format("timed out after 200ms waiting for http://127.0.0.1:{}/slow", silent.port()));
  EXPECT_LT(SteadyClock::now() - start, 2s);

  request.url = fmt::format("http://127.0.0.1:{}/", silent.port());
  EXPECT_EQ(FetchStream(request, [](std::string_view) { return true; }).error().message,
            fmt::format("timed out after 200ms waiting for http://127.0.0.1:{}/", silent.port()));
}

TEST(ClientTest, StreamTimesOutWhenNothingArrives) {
  Server server;
  server.Route("GET", "/quiet", [](const Request&) {
    Response response;
    response.poll_interval = Duration(5);
    response.stream = []() -> std::optional<std::string> { return ""; };
    return response;
  });
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ClientRequest request;
  request.url = LocalUrl(*port, "/quiet");
  request.timeout = Duration(150);
  auto response = FetchStream(request, [](std::string_view) { return true; });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message,
            fmt::format("timed out after 150ms waiting for http://127.0.0.1:{}/quiet", *port));
}

TEST(ClientTest, CredentialsInTheUrlBecomeBasicAuth) {
  Server server;
  server.Route("GET", "/auth", [](const Request& request) {
    return Response::Text(200, request.headers.Get("Authorization").value_or("none") + " " +
                                   request.headers.Get("Host").value_or("no host"));
  });
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ClientRequest request;
  request.url = fmt::format("http://user:p%40ss@127.0.0.1:{}/auth", *port);
  EXPECT_EQ(Fetch(request)->body, fmt::format("Basic dXNlcjpwQHNz 127.0.0.1:{}", *port));
}

TEST(ClientTest, RejectsBadUrlsAndHeaders) {
  ClientRequest request;
  request.url = "ftp://example.com/";
  EXPECT_EQ(Fetch(request).error().message,
            "invalid URL 'ftp://example.com/': unsupported scheme 'ftp' (expected http or https)");
  BoundSocket closed_port(/*listen=*/false);
  request.url = fmt::format("http://127.0.0.1:{}/", closed_port.port());
  request.headers.Add("X-Token", "a\r\nInjected: yes");
  // Checked before connecting; the value is never quoted.
  EXPECT_EQ(Fetch(request).error().message, "invalid request header 'X-Token'");
}

// A key and a self-signed certificate for `subject_alt_names`
// ("IP:127.0.0.1,DNS:localhost"), also its common name: certificates in
// one trust store need distinct subjects.
struct TestCertificate {
  explicit TestCertificate(const char* subject_alt_names) {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(subject_alt_names), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX context;
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* extension =
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, subject_alt_names);
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestCertificate() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string Pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    return pem;
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

// Serves one HTTPS request with `certificate` on a loopback port, from its
// own thread; records the SNI name the client sent.
class TlsServer {
 public:
  explicit TlsServer(const TestCertificate& certificate) : listener_(/*listen=*/true) {
    context_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(context_, certificate.cert);
    SSL_CTX_use_PrivateKey(context_, certificate.key);
    thread_ = std::thread([this] { ServeOne(); });
  }
  ~TlsServer() {
    if (thread_.joinable()) thread_.join();
    SSL_CTX_free(context_);
  }
  int port() const { return listener_.port(); }
  // Waits until the request was served; returns the SNI name.
  std::string Finish() {
    if (thread_.joinable()) thread_.join();
    return server_name_;
  }

 private:
  void ServeOne() {
    pollfd p{listener_.fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    int fd = ::accept(listener_.fd(), nullptr, nullptr);
    if (fd < 0) return;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    SSL* ssl = SSL_new(context_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {  // Fails when the client rejects the certificate.
      const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      server_name_ = name ? name : "(none)";
      std::string request;
      char chunk[1024];
      while (request.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl, chunk, sizeof chunk);
        if (n <= 0) break;
        request.append(chunk, static_cast<size_t>(n));
      }
      std::string_view response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure";
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(fd);
  }

  BoundSocket listener_;
  SSL_CTX* context_ = nullptr;
  std::thread thread_;
  std::string server_name_;
};

// Trusts only `pem` (through OpenSSL's SSL_CERT_FILE) while in scope.
class TrustedCertificates {
 public:
  explicit TrustedCertificates(const std::string& pem) {
    char dir_template[] = "/tmp/tauon-tls-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    file_ = dir_ + "/ca.pem";
    FILE* f = std::fopen(file_.c_str(), "w");
    std::fwrite(pem.data(), 1, pem.size(), f);
    std::fclose(f);
    ::setenv("SSL_CERT_FILE", file_.c_str(), 1);
    ::setenv("SSL_CERT_DIR", dir_.c_str(), 1);
  }
  ~TrustedCertificates() {
    ::unsetenv("SSL_CERT_FILE");
    ::unsetenv("SSL_CERT_DIR");
    std::remove(file_.c_str());
    ::rmdir(dir_.c_str());
  }

 private:
  std::string dir_;
  std::string file_;
};

TEST(ClientTest, Https) {
  TestCertificate trusted("IP:127.0.0.1,DNS:localhost");
  TestCertificate untrusted("IP:127.0.0.1, DNS:localhost");
  TestCertificate other_host("DNS:other.example");
  TrustedCertificates trust(trusted.Pem() + other_host.Pem());
  ClientRequest request;

  {
    TlsServer server(trusted);
    request.url = fmt::format("https://127.0.0.1:{}/", server.port());
    auto response = Fetch(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->body, "secure");
    EXPECT_EQ(server.Finish(), "(none)");  // No SNI for IP addresses.
  }
  {
    TlsServer server(trusted);
    request.url = fmt::format("https://localhost:{}/", server.port());
    auto response = Fetch(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->body, "secure");
    EXPECT_EQ(server.Finish(), "localhost");
  }
  {
    TlsServer server(untrusted);
    request.url = fmt::format("https://127.0.0.1:{}/", server.port());
    auto response = Fetch(request);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().message,
              fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed "
                          "(self-signed certificate)",
                          server.port()));
  }
  {
    TlsServer server(other_host);
    request.url = fmt::format("https://127.0.0.1:{}/", server.port());
    auto response = Fetch(request);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().message,
              fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed "
                          "(IP address mismatch)",
                          server.port()));
  }
}

}  // namespace
}  // namespace tauon::http
