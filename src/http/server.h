// A small HTTP/1.1 server for Tauon's API, webhooks and dashboard, on one
// Asio thread. Handlers run on that thread, one request at a time: they must
// not block for long (a database query is fine, a network call is not).
#pragma once

#include <memory>
#include <string>

#include "http/http.h"

namespace tauon::http {

struct ServerOptions {
  size_t max_body_bytes = 32 * 1024 * 1024;  // Larger bodies get 413 without being read.
  size_t max_header_bytes = 64 * 1024;       // Larger headers get 431.
  Duration header_timeout{10'000};  // A client must send its headers this fast (slowloris).
  Duration idle_timeout{60'000};    // Keep-alive connections idle this long are closed.
  // idle_timeout also bounds the wait between two reads of a request body
  // and each write to a client (a client that stops reading is dropped).
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  // Stops and joins the thread.

  // Routes `method` requests whose path matches `pattern` to `handler`.
  // Patterns are literal segments and `{name}` segments (one segment each)
  // and may end in `{name...}` (the rest of the path). The first route
  // added that matches wins. Unmatched paths get 404; a path that matches
  // another method only gets 405 (with Allow). Call before Start().
  // Parameters are percent-decoded segments ("%2F" stays inside one); a
  // `{name...}` value may be "" and may contain "..": check it before using
  // it as a file path. HEAD requests go to the GET route when no HEAD route
  // matches; the body is dropped and Content-Length kept.
  void Route(std::string method, std::string pattern, Handler handler);
  // Called for paths no route matches (e.g. the dashboard's files); 404 by default.
  void Fallback(Handler handler);

  // Binds `address` ("127.0.0.1:8080", "[::1]:0"; port 0 picks a free one;
  // the host is an IP address, "localhost" or empty for all IPv4 ones) and
  // starts serving on a new thread. Returns the bound port.
  Result<int> Start(const std::string& address);
  // Stops accepting, closes connections (streams included), joins the
  // thread. Idempotent. Called from a handler it only starts stopping; the
  // next Stop() or the destructor (not from a handler) joins.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tauon::http
