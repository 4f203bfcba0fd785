#include "server/web.h"

#include <gtest/gtest.h>

namespace tauon::server {
namespace {

const WebAsset kAssets[] = {
    {"/app.js", "text/javascript; charset=utf-8", "\"a1\"", "export {};"},
    {"/index.html", "text/html; charset=utf-8", "\"i1\"", "<!doctype html>"},
};

http::Response Get(std::string path, std::string method = "GET") {
  http::Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return ServeDashboard(request, kAssets);
}

TEST(DashboardTest, ServesAssetsWithTypeAndETag) {
  http::Response response = Get("/app.js");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "export {};");
  EXPECT_EQ(response.headers.Get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(response.headers.Get("ETag"), "\"a1\"");
  EXPECT_EQ(response.headers.Get("Cache-Control"), "no-cache");
  EXPECT_TRUE(response.headers.Get("Content-Security-Policy").has_value());
  EXPECT_EQ(Get("/").body, "<!doctype html>");
}

TEST(DashboardTest, ClientSideRoutesGetTheApp) {
  for (const char* path : {"/runs/42", "/models/digits-classifier", "/models/clf.v2/3", "/login",
                           "/runs", "/environments", "/environments/prod.eu"}) {
    http::Response response = Get(path);
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.body, "<!doctype html>") << path;
  }
}

TEST(DashboardTest, MissingFilesAndApiPathsAre404) {
  for (const char* path : {"/missing.js", "/api/v1/nope", "/api", "/vendor/x.css"}) {
    http::Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body, fmt::format("{{\"error\":\"not found: {}\"}}", path));
  }
}

TEST(DashboardTest, RevalidationAndMethods) {
  http::Request request;
  request.method = "GET";
  request.path = "/app.js";
  request.headers.Add("If-None-Match", "\"a1\"");
  http::Response cached = ServeDashboard(request, kAssets);
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.body, "");
  EXPECT_EQ(Get("/app.js", "HEAD").status, 200);
  http::Response post = Get("/runs/1", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.Get("Allow"), "GET, HEAD");
  EXPECT_EQ(Get("/api/v1/nope", "POST").status, 404);
  EXPECT_EQ(Get("/missing.js", "DELETE").status, 404);
}

TEST(DashboardTest, TheBinaryCarriesTheDashboardAndItsChartLibrary) {
  std::span<const WebAsset> assets = WebAssets();
  auto has = [&](std::string_view path) {
    return std::any_of(assets.begin(), assets.end(),
                       [&](const WebAsset& a) { return a.path == path && !a.body.empty(); });
  };
  EXPECT_TRUE(has("/index.html"));
  EXPECT_TRUE(has("/app.js"));
  EXPECT_TRUE(has("/vendor/uplot.esm.js"));
  EXPECT_TRUE(has("/vendor/uplot.min.css"));
}

}  // namespace
}  // namespace tauon::server
