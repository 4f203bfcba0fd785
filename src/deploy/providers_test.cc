// analysis.providers: the Prometheus answer's shapes, commands and queries
// run for real (a child process, a loopback HTTP server), and how their
// results make an interval's verdict.
#include "deploy/providers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "deploy/analysis.h"
#include "http/server.h"
#include "spec/parser.h"

namespace tauon::deploy {
namespace {

namespace fs = std::filesystem;

// Polls `run` until it is done (bounded: 10 s).
std::vector<ProviderResult> Await(const ProviderRun& run) {
  for (int i = 0; i < 1000 && !run.done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(run.done());
  return run.done() ? run.results() : std::vector<ProviderResult>{};
}

spec::AnalysisProvider Command(std::string name, std::string run) {
  spec::AnalysisProvider provider;
  provider.kind = spec::AnalysisProvider::Kind::kCommand;
  provider.name = std::move(name);
  provider.run = std::move(run);
  return provider;
}

spec::AnalysisProvider Prometheus(std::string name, std::string url, std::string query) {
  spec::AnalysisProvider provider;
  provider.kind = spec::AnalysisProvider::Kind::kPrometheus;
  provider.name = std::move(name);
  provider.url = std::move(url);
  provider.query = std::move(query);
  return provider;
}

std::string Error(int status, std::string_view body) {
  Result<double> value = ParsePrometheusAnswer(status, body);
  return value ? "no error" : value.error().message;
}

TEST(PrometheusAnswerTest, ScalarOrOneSeries) {
  EXPECT_EQ(
      ParsePrometheusAnswer(
          200, R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"0.25"]}})"),
      0.25);
  EXPECT_EQ(ParsePrometheusAnswer(200, R"({"status":"success","data":{"resultType":"vector",
      "result":[{"metric":{"release":"canary"},"value":[1700000000.1,"3"]}]}})"),
            3.0);
  EXPECT_EQ(Error(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})"),
            "the query returned no series (nothing matched, or no data yet)");
  EXPECT_EQ(Error(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}})"),
            "the query returned 2 series, expected one (aggregate them, e.g. with sum())");
  EXPECT_EQ(Error(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})"),
            "the query returned a matrix, expected a scalar or a one-series vector");
  EXPECT_EQ(Error(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}})"),
            "the query's value is NaN (e.g. a ratio of rates without traffic)");
  EXPECT_EQ(Error(400, R"({"status":"error","errorType":"bad_data",
      "error":"1:6: parse error: unexpected end of input"})"),
            "Prometheus answered 400: 1:6: parse error: unexpected end of input");
  EXPECT_EQ(Error(404, "404 page not found"),
            "Prometheus answered 404 without a JSON object (is the URL a Prometheus server?)");
}

class ProviderRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tauon-providers-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "logs");
    context_.cwd = dir_;
    context_.log_dir = dir_ / "logs";
    context_.default_timeout = Duration(5000);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  ProviderContext context_;
};

TEST_F(ProviderRunTest, CommandPrintsJsonMetrics) {
  std::ofstream(dir_ / "sample.txt") << "0.75";
  std::vector<spec::AnalysisProvider> providers = {
      // Runs in the context's directory, with its variables; stderr goes to the log.
      Command("quality",
              "echo 'some noise' >&2; printf '{\"accuracy\": %s, \"latency\": {\"p95\": 12}, "
              "\"url_ok\": %s}' \"$(cat sample.txt)\" "
              "\"$([ \"$TAUON_CANARY_URL\" = http://127.0.0.1:1234 ] && echo 1 || echo 0)\""),
      Command("", "echo '{\"hits\": 3}'"),
  };
  context_.env = {{"TAUON_CANARY_URL", "http://127.0.0.1:1234"}};
  ProviderRun run(providers, context_);
  std::vector<ProviderResult> results = Await(run);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].error, "");
  EXPECT_EQ(results[0].values,
            (reports::Metrics{
                {"quality.accuracy", 0.75}, {"quality.latency.p95", 12}, {"quality.url_ok", 1}}));
  EXPECT_EQ(results[0].provider, &providers[0]);
  EXPECT_EQ(results[1].values, (reports::Metrics{{"hits", 3}}));
  std::ifstream log(dir_ / "logs" / "provider-quality.log");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "some noise");
  EXPECT_TRUE(fs::exists(dir_ / "logs" / "provider-command-2.log"));
}

TEST_F(ProviderRunTest, CommandErrors) {
  std::vector<spec::AnalysisProvider> providers = {
      Command("exits", "echo '{\"a\": 1}'; exit 3"), Command("nothing", "true"),
      Command("text", "echo accuracy=0.9"),          Command("strings", "echo '{\"a\": \"high\"}'"),
      Command("", "echo '{\"error_rate\": 0}'"),     Command("slow", "sleep 30"),
  };
  providers[5].timeout = Duration(200);
  ProviderRun run(providers, context_);
  std::vector<ProviderResult> results = Await(run);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].error, "failed with exit code 3");
  EXPECT_EQ(results[1].error, "printed nothing: expected a JSON object of numbers on stdout");
  EXPECT_TRUE(results[2].error.starts_with("printed no JSON object of numbers: malformed JSON: "))
      << results[2].error;
  EXPECT_EQ(results[3].error,
            "printed no JSON object of numbers: metric 'a' must be a number, got a string");
  EXPECT_EQ(results[4].error,
            "printed 'error_rate', a name of the router's metrics: give the provider a 'name'");
  EXPECT_EQ(results[5].error, "timed out after 200ms");
  for (const ProviderResult& result : results) EXPECT_TRUE(result.values.empty());
  EXPECT_LT(results[5].took, Duration(5000));
}

TEST_F(ProviderRunTest, DestroyingARunStopsItsCommands) {
  std::vector<spec::AnalysisProvider> providers = {Command("slow", "sleep 30")};
  const auto start = std::chrono::steady_clock::now();
  {
    ProviderRun run(providers, context_);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(run.done());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ProviderRunTest, OnDoneIsCalledOnceWhenTheLastProviderEnds) {
  std::vector<spec::AnalysisProvider> providers = {Command("fast", "echo '{\"a\": 1}'"),
                                                   Command("later", "sleep 0.2; echo '{\"b\": 2}'")};
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  bool done_when_called = false;
  ProviderRun* watched = nullptr;
  context_.on_done = [&] {
    std::lock_guard lock(mu);
    ++calls;
    done_when_called = watched && watched->done();
    cv.notify_all();
  };
  {
    std::unique_lock lock(mu);
    ProviderRun run(providers, context_);
    watched = &run;
    // Woken by on_done, not by polling.
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return calls > 0; }));
    EXPECT_TRUE(done_when_called);
    EXPECT_EQ(run.results()[1].values, (reports::Metrics{{"later.b", 2}}));
    lock.unlock();
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(ProviderRunTest, OnDoneIsNotCalledAfterTheRunIsDestroyed) {
  std::vector<spec::AnalysisProvider> providers = {Command("slow", "sleep 30")};
  std::atomic<int> calls{0};
  context_.on_done = [&] { ++calls; };
  {
    ProviderRun run(providers, context_);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(ProviderRunTest, PrometheusQueryThroughTheHttpApi) {
  http::Server server;
  std::string seen_query;
  server.Route("GET", "/prom/api/v1/query", [&](const http::Request& request) {
    seen_query = request.query.count("query") ? request.query.at("query") : "";
    if (seen_query == "bad(") {
      return http::Response::Json(
          400, {{"status", "error"}, {"errorType", "bad_data"}, {"error", "parse error"}});
    }
    return http::Response::Json(
        200, {{"status", "success"},
              {"data",
               {{"resultType", "vector"},
                {"result", {{{"metric", nlohmann::json::object()}, {"value", {1.0, "0.125"}}}}}}}});
  });
  Result<int> port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/prom/";
  const std::string query =
      R"(sum(rate(tauon_router_requests_total{release="canary",code="5xx"}[5s])) / 2)";
  std::vector<spec::AnalysisProvider> providers = {
      Prometheus("canary_5xx", url, query),
      Prometheus("bad", url, "bad("),
      Prometheus("down", "http://127.0.0.1:1", "up"),
  };
  ProviderRun run(providers, context_);
  std::vector<ProviderResult> results = Await(run);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].error, "");
  EXPECT_EQ(results[0].values, (reports::Metrics{{"canary_5xx", 0.125}}));
  EXPECT_EQ(results[1].error, "Prometheus answered 400: parse error");
  EXPECT_TRUE(results[2].error.starts_with("cannot query Prometheus at 127.0.0.1:1: "))
      << results[2].error;
  server.Stop();
}

// The verdicts an interval gets from its providers' results.
class ProviderVerdictTest : public ::testing::Test {
 protected:
  spec::AnalysisSpec Spec(const std::string& analysis) {
    auto pipeline = spec::ParsePipeline(
        "jobs: { a: { steps: [ { run: x } ] } }\n"
        "deploy:\n"
        "  serve: { command: ./serve }\n"
        "  environments:\n"
        "    production:\n"
        "      strategy:\n"
        "        canary:\n"
        "          steps: [ { weight: 10 } ]\n"
        "          analysis:\n" +
        analysis);
    EXPECT_TRUE(pipeline) << (pipeline ? "" : pipeline.error().front().message);
    return pipeline ? pipeline->deploy->environments[0].canary->analysis : spec::AnalysisSpec{};
  }

  static ProviderResult Measured(const spec::AnalysisProvider& provider, reports::Metrics values,
                                 std::string error = "") {
    ProviderResult result;
    result.provider = &provider;
    result.values = std::move(values);
    result.error = std::move(error);
    return result;
  }

  ReleaseInterval Traffic(uint64_t requests) {
    ReleaseInterval interval;
    interval.stats.requests = requests;
    return interval;
  }
};

TEST_F(ProviderVerdictTest, ProviderValuesAreReadByChecks) {
  spec::AnalysisSpec spec = Spec(
      "            min_requests: 0\n"
      "            checks: [ error_rate < 0.1, quality.accuracy >= 0.9 ]\n"
      "            providers:\n"
      "              - command: { name: quality, run: ./eval }\n"
      "              - prometheus: { name: p95, url: 'http://127.0.0.1:9090', query: x,"
      " check: p95 < 0.5 }\n");
  ASSERT_EQ(spec.providers.size(), 2u);
  IntervalVerdict verdict = Analyze(spec, Traffic(0), Traffic(0),
                                    {Measured(spec.providers[0], {{"quality.accuracy", 0.95}}),
                                     Measured(spec.providers[1], {{"p95", 0.2}})});
  EXPECT_EQ(verdict.verdict, "pass") << verdict.reason;
  ASSERT_EQ(verdict.checks.size(), 3u);
  EXPECT_EQ(verdict.checks[2].expression, "p95 < 0.5");
  ASSERT_EQ(verdict.providers.size(), 2u);
  EXPECT_EQ(verdict.providers[0].expression, "command 'quality'");
  EXPECT_EQ(verdict.providers[0].verdict, "ok");

  verdict = Analyze(spec, Traffic(0), Traffic(0),
                    {Measured(spec.providers[0], {{"quality.accuracy", 0.5}}),
                     Measured(spec.providers[1], {{"p95", 0.2}})});
  EXPECT_EQ(verdict.verdict, "fail");
  EXPECT_EQ(verdict.reason, "quality.accuracy >= 0.9 (quality.accuracy=0.5)");

  verdict = Analyze(spec, Traffic(0), Traffic(0),
                    {Measured(spec.providers[0], {{"quality.accuracy", 0.95}}),
                     Measured(spec.providers[1], {{"p95", 0.7}})});
  EXPECT_EQ(verdict.verdict, "fail");
  EXPECT_EQ(verdict.reason, "p95 < 0.5 (p95=0.7)");

  // A provider that fails: inconclusive, saying which and why.
  verdict = Analyze(spec, Traffic(0), Traffic(0),
                    {Measured(spec.providers[0], {}, "timed out after 5s"),
                     Measured(spec.providers[1], {{"p95", 0.2}})});
  EXPECT_EQ(verdict.verdict, "inconclusive");
  EXPECT_EQ(verdict.reason, "command 'quality': timed out after 5s");
  EXPECT_EQ(verdict.providers[0].verdict, "error");
  EXPECT_EQ(verdict.providers[0].message, "timed out after 5s");
  // ... unless a check that could be evaluated is false.
  verdict = Analyze(spec, Traffic(0), Traffic(0),
                    {Measured(spec.providers[0], {}, "timed out after 5s"),
                     Measured(spec.providers[1], {{"p95", 0.9}})});
  EXPECT_EQ(verdict.verdict, "fail");
  EXPECT_EQ(verdict.reason, "p95 < 0.5 (p95=0.9)");
}

TEST_F(ProviderVerdictTest, OnErrorFail) {
  spec::AnalysisSpec spec = Spec(
      "            min_requests: 5\n"
      "            providers:\n"
      "              - command: { run: ./eval }\n"
      "              - command: { name: strict, run: ./eval, on_error: fail }\n");
  ASSERT_EQ(spec.providers.size(), 2u);
  EXPECT_TRUE(spec.providers[1].fail_on_error);
  IntervalVerdict verdict = Analyze(spec, Traffic(10), Traffic(10),
                                    {Measured(spec.providers[0], {}, "failed with exit code 1"),
                                     Measured(spec.providers[1], {}, "failed with exit code 2")});
  EXPECT_EQ(verdict.verdict, "fail");
  EXPECT_EQ(verdict.reason, "command 'strict': failed with exit code 2");
  // Too few canary requests comes first, as without providers.
  verdict = Analyze(spec, Traffic(10), Traffic(2),
                    {Measured(spec.providers[0], {}), Measured(spec.providers[1], {}, "boom")});
  EXPECT_EQ(verdict.verdict, "inconclusive");
  EXPECT_EQ(verdict.reason, "2 canary requests (fewer than min_requests 5)");
}

}  // namespace
}  // namespace tauon::deploy
