// Blocking HTTP/1.1 client (http and https, certificates verified against
// the system's CA store) for notifications and the CLI.
#pragma once

#include <functional>
#include <string>

#include "http/http.h"

namespace tauon::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // Connect (with DNS and TLS), send and receive, each. Receiving is the
  // whole response for Fetch and each read for FetchStream. A DNS lookup
  // that hangs can take longer: getaddrinfo cannot be cancelled.
  Duration timeout{10'000};
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// Sends `request` and reads the whole response. Fails on connection errors,
// timeouts, TLS errors and malformed responses (not on 4xx/5xx statuses);
// redirects are returned, not followed. Error messages never contain the
// request's headers or body, nor the URL's userinfo or query. Userinfo in
// the URL ("https://user:token@host/") is sent as Basic authorization
// unless the request has an Authorization header. Bodies above 256 MiB
// fail: use FetchStream. Certificates are checked against OpenSSL's default
// paths (SSL_CERT_FILE and SSL_CERT_DIR override them). Thread-safe.
Result<ClientResponse> Fetch(const ClientRequest& request);

// Sends `request` and passes the response body to `on_data` as it arrives
// (for Server-Sent Events), until the server ends it, `on_data` returns
// false, or nothing arrives for `request.timeout`. Returns the status and
// headers (body empty); a stream that stalls for `request.timeout` or is
// cut before its end fails, after passing on what arrived.
Result<ClientResponse> FetchStream(const ClientRequest& request,
                                   const std::function<bool(std::string_view)>& on_data);

}  // namespace tauon::http
