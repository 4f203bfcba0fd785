// Serves the dashboard (a single-page app, docs/dashboard.md) from the
// assets compiled into the binary. Registered as the HTTP server's fallback,
// so the API's routes always win.
#pragma once

#include <span>

#include "http/http.h"
#include "server/web_assets.h"

namespace tauon::server {

// Answers GET and HEAD requests for the dashboard:
// - an asset's path: the asset, with its content type and ETag (304 when
//   If-None-Match has it); `/` is /index.html;
// - any other path outside /api/ that is a client-side route (under /runs/
//   or /models/, or without a file extension): /index.html, for the app to
//   route;
// - the rest (/api/..., /missing.js): 404 JSON, like unknown API paths,
//   whatever the method;
// - other methods on the dashboard's paths: 405 with `Allow: GET, HEAD`.
// The assets need no token: they hold no data. The app asks for the token
// and sends it with each API call.
http::Response ServeDashboard(const http::Request& request,
                              std::span<const WebAsset> assets = WebAssets());

}  // namespace tauon::server
