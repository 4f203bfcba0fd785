// The dashboard's files, compiled into the binary. The definition is
// generated at build time by web/embed.cmake from web/src and the npm
// packages in web/node_modules.
#pragma once

#include <span>
#include <string_view>

namespace tauon::server {

struct WebAsset {
  std::string_view path;          // As served: "/index.html", "/vendor/uplot.esm.js".
  std::string_view content_type;  // "text/javascript; charset=utf-8", ...
  std::string_view etag;          // Quoted, from the content's SHA-256: "\"0123abcd...\"".
  std::string_view body;
};

// Every asset, sorted by path. Static storage: the views never dangle.
std::span<const WebAsset> WebAssets();

}  // namespace tauon::server
