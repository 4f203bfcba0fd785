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
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  // Stops and joins the thread.

  // Routes `method` requests whose path matches `pattern` to `handler`.
  // Patterns are literal segments and `{name}` segments (one segment each)
  // and may end in `{name...}` (the rest of the path). The first route
  // added that matches wins. Unmatched paths get 404; a path that matches
  // another method only gets 405. Call before Start().
  void Route(std::string method, std::string pattern, Handler handler);
  // Called for paths no route matches (e.g. the dashboard's files); 404 by default.
  void Fallback(Handler handler);

  // Binds `address` ("127.0.0.1:8080", "[::1]:0"; port 0 picks a free one)
  // and starts serving on a new thread. Returns the bound port.
  Result<int> Start(const std::string& address);
  // Stops accepting, closes connections, joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tauon::http
