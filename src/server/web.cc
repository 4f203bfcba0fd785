#include "server/web.h"

#include <algorithm>

#include <fmt/format.h>

namespace tauon::server {
namespace {

const WebAsset* Find(std::span<const WebAsset> assets, std::string_view path) {
  auto it = std::find_if(assets.begin(), assets.end(),
                         [&](const WebAsset& asset) { return asset.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

// A client-side route: not under /api/ (whose unknown paths stay errors),
// and either a page that may hold a dot (model and environment names may:
// "/models/clf.v2", "/environments/prod.eu") or without an extension in its
// last segment ("/runs/42").
bool IsAppRoute(std::string_view path) {
  if (path == "/api" || path.starts_with("/api/")) return false;
  if (path.starts_with("/models/") || path.starts_with("/runs/") ||
      path.starts_with("/environments/")) {
    return true;
  }
  std::string_view last = path.substr(path.rfind('/') + 1);
  return last.find('.') == std::string_view::npos;
}

bool ETagMatches(const http::Request& request, std::string_view etag) {
  std::optional<std::string> given = request.headers.Get("If-None-Match");
  return given && (given->find(etag) != std::string::npos || *given == "*");
}

}  // namespace

http::Response ServeDashboard(const http::Request& request, std::span<const WebAsset> assets) {
  const WebAsset* asset = Find(assets, request.path == "/" ? "/index.html" : request.path);
  if (!asset && IsAppRoute(request.path)) asset = Find(assets, "/index.html");
  if (!asset) return http::Response::Error(404, fmt::format("not found: {}", request.path));
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response denied = http::Response::Error(
        405, fmt::format("method {} not allowed for {}", request.method, request.path));
    denied.headers.Set("Allow", "GET, HEAD");
    return denied;
  }
  http::Response response;
  // Revalidated on every load (cheap: 304), so a new binary's dashboard is
  // never mixed with an old one's cached modules.
  response.headers.Set("Cache-Control", "no-cache");
  response.headers.Set("ETag", std::string(asset->etag));
  response.headers.Set("X-Content-Type-Options", "nosniff");
  // Everything comes from this server: injected markup (a log line, a test
  // message) could not load or run anything from elsewhere.
  response.headers.Set("Content-Security-Policy",
                       "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                       "frame-ancestors 'none'");
  if (ETagMatches(request, asset->etag)) {
    response.status = 304;
    return response;
  }
  response.headers.Set("Content-Type", std::string(asset->content_type));
  response.body = std::string(asset->body);
  return response;
}

}  // namespace tauon::server
