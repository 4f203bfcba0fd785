// Micro-benchmarks of the paths every run takes: parsing and planning a
// large pipeline, masking output, evaluating conditions.
#include <benchmark/benchmark.h>

#include "engine/plan.h"
#include "logs/masker.h"
#include "spec/parser.h"

namespace tauon {
namespace {

// The layered DAG of bench/dag_bench.py: `layers` layers of `width` jobs,
// each needing the whole previous layer.
std::string LayeredPipeline(int layers, int width) {
  std::string yaml = "jobs:\n";
  for (int layer = 0; layer < layers; ++layer) {
    for (int i = 0; i < width; ++i) {
      yaml += fmt::format("  j{}_{}:\n", layer, i);
      if (layer > 0) {
        yaml += "    needs: [";
        for (int k = 0; k < width; ++k) yaml += fmt::format("{}j{}_{}", k ? ", " : "", layer - 1, k);
        yaml += "]\n";
      }
      yaml += "    steps: [ { run: 'true' } ]\n";
    }
  }
  return yaml;
}

void BM_ParsePipeline(benchmark::State& state) {
  const std::string yaml = LayeredPipeline(static_cast<int>(state.range(0)) / 10, 10);
  for (auto _ : state) {
    auto pipeline = spec::ParsePipeline(yaml);
    benchmark::DoNotOptimize(pipeline);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * yaml.size()));
}
BENCHMARK(BM_ParsePipeline)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_BuildPlan(benchmark::State& state) {
  auto pipeline = spec::ParsePipeline(LayeredPipeline(static_cast<int>(state.range(0)) / 10, 10));
  for (auto _ : state) {
    Result<engine::Plan> plan = engine::BuildPlan(*pipeline);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_BuildPlan)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_MaskOutput(benchmark::State& state) {
  std::vector<std::string> secrets;
  for (int i = 0; i < state.range(0); ++i) secrets.push_back(fmt::format("secret-value-{:04}", i));
  logs::SecretMasker masker(secrets);
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += "epoch 3/10 loss=0.1234 acc=0.9876 lr=0.001 step 1234\n";
  for (auto _ : state) {
    logs::MaskedLineBuffer lines(&masker);
    benchmark::DoNotOptimize(lines.Feed(chunk));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_MaskOutput)->Arg(0)->Arg(1)->Arg(10);

void BM_EvaluateGate(benchmark::State& state) {
  auto expression = spec::Expression::Parse("accuracy >= baseline.accuracy - 0.005 and f1.3 > 0.9");
  class Metrics final : public spec::Scope {
   public:
    std::optional<spec::Value> Lookup(std::string_view name) const override {
      if (name == "accuracy") return spec::Value(0.97);
      if (name == "baseline.accuracy") return spec::Value(0.96);
      if (name == "f1.3") return spec::Value(0.95);
      return std::nullopt;
    }
  } metrics;
  for (auto _ : state) benchmark::DoNotOptimize(expression->Evaluate(metrics));
}
BENCHMARK(BM_EvaluateGate);

}  // namespace
}  // namespace tauon

BENCHMARK_MAIN();
