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
  Duration timeout{10'000};  // Connect, send and receive, each.
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// Sends `request` and reads the whole response. Fails on connection errors,
// timeouts, TLS errors and malformed responses (not on 4xx/5xx statuses).
// Error messages never contain the request's headers or body.
Result<ClientResponse> Fetch(const ClientRequest& request);

// Sends `request` and passes the response body to `on_data` as it arrives
// (for Server-Sent Events), until the server ends it, `on_data` returns
// false, or nothing arrives for `request.timeout`. Returns the status and
// headers (body empty).
Result<ClientResponse> FetchStream(const ClientRequest& request,
                                   const std::function<bool(std::string_view)>& on_data);

}  // namespace tauon::http
