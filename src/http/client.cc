// Blocking calls built from Asio's asynchronous operations on a private
// io_context, so that every phase can time out: each operation runs until
// it completes or its deadline passes, and then the socket is closed.
#if defined(__SANITIZE_THREAD__)
// Asio's fences are fine; g++ 12 warns that TSan does not model them.
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#include "http/client.h"

#include <utility>  // Before Boost: Asio 1.74 misses it under -std=c++2b.

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdlib>
#include <mutex>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "util/strings.h"

namespace tauon::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Fetch keeps the whole body in memory; larger downloads use FetchStream.
constexpr std::uint64_t kMaxResponseBytes = 256ull * 1024 * 1024;

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "host:port" for messages, "[::1]:8080" for IPv6.
std::string HostPort(const Url& url) {
  if (url.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", url.host, url.port);
  return fmt::format("{}:{}", url.host, url.port);
}

// The URL for messages: no userinfo (ParseUrl drops it) and no query, which
// may hold tokens.
std::string Shown(const Url& url) {
  bool default_port = url.port == (url.scheme == "https" ? 443 : 80);
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string port = default_port ? "" : fmt::format(":{}", url.port);
  return fmt::format("{}://{}{}{}", url.scheme, host, port,
                     std::string_view(url.target).substr(0, url.target.find('?')));
}

std::string FormatTimeout(Duration d) {
  if (d.count() >= 1000 && d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return FormatDuration(d);
}

// "user:pass" from "https://user:pass@host/", percent-decoded ("user:" for
// "https://user@host/"); "" if none.
std::string Userinfo(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return "";
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos ? end : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string userinfo = PercentDecode(authority.substr(0, at)).value_or("");
  if (!userinfo.empty() && userinfo.find(':') == std::string::npos) userinfo += ':';
  return userinfo;
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsValidField(const std::string& name, const std::string& value) {
  return IsToken(name) && value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool IsBeastError(error_code ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// The client context, shared by calls: loading the system's CA store takes
// ~20 ms. It is rebuilt when SSL_CERT_FILE or SSL_CERT_DIR (which OpenSSL
// reads for its default paths) change. SSL_CTX is safe to share between
// threads once set up.
Result<std::shared_ptr<ssl::context>> TlsContext() {
  static std::mutex mutex;
  static std::shared_ptr<ssl::context> cached;  // GUARDED_BY(mutex)
  static std::string cached_key;                // GUARDED_BY(mutex)
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string("\x01unset");
  };
  std::string key = env("SSL_CERT_FILE") + '\0' + env("SSL_CERT_DIR");
  std::lock_guard lock(mutex);
  if (cached && cached_key == key) return cached;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  context->set_default_verify_paths(ec);
  if (!ec) context->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return Fail("cannot load the system's CA certificates: {}", ec.message());
  cached = context;
  cached_key = std::move(key);
  return context;
}

// One request on one connection.
class Call {
 public:
  Call(const ClientRequest& request, Url url)
      : request_(request), url_(std::move(url)), shown_(Shown(url_)) {}

  // Resolves, connects and, for https, shakes hands, all within the timeout.
  Status Connect() {
    const Duration timeout = request_.timeout;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto timed_out = [&] {
      return Fail("timed out after {} connecting to {}", FormatTimeout(timeout), shown_);
    };

    tcp::resolver::results_type endpoints;
    error_code ec;
    bool done = false;
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [&](error_code e, tcp::resolver::results_type results) {
                              ec = e;
                              endpoints = std::move(results);
                              done = true;
                            });
    if (!Wait(done, deadline)) return timed_out();
    if (ec) return Fail("cannot resolve host '{}': {}", url_.host, ec.message());

    done = false;
    asio::async_connect(socket_, endpoints, [&](error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!Wait(done, deadline)) return timed_out();
    if (ec == asio::error::connection_refused) {
      return Fail("connection refused to {}", HostPort(url_));
    }
    if (ec) return Fail("cannot connect to {}: {}", HostPort(url_), ec.message());
    socket_.set_option(tcp::no_delay(true), ec);

    if (url_.scheme != "https") return Ok();
    auto context = TlsContext();
    if (!context) return std::unexpected(context.error());
    tls_context_ = std::move(*context);
    tls_.emplace(socket_, *tls_context_);
    SSL* ssl = tls_->native_handle();
    if (IsIpLiteral(url_.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, url_.host.c_str());  // SNI
      SSL_set1_host(ssl, url_.host.c_str());
    }
    done = false;
    tls_->async_handshake(ssl::stream_base::client, [&](error_code e) {
      ec = e;
      done = true;
    });
    if (!Wait(done, deadline)) return timed_out();
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        return Fail("TLS handshake with {} failed: certificate verify failed ({})", HostPort(url_),
                    X509_verify_cert_error_string(verify));
      }
      return Fail("TLS handshake with {} failed: {}", HostPort(url_), ec.message());
    }
    return Ok();
  }

  // Builds the request message; fails on header fields that cannot be sent.
  Status Prepare() {
    auto& message = message_;
    if (!IsToken(request_.method)) return Fail("invalid request method '{}'", request_.method);
    message.version(11);
    message.method_string(request_.method);
    message.target(url_.target);
    bool default_port = url_.port == (url_.scheme == "https" ? 443 : 80);
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    message.set(bhttp::field::host, default_port ? host : fmt::format("{}:{}", host, url_.port));
    message.set(bhttp::field::user_agent, "tauon");
    for (const auto& [name, value] : request_.headers.fields()) {
      // Values are never quoted: they may hold tokens.
      if (!IsValidField(name, value)) return Fail("invalid request header '{}'", name);
      bhttp::field known = bhttp::string_to_field(name);
      if (known == bhttp::field::content_length || known == bhttp::field::transfer_encoding ||
          known == bhttp::field::connection) {
        continue;  // Framing is ours.
      }
      if (known == bhttp::field::host || known == bhttp::field::user_agent) {
        message.set(name, value);
      } else {
        message.insert(name, value);
      }
    }
    if (std::string userinfo = Userinfo(request_.url);
        !userinfo.empty() && !request_.headers.Get("Authorization")) {
      message.set(bhttp::field::authorization, "Basic " + Base64Encode(userinfo));
    }
    message.set(bhttp::field::connection, "close");
    message.body() = request_.body;
    message.prepare_payload();
    return Ok();
  }

  Status Send() {
    const auto deadline = std::chrono::steady_clock::now() + request_.timeout;
    error_code ec;
    bool done = false;
    auto on_written = [&](error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      bhttp::async_write(*tls_, message_, on_written);
    } else {
      bhttp::async_write(socket_, message_, on_written);
    }
    if (!Wait(done, deadline)) {
      return Fail("timed out after {} sending to {}", FormatTimeout(request_.timeout), shown_);
    }
    if (ec) return Fail("cannot send the request to {}: {}", shown_, ec.message());
    return Ok();
  }

  // Reads the whole response within the timeout.
  Result<ClientResponse> Receive() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (request_.method == "HEAD") parser.skip(true);
    const auto deadline = std::chrono::steady_clock::now() + request_.timeout;
    error_code ec;
    bool done = false;
    auto on_read = [&](error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      bhttp::async_read(*tls_, buffer_, parser, on_read);
    } else {
      bhttp::async_read(socket_, buffer_, parser, on_read);
    }
    if (!Wait(done, deadline)) return TimedOutWaiting();
    if (ec) ec = EndIfTruncated(parser, ec);
    if (ec == bhttp::error::body_limit) {
      return Fail("response from {} is larger than {} MiB", shown_, kMaxResponseBytes >> 20);
    }
    if (ec) return ReadError(ec);
    ClientResponse response = HeadOf(parser.get());
    response.body = std::move(parser.get().body());
    return response;
  }

  // Reads the status and headers, then passes the body to `on_data` as it
  // comes, each read within the timeout.
  Result<ClientResponse> ReceiveStream(const std::function<bool(std::string_view)>& on_data) {
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (request_.method == "HEAD") parser.skip(true);
    error_code ec;
    bool done = false;
    auto on_read = [&](error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      bhttp::async_read_header(*tls_, buffer_, parser, on_read);
    } else {
      bhttp::async_read_header(socket_, buffer_, parser, on_read);
    }
    if (!Wait(done, std::chrono::steady_clock::now() + request_.timeout)) {
      return TimedOutWaiting();
    }
    if (ec) return ReadError(ec);
    ClientResponse response = HeadOf(parser.get());

    std::array<char, 16 * 1024> chunk;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      done = false;
      if (tls_) {
        bhttp::async_read_some(*tls_, buffer_, parser, on_read);
      } else {
        bhttp::async_read_some(socket_, buffer_, parser, on_read);
      }
      if (!Wait(done, std::chrono::steady_clock::now() + request_.timeout)) {
        return TimedOutWaiting();
      }
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) ec = EndIfTruncated(parser, ec);
      if (ec) return ReadError(ec);
      size_t n = chunk.size() - parser.get().body().size;
      if (n > 0 && !on_data(std::string_view(chunk.data(), n))) break;
    }
    return response;
  }

 private:
  // Runs the io_context until `done` is set or `deadline` passes; then
  // closes the connection and returns false.
  bool Wait(const bool& done, std::chrono::steady_clock::time_point deadline) {
    io_.restart();
    while (!done && io_.run_one_until(deadline) > 0) {
    }
    if (done) return true;
    error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    // Let the cancelled operation finish: its handler refers to locals.
    io_.restart();
    io_.run();
    return false;
  }

  // Servers often close TLS connections without a close_notify; for a
  // body that ends with the connection that is the normal end.
  template <typename Parser>
  error_code EndIfTruncated(Parser& parser, error_code ec) {
    if (ec != ssl::error::stream_truncated || !parser.is_header_done()) return ec;
    error_code eof_ec;
    parser.put_eof(eof_ec);
    return eof_ec;
  }

  std::unexpected<Error> TimedOutWaiting() const {
    return Fail("timed out after {} waiting for {}", FormatTimeout(request_.timeout), shown_);
  }

  std::unexpected<Error> ReadError(error_code ec) const {
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return Fail("connection to {} closed before the response was complete", HostPort(url_));
    }
    if (IsBeastError(ec)) return Fail("malformed response from {}: {}", shown_, ec.message());
    return Fail("cannot read the response from {}: {}", shown_, ec.message());
  }

  template <typename Message>
  static ClientResponse HeadOf(const Message& message) {
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.Add(std::string(View(field.name_string())),
                           std::string(View(field.value())));
    }
    return response;
  }

  const ClientRequest& request_;
  const Url url_;
  const std::string shown_;
  asio::io_context io_{1};  // First: outlives the objects that use it.
  tcp::resolver resolver_{io_};
  tcp::socket socket_{io_};
  std::shared_ptr<ssl::context> tls_context_;  // Outlives tls_.
  std::optional<ssl::stream<tcp::socket&>> tls_;
  bhttp::request<bhttp::string_body> message_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace

Result<ClientResponse> Fetch(const ClientRequest& request) {
  auto url = ParseUrl(request.url);
  if (!url) return std::unexpected(url.error());
  Call call(request, std::move(*url));
  if (auto status = call.Prepare(); !status) return std::unexpected(status.error());
  if (auto status = call.Connect(); !status) return std::unexpected(status.error());
  if (auto status = call.Send(); !status) return std::unexpected(status.error());
  return call.Receive();
}

Result<ClientResponse> FetchStream(const ClientRequest& request,
                                   const std::function<bool(std::string_view)>& on_data) {
  auto url = ParseUrl(request.url);
  if (!url) return std::unexpected(url.error());
  Call call(request, std::move(*url));
  if (auto status = call.Prepare(); !status) return std::unexpected(status.error());
  if (auto status = call.Connect(); !status) return std::unexpected(status.error());
  if (auto status = call.Send(); !status) return std::unexpected(status.error());
  return call.ReceiveStream(on_data);
}

}  // namespace tauon::http
