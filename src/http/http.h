// Tauon's own HTTP types. Boost.Beast stays inside server.cc and client.cc
// (it is slow to compile); everything else speaks these.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/clock.h"
#include "util/error.h"

namespace tauon::http {

// Header fields in the order received; names compare case-insensitively.
class Headers {
 public:
  void Add(std::string name, std::string value);
  // Replaces every field named `name` with one.
  void Set(std::string name, std::string value);
  // The first field named `name`, if any.
  std::optional<std::string> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // As sent: "/api/v1/runs?status=failed"
  std::string path;    // Percent-decoded path without the query: "/api/v1/runs"
  std::map<std::string, std::string> query;  // Decoded query parameters (last one wins).
  std::map<std::string, std::string> params;  // Route parameters: "/runs/{id}" -> {"id": "7"}
  Headers headers;
  std::string body;
  std::string remote;  // Peer address, "127.0.0.1:53412".
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // For streams such as Server-Sent Events: when set, the headers are sent
  // at once (with chunked transfer encoding), then the server calls `stream`
  // on its own thread every `poll_interval`: it returns the next bytes to
  // send (possibly none), or nullopt when the stream is over. The stream also
  // ends when the client goes away.
  std::function<std::optional<std::string>()> stream;
  Duration poll_interval{100};

  // `body` is value.dump() with Content-Type: application/json.
  static Response Json(int status, const nlohmann::json& value);
  // {"error": message} with `status`.
  static Response Error(int status, std::string message);
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
};

using Handler = std::function<Response(const Request&)>;

// A request's JSON object body ({} when empty); nullopt, with a 400 in
// `error`, for malformed JSON or anything but an object.
std::optional<nlohmann::json> ObjectBody(const Request& request, Response* error);
// A string field of a body: absent or null -> `fallback` (an error 400 "'NAME'
// is required" without one); present but not a string -> nullopt and a 400.
std::optional<std::string> StringField(const nlohmann::json& body, const char* name,
                                       Response* error,
                                       std::optional<std::string> fallback = std::nullopt);

// "%2Fa%20b" -> "/a b"; nullopt for malformed escapes.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);
std::string PercentEncode(std::string_view text);

// A parsed absolute URL: http or https only.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // Without brackets for IPv6.
  int port = 0;        // Explicit, or 80/443 by scheme.
  std::string target;  // Path and query, "/" at least.
};
Result<Url> ParseUrl(std::string_view text);

}  // namespace tauon::http
