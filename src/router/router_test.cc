// The router in-process, in front of two tauon::http::Server upstreams, with
// a raw keep-alive client: table swaps, validation, the command's specs.
#include "router/router.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "http/server.h"
#include "router/router_command.h"

namespace tauon::router {
namespace {

// One keep-alive client connection with blocking reads (5 s timeout).
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { close(fd_); }

  // Sends a GET and returns the response body ("" on a closed connection).
  std::string Get(std::string_view target, std::string_view extra_headers = "") {
    std::string request = fmt::format("GET {} HTTP/1.1\r\nHost: t\r\n{}\r\n", target, extra_headers);
    if (!connected_ || send(fd_, request.data(), request.size(), MSG_NOSIGNAL) < 0) return "";
    std::string data;
    char buffer[4096];
    for (;;) {
      size_t head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) {
          size_t length = std::stoul(data.substr(at + 16));
          if (data.size() >= head_end + 4 + length) return data.substr(head_end + 4, length);
        }
      }
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return "";
      data.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Stats of `router` once `done` holds (a request is counted just after its
// response is written, so a client may see the response first).
template <typename Predicate>
Snapshot StatsWhen(const Router& router, Predicate done) {
  for (int i = 0; i < 500; ++i) {
    Snapshot stats = router.Stats();
    if (done(stats)) return stats;
    usleep(2000);
  }
  return router.Stats();
}

uint64_t Total(const Snapshot& s) {
  uint64_t total = 0;
  for (const ReleaseSnapshot& r : s.releases) total += r.total_requests();
  return total;
}

class RouterTest : public testing::Test {
 protected:
  void SetUp() override {
    for (auto [server, name] : {std::pair{&a_, "a"}, std::pair{&b_, "b"}}) {
      std::string body = name;
      server->Route("GET", "/", [body](const http::Request&) {
        return http::Response::Text(200, body);
      });
    }
    a_port_ = *a_.Start("127.0.0.1:0");
    b_port_ = *b_.Start("127.0.0.1:0");
  }

  RoutingTable Table(uint32_t weight_a, uint32_t weight_b) {
    RoutingTable table;
    table.backends.push_back({"stable", "m@1", weight_a, {{"a", "127.0.0.1", a_port_}}});
    table.backends.push_back({"canary", "m@2", weight_b, {{"b", "127.0.0.1", b_port_}}});
    return table;
  }

  http::Server a_, b_;
  int a_port_ = 0, b_port_ = 0;
};

TEST_F(RouterTest, SetTableSwapsWeightsWithoutDroppingTheConnection) {
  Router router("prod", {.threads = 2});
  ASSERT_TRUE(router.SetTable(Table(1, 0)));
  Result<int> port = router.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(*port);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/"), "a");
  ASSERT_TRUE(router.SetTable(Table(0, 1)));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/"), "b");  // Same connection.
  EXPECT_EQ(client.Get("/", "X-Tauon-Release: m@1\r\n"), "a");  // Weight 0, pinned.
  Snapshot stats = StatsWhen(router, [](const Snapshot& s) { return Total(s) == 11; });
  ASSERT_EQ(stats.releases.size(), 2u);
  EXPECT_EQ(stats.releases[0].release, "stable");
  EXPECT_EQ(stats.releases[0].requests[1], 6u);
  EXPECT_EQ(stats.releases[1].requests[1], 5u);
  EXPECT_EQ(stats.releases[1].weight, 1u);
  EXPECT_EQ(stats.connections_open, 1);

  // A release removed from the table keeps its counters.
  RoutingTable only_canary = Table(0, 1);
  only_canary.backends.erase(only_canary.backends.begin());
  ASSERT_TRUE(router.SetTable(only_canary));
  EXPECT_EQ(client.Get("/"), "b");
  stats = StatsWhen(router, [](const Snapshot& s) { return Total(s) == 12; });
  ASSERT_EQ(stats.releases.size(), 2u);
  EXPECT_EQ(stats.releases[1].release, "stable");
  EXPECT_FALSE(stats.releases[1].in_table);
  EXPECT_EQ(stats.releases[1].requests[1], 6u);
  router.Stop();  // With the client's connection still open.
}

TEST_F(RouterTest, InFlightPerReplicaSurvivesATableChange) {
  http::Server slow;
  std::atomic<bool> release_response{false};
  slow.Route("GET", "/", [&](const http::Request&) {
    for (int i = 0; i < 2500 && !release_response; ++i) usleep(2000);
    return http::Response::Text(200, "slow");
  });
  int slow_port = *slow.Start("127.0.0.1:0");
  Router router("prod", {.threads = 1});
  RoutingTable table;
  table.backends.push_back({"stable", "", 1, {{"s", "127.0.0.1", slow_port}}});
  ASSERT_TRUE(router.SetTable(table));
  int port = *router.Start("127.0.0.1:0");
  EXPECT_EQ(router.InFlight("127.0.0.1", slow_port), 0);
  std::string answer;
  std::thread request([&] {
    Client client(port);
    answer = client.Get("/");
  });
  for (int i = 0; i < 1000 && router.InFlight("localhost", slow_port) == 0; ++i) usleep(2000);
  EXPECT_EQ(router.InFlight("localhost", slow_port), 1);
  // Out of rotation: the request under way still counts until it is answered.
  table.backends[0].upstreams = {{"a", "127.0.0.1", a_port_}};
  ASSERT_TRUE(router.SetTable(table));
  EXPECT_EQ(router.InFlight("127.0.0.1", slow_port), 1);
  release_response = true;
  request.join();
  EXPECT_EQ(answer, "slow");
  for (int i = 0; i < 1000 && router.InFlight("127.0.0.1", slow_port) != 0; ++i) usleep(2000);
  EXPECT_EQ(router.InFlight("127.0.0.1", slow_port), 0);
  EXPECT_EQ(router.InFlight("127.0.0.1", 1), 0);  // Never used.
  router.Stop();
  slow.Stop();
}

TEST_F(RouterTest, NoReleaseTakingTrafficIs503) {
  Router router("prod", {.threads = 1});
  ASSERT_TRUE(router.SetTable(Table(0, 0)));
  int port = *router.Start("127.0.0.1:0");
  Client client(port);
  EXPECT_EQ(client.Get("/"), "tauon router: environment 'prod' has no release taking traffic\n");
}

TEST(RouterTableTest, ValidationErrors) {
  RoutingTable table;
  table.backends.push_back({"stable", "", 1, {{"r1", "127.0.0.1", 70000}}});
  EXPECT_EQ(ValidateTable(table).error().message,
            "release 'stable': port 70000 of replica 'r1' is out of range (1-65535)");
  table.backends[0].upstreams[0].port = 80;
  table.backends.push_back({"stable", "", 1, {}});
  EXPECT_EQ(ValidateTable(table).error().message, "release 'stable' appears twice");
  table.backends[1].release = "can ary";
  EXPECT_EQ(ValidateTable(table).error().message,
            "release name 'can ary' may only hold letters, digits, '-', '_' and '.'");
  table.backends[1].release = "canary";
  table.mirror_release = "shadow";
  table.mirror_percent = 5;
  EXPECT_EQ(ValidateTable(table).error().message, "mirror release 'shadow' is not in the table");
  table.mirror_release = "canary";
  table.mirror_percent = 101;
  EXPECT_EQ(ValidateTable(table).error().message, "mirror percent 101 is not within 0-100");
  table.mirror_percent = 100;
  EXPECT_TRUE(ValidateTable(table));
  Router router("x");
  EXPECT_EQ(router.Start("127.0.0.1").error().message,
            "invalid listen address '127.0.0.1': expected HOST:PORT");
  Router router2("x");
  EXPECT_EQ(router2.Start("example.com:80").error().message,
            "invalid listen address 'example.com:80': 'example.com' is not an IP address");
}

TEST(RouterCommandTest, ReleaseSpecs) {
  Result<Backend> b = ParseReleaseSpec("canary@digits@4=10:127.0.0.1:9001,[::1]:9002");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->release, "canary");
  EXPECT_EQ(b->version, "digits@4");
  EXPECT_EQ(b->weight, 10u);
  ASSERT_EQ(b->upstreams.size(), 2u);
  EXPECT_EQ(b->upstreams[1].host, "[::1]");
  EXPECT_EQ(b->upstreams[1].port, 9002);
  EXPECT_EQ(b->upstreams[1].id, "[::1]:9002");
  EXPECT_TRUE(ParseReleaseSpec("empty=0:")->upstreams.empty());
  const char* expected =
      " (expected NAME[@VERSION]=WEIGHT:HOST:PORT[,HOST:PORT...])";
  EXPECT_EQ(ParseReleaseSpec("stable").error().message,
            std::string("invalid --release 'stable': no '='") + expected);
  EXPECT_EQ(ParseReleaseSpec("stable=x:h:1").error().message,
            std::string("invalid --release 'stable=x:h:1': weight 'x' is not a whole number from "
                        "0 to 1000000") + expected);
  EXPECT_EQ(ParseReleaseSpec("stable=1:h").error().message,
            std::string("invalid --release 'stable=1:h': replica 'h' is not HOST:PORT") + expected);
  EXPECT_EQ(ParseReleaseSpec("stable=1:h:0").error().message,
            "invalid --release 'stable=1:h:0': '0' is not a port (1-65535)");
  EXPECT_EQ(ParseMirrorSpec("shadow:12.5")->second, 12.5);
  EXPECT_EQ(ParseMirrorSpec("shadow").error().message,
            "invalid --mirror 'shadow': expected NAME:PERCENT");
  EXPECT_EQ(ParseMirrorSpec("shadow:200").error().message,
            "invalid --mirror 'shadow:200': '200' is not a percentage from 0 to 100");
}

}  // namespace
}  // namespace tauon::router
