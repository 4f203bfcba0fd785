#include "router/http1.h"

#include <random>

#include <gtest/gtest.h>

namespace tauon::router {
namespace {

struct Parsed {
  ParseResult result;
  RequestHead head;
  std::string error;
  int status = 0;
};

Parsed Request(std::string_view text) {
  Parsed p;
  size_t scanned = 0;
  p.result = ParseRequestHead(text, &scanned, &p.head, &p.error, &p.status);
  return p;
}

TEST(RequestHeadTest, ParsesAKeepAliveGet) {
  std::string text = "GET /predict?x=1 HTTP/1.1\r\nHost: a\r\nX-Tag:  v  \r\n\r\nrest";
  Parsed p = Request(text);
  ASSERT_EQ(p.result, ParseResult::kDone) << p.error;
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.target, "/predict?x=1");
  EXPECT_EQ(p.head.version_minor, 1);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.head.body, BodyKind::kNone);
  EXPECT_EQ(FindField(p.head.fields, "x-tag"), "v");
  EXPECT_EQ(p.head.head_bytes, text.size() - 4);
}

TEST(RequestHeadTest, IncompleteUntilTheBlankLineEvenByteByByte) {
  std::string text = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  RequestHead head;
  std::string error;
  int status = 0;
  size_t scanned = 0;
  for (size_t n = 1; n < text.size(); ++n) {
    ASSERT_EQ(ParseRequestHead(std::string_view(text).substr(0, n), &scanned, &head, &error, &status),
              ParseResult::kIncomplete)
        << n;
  }
  ASSERT_EQ(ParseRequestHead(text, &scanned, &head, &error, &status), ParseResult::kDone);
  EXPECT_EQ(head.body, BodyKind::kContentLength);
  EXPECT_EQ(head.content_length, 5u);
}

TEST(RequestHeadTest, Http10KeepAliveOnlyWhenAsked) {
  EXPECT_FALSE(Request("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(Request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(Request("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").head.keep_alive);
}

TEST(RequestHeadTest, RefusesMalformedRequests) {
  struct Case {
    const char* text;
    const char* error;
    int status;
  };
  Case cases[] = {
      {"GET /\r\n\r\n", "malformed request line 'GET /'", 400},
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "malformed request line 'GET  / HTTP/1.1'", 400},
      {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "invalid method 'G(T'", 400},
      {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "unsupported HTTP version 'HTTP/2.0'", 505},
      {"GET / HTTX/1.1\r\nHost: a\r\n\r\n", "invalid HTTP version 'HTTX/1.1'", 400},
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 request without Host", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", "invalid header field name 'Bad Name'", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", "header line without a colon: 'NoColon'", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "obsolete line folding in header fields", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", "invalid Content-Length '1x'", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "conflicting Content-Length fields", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       "both Transfer-Encoding and Content-Length", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       "unsupported Transfer-Encoding 'gzip'", 501},
      {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", "control character in header field 'Host'", 400},
  };
  for (const Case& c : cases) {
    Parsed p = Request(c.text);
    EXPECT_EQ(p.result, ParseResult::kError) << c.text;
    EXPECT_EQ(p.error, c.error) << c.text;
    EXPECT_EQ(p.status, c.status) << c.text;
  }
}

TEST(RequestHeadTest, ToleratesBareLineFeedsAndLeadingBlankLines) {
  Parsed p = Request("\r\n\nGET / HTTP/1.1\nHost: a\n\n");
  ASSERT_EQ(p.result, ParseResult::kDone) << p.error;
  EXPECT_EQ(FindField(p.head.fields, "host"), "a");
}

TEST(ResponseHeadTest, FramingByStatusMethodAndFields) {
  auto parse = [](std::string_view text, std::string_view method = "GET") {
    ResponseHead head;
    std::string error;
    size_t scanned = 0;
    EXPECT_EQ(ParseResponseHead(text, &scanned, method, &head, &error), ParseResult::kDone) << error;
    return head;
  };
  ResponseHead ok = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.reason, "OK");
  EXPECT_EQ(ok.body, BodyKind::kContentLength);
  EXPECT_TRUE(ok.keep_alive);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD").body, BodyKind::kNone);
  EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n").body, BodyKind::kNone);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").body, BodyKind::kChunked);
  ResponseHead until_close = parse("HTTP/1.0 200 OK\r\n\r\n");
  EXPECT_EQ(until_close.body, BodyKind::kUntilClose);
  EXPECT_FALSE(until_close.keep_alive);
  EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
}

TEST(ResponseHeadTest, GarbageIsAnErrorAsSoonAsItIsSeen) {
  ResponseHead head;
  std::string error;
  size_t scanned = 0;
  EXPECT_EQ(ParseResponseHead("this is", &scanned, "GET", &head, &error), ParseResult::kError);
  EXPECT_EQ(error, "upstream response does not start with 'HTTP/'");
  scanned = 0;
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 2000 OK\r\n\r\n", &scanned, "GET", &head, &error),
            ParseResult::kError);
  EXPECT_EQ(error, "malformed status line 'HTTP/1.1 2000 OK'");
  scanned = 0;
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 20", &scanned, "GET", &head, &error),
            ParseResult::kIncomplete);
}

TEST(ChunkedDecoderTest, DecodesAcrossArbitrarySplits) {
  std::string body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (size_t split = 0; split <= body.size(); ++split) {
    ChunkedDecoder decoder;
    std::vector<std::string_view> pieces;
    size_t used = decoder.Feed(std::string_view(body).substr(0, split), &pieces);
    EXPECT_EQ(used, std::min(split, body.size() - 4));  // Never past the body's end.
    used += decoder.Feed(std::string_view(body).substr(used), &pieces);
    std::string data;
    for (auto piece : pieces) data += piece;
    EXPECT_EQ(data, "hello world") << split;
    EXPECT_TRUE(decoder.done()) << split;
    EXPECT_EQ(used, body.size() - 4) << split;
  }
}

TEST(ChunkedDecoderTest, RefusesBadFraming) {
  for (std::string_view bad : {"x\r\n", "5\r\nhelloXX", "fffffffffffffffff\r\n", "5x\r\n"}) {
    ChunkedDecoder decoder;
    std::vector<std::string_view> pieces;
    decoder.Feed(bad, &pieces);
    EXPECT_TRUE(decoder.has_error()) << bad;
  }
}

TEST(HopByHopTest, Rfc9110Fields) {
  for (std::string_view name : {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding",
                                "Upgrade", "Proxy-Authorization", "proxy-connection"}) {
    EXPECT_TRUE(IsHopByHop(name)) << name;
  }
  for (std::string_view name : {"Content-Length", "Host", "X-Request-Id", "Trailers", "Proxy"}) {
    EXPECT_FALSE(IsHopByHop(name)) << name;
  }
  std::vector<HeaderField> fields = {{"Connection", "close, X-Secret ,foo"}, {"X-Secret", "1"}};
  EXPECT_TRUE(IsListedInConnection(fields, "x-secret"));
  EXPECT_TRUE(IsListedInConnection(fields, "FOO"));
  EXPECT_FALSE(IsListedInConnection(fields, "bar"));
}

TEST(CookieTest, FindsANamedCookie) {
  std::vector<HeaderField> fields = {{"Cookie", "a=1; user=\"u42\"; b=2"}};
  EXPECT_EQ(FindCookie(fields, "user"), "u42");
  EXPECT_EQ(FindCookie(fields, "b"), "2");
  EXPECT_EQ(FindCookie(fields, "c"), "");
}

}  // namespace
}  // namespace tauon::router

namespace tauon::router {
namespace {

// Mutated and random input: the parsers must stop (done, incomplete or
// error) without reading out of bounds (run under ASan to be sure) and
// agree with themselves whatever the split.
TEST(Http1FuzzTest, MutatedRequestsAndChunkedBodies) {
  std::mt19937 random(42);
  const std::string seeds[] = {
      "GET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
      "POST /p HTTP/1.0\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n0123456789",
      "PUT / HTTP/1.1\r\nHost: y\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
  };
  const char alphabet[] = "\r\n: \t;=0123456789abcdefHTTP/1.GET\x00\x7f\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[round % 3];
    int mutations = 1 + static_cast<int>(random() % 4);
    for (int m = 0; m < mutations; ++m) {
      size_t at = random() % (text.size() + 1);
      char c = alphabet[random() % (sizeof(alphabet) - 1)];
      switch (random() % 3) {
        case 0: if (at < text.size()) text[at] = c; break;
        case 1: text.insert(at, 1, c); break;
        case 2: if (at < text.size()) text.erase(at, 1); break;
      }
    }
    RequestHead whole, split;
    std::string error;
    int status = 0;
    size_t scanned = 0;
    ParseResult all = ParseRequestHead(text, &scanned, &whole, &error, &status);
    if (all == ParseResult::kDone) {
      ASSERT_LE(whole.head_bytes, text.size());
      for (const HeaderField& field : whole.fields) {
        ASSERT_GE(field.name.data(), text.data());
        ASSERT_LE(field.value.data() + field.value.size(), text.data() + text.size());
      }
    }
    // Byte-by-byte feeding reaches the same verdict.
    scanned = 0;
    ParseResult step = ParseResult::kIncomplete;
    for (size_t n = 1; n <= text.size() && step == ParseResult::kIncomplete; ++n) {
      step = ParseRequestHead(std::string_view(text).substr(0, n), &scanned, &split, &error, &status);
    }
    ASSERT_EQ(step, all) << text;
    if (all == ParseResult::kDone) {
      ASSERT_EQ(split.head_bytes, whole.head_bytes);
    }

    ChunkedDecoder decoder;
    std::vector<std::string_view> pieces;
    size_t used = decoder.Feed(text, &pieces);
    ASSERT_LE(used, text.size());
    for (std::string_view piece : pieces) {
      ASSERT_GE(piece.data(), text.data());
      ASSERT_LE(piece.data() + piece.size(), text.data() + text.size());
    }
    ResponseHead response;
    scanned = 0;
    std::string response_text = "HTTP/1.1 200 OK\r\n" + text;
    if (ParseResponseHead(response_text, &scanned, "GET", &response, &error) == ParseResult::kDone) {
      ASSERT_LE(response.head_bytes, response_text.size());
    }
  }
}

}  // namespace
}  // namespace tauon::router

namespace tauon::router {
namespace {

TEST(HopByHopTest, ConnectionListsFieldsIgnoresCloseAndKeepAlive) {
  EXPECT_FALSE(ConnectionListsFields({{"Connection", "keep-alive"}, {"Host", "a"}}));
  EXPECT_FALSE(ConnectionListsFields({{"connection", "Close , keep-alive"}}));
  EXPECT_TRUE(ConnectionListsFields({{"Connection", "close, X-Secret"}}));
  EXPECT_FALSE(ConnectionListsFields({{"X-Connection", "X-Secret"}}));
  EXPECT_TRUE(EqualsIgnoreCase("Content-LENGTH", "content-length"));
  EXPECT_FALSE(EqualsIgnoreCase("content-lengtH", "content-lengtx"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));  // Not letters: no case folding.
}

}  // namespace
}  // namespace tauon::router
