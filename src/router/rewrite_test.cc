#include "router/rewrite.h"

#include <gtest/gtest.h>

namespace tauon::router {
namespace {

// The head's views point into `text`: keep it alive while using the head.
RequestHead ParseRequest(const std::string& text) {
  RequestHead head;
  std::string error;
  int status = 0;
  size_t scanned = 0;
  EXPECT_EQ(ParseRequestHead(text, &scanned, &head, &error, &status), ParseResult::kDone) << error;
  return head;
}

TEST(RewriteTest, UpstreamHeadDropsHopByHopAndAddsTheRoutersFields) {
  std::string text =
      "POST /predict?x=1 HTTP/1.1\r\nHost: api\r\nConnection: keep-alive, X-Secret\r\n"
      "X-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\n"
      "Transfer-Encoding: chunked\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eA==\r\n"
      "Proxy-Connection: keep-alive\r\nExpect: 100-continue\r\nX-Forwarded-For: 10.0.0.1\r\n"
      "x-forwarded-for: 10.0.0.2\r\nX-Kept: yes\r\n\r\n";
  RequestHead request = ParseRequest(text);
  std::string out;
  BuildUpstreamHead(request, "id-1", true, "127.0.0.1", "127.0.0.1:9001", &out);
  FinishUpstreamHead(5, true, &out);
  EXPECT_EQ(out,
            "POST /predict?x=1 HTTP/1.1\r\nHost: api\r\nX-Kept: yes\r\nX-Request-Id: id-1\r\n"
            "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.1\r\nContent-Length: 5\r\n\r\n");
}

TEST(RewriteTest, UpstreamHeadForHttp10WithoutHostAndWithItsOwnRequestId) {
  std::string text = "GET / HTTP/1.0\r\nX-Request-Id: abc\r\n\r\n";
  RequestHead request = ParseRequest(text);
  std::string out;
  BuildUpstreamHead(request, "abc", false, "", "10.1.1.1:80", &out);
  FinishUpstreamHead(0, false, &out);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nX-Request-Id: abc\r\nHost: 10.1.1.1:80\r\n\r\n");
  out.clear();
  FinishUpstreamHead(0, true, &out);  // An empty body keeps its Content-Length: 0.
  EXPECT_EQ(out, "Content-Length: 0\r\n\r\n");
}

TEST(RewriteTest, ClientHead) {
  ResponseHead response;
  std::string error;
  size_t scanned = 0;
  std::string text =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: keep-alive, X-Hop\r\n"
      "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nX-Model: m\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(text, &scanned, "GET", &response, &error), ParseResult::kDone);
  std::string out;
  BuildClientHead(response, true, false, false, "id-9", "canary", &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Model: m\r\n"
            "X-Request-Id: id-9\r\nX-Tauon-Release: canary\r\nTransfer-Encoding: chunked\r\n\r\n");

  scanned = 0;
  ASSERT_EQ(ParseResponseHead("HTTP/1.0 404 \r\nContent-Length: 2\r\nX-Request-Id: up\r\n\r\n",
                              &scanned, "GET", &response, &error),
            ParseResult::kDone);
  BuildClientHead(response, false, false, true, "id-9", "stable", &out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nX-Request-Id: up\r\n"
            "X-Tauon-Release: stable\r\nConnection: keep-alive\r\n\r\n");
  BuildClientHead(response, false, true, false, "id-9", "stable", &out);
  EXPECT_NE(out.find("Connection: close\r\n\r\n"), std::string::npos);
}

TEST(RewriteTest, ErrorResponse) {
  EXPECT_EQ(ErrorResponse(503, "release 'canary' has no ready replica", "id-1", false),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 52\r\nX-Request-Id: id-1\r\n\r\n"
            "tauon router: release 'canary' has no ready replica\n");
  EXPECT_EQ(ErrorResponse(400, "bad", "", true),
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 18\r\nConnection: close\r\n\r\ntauon router: bad\n");
}

}  // namespace
}  // namespace tauon::router
