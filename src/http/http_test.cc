#include "http/http.h"

#include <gtest/gtest.h>

namespace tauon::http {
namespace {

TEST(HeadersTest, NamesCompareCaseInsensitively) {
  Headers headers;
  headers.Add("Content-Type", "text/plain");
  headers.Add("X-Tag", "a");
  headers.Add("x-tag", "b");
  EXPECT_EQ(headers.Get("content-type"), "text/plain");
  EXPECT_EQ(headers.Get("X-TAG"), "a");
  EXPECT_EQ(headers.Get("Missing"), std::nullopt);
  EXPECT_EQ(headers.fields().size(), 3u);
}

TEST(HeadersTest, SetReplacesEveryFieldWithOneInPlace) {
  Headers headers;
  headers.Add("A", "1");
  headers.Add("X-Tag", "a");
  headers.Add("B", "2");
  headers.Add("x-tag", "b");
  headers.Set("X-TAG", "c");
  std::vector<std::pair<std::string, std::string>> expected = {
      {"A", "1"}, {"X-TAG", "c"}, {"B", "2"}};
  EXPECT_EQ(headers.fields(), expected);
  headers.Set("New", "n");
  EXPECT_EQ(headers.fields().back(), std::make_pair(std::string("New"), std::string("n")));
}

TEST(ResponseTest, Builders) {
  Response json = Response::Json(201, {{"id", 7}});
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.body, R"({"id":7})");
  EXPECT_EQ(json.headers.Get("content-type"), "application/json");

  Response error = Response::Error(404, "no run 7");
  EXPECT_EQ(error.status, 404);
  EXPECT_EQ(error.body, R"({"error":"no run 7"})");
  EXPECT_EQ(error.headers.Get("Content-Type"), "application/json");

  Response text = Response::Text(200, "hi");
  EXPECT_EQ(text.body, "hi");
  EXPECT_EQ(text.headers.Get("Content-Type"), "text/plain");
  EXPECT_EQ(Response::Text(200, "<p>", "text/html").headers.Get("Content-Type"), "text/html");
  EXPECT_FALSE(text.stream);
}

TEST(ResponseTest, JsonReplacesInvalidUtf8InsteadOfThrowing) {
  Response response = Response::Json(200, {{"line", std::string("bad \xff byte")}});
  EXPECT_EQ(response.body, "{\"line\":\"bad \xEF\xBF\xBD byte\"}");
}

TEST(PercentTest, Decode) {
  EXPECT_EQ(PercentDecode("%2Fa%20b"), "/a b");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%e2%9c%93"), "\xe2\x9c\x93");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("%00"), std::string(1, '\0'));
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%2"), std::nullopt);
  EXPECT_EQ(PercentDecode("ab%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz"), std::nullopt);
  EXPECT_EQ(PercentDecode("%2g"), std::nullopt);
}

TEST(PercentTest, EncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(PercentEncode("\xe2\x9c\x93"), "%E2%9C%93");
  EXPECT_EQ(PercentEncode(""), "");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(PercentDecode(PercentEncode(all)), all);
}

TEST(ParseUrlTest, HttpAndHttpsWithDefaultPorts) {
  auto url = ParseUrl("http://example.com");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  url = ParseUrl("HTTPS://hooks.slack.com/services/T0/B0/x?a=1#frag");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/services/T0/B0/x?a=1");

  url = ParseUrl("http://127.0.0.1:8080?x=1");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/?x=1");
}

TEST(ParseUrlTest, Ipv6LiteralsAndUserinfo) {
  auto url = ParseUrl("http://[::1]:9000/api");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->target, "/api");

  url = ParseUrl("https://[2001:db8::5]");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "2001:db8::5");
  EXPECT_EQ(url->port, 443);

  url = ParseUrl("https://user:p%40ss@ci.example.com:8443/job");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "ci.example.com");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/job");
}

TEST(ParseUrlTest, Errors) {
  auto message = [](std::string_view text) {
    auto url = ParseUrl(text);
    return url ? std::string("ok") : url.error().message;
  };
  EXPECT_EQ(message("ftp://example.com/x"),
            "invalid URL 'ftp://example.com/x': unsupported scheme 'ftp' (expected http or https)");
  EXPECT_EQ(message("example.com/x"), "invalid URL 'example.com/x': expected http:// or https://");
  EXPECT_EQ(message("http:///path"), "invalid URL 'http:///path': missing host");
  EXPECT_EQ(message("http://:80/"), "invalid URL 'http://:80/': missing host");
  EXPECT_EQ(message("http://host:0/"), "invalid URL 'http://host:0/': bad port '0'");
  EXPECT_EQ(message("http://host:65536/"), "invalid URL 'http://host:65536/': bad port '65536'");
  EXPECT_EQ(message("http://host:http/"), "invalid URL 'http://host:http/': bad port 'http'");
  EXPECT_EQ(message("http://host:/"), "invalid URL 'http://host:/': bad port ''");
  EXPECT_EQ(message("http://[::1/"),
            "invalid URL 'http://[::1/': missing ']' after the IPv6 address");
  EXPECT_EQ(message("http://[::1]x/"), "invalid URL 'http://[::1]x/': unexpected text after ']'");
  EXPECT_EQ(message("http://[]/"), "invalid URL 'http://[]/': bad IPv6 address ''");
  EXPECT_EQ(message("http://ho st/"), "invalid URL 'http://ho st/': bad character in host name");
  EXPECT_EQ(message("http://host/a b"),
            "invalid URL 'http://host/a b': spaces and control characters must be percent-encoded");
}

TEST(ParseUrlTest, ErrorsNeverShowCredentialsOrQuery) {
  auto url = ParseUrl("http://admin:hunter2@host:99999/x?token=s3cret");
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().message, "invalid URL 'http://host:99999/x': bad port '99999'");
}

}  // namespace
}  // namespace tauon::http
