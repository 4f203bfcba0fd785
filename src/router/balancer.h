// Deterministic traffic splitting: which release a request goes to.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tauon::router {

// Smooth weighted round robin (the algorithm of nginx's upstream module):
// every pick adds each weight to its entry's credit and takes the entry with
// the most credit, which then pays the total. Over any run of sum(weights)
// picks each entry is chosen exactly `weight` times, and the picks are
// interleaved (90:10 gives nine picks, one pick, ...), so a split is exact
// after a few hundred requests rather than on average, and tests can check it.
// Ties go to the lower index.
class WeightedPicker {
 public:
  WeightedPicker() = default;
  explicit WeightedPicker(const std::vector<uint32_t>& weights);
  // The index of the next pick, or -1 when every weight is 0.
  int Next();

 private:
  std::vector<int64_t> weights_;
  std::vector<int64_t> credit_;
  int64_t total_ = 0;
};

// 64-bit FNV-1a followed by a finalizer (splitmix64): a stable hash, the same
// in every process and release, for sticky keys.
uint64_t StableHash(std::string_view key);

// The entry a sticky key maps to: its hash, scaled to [0, sum(weights)), falls
// in one entry's share of the weight line, so a population of keys splits in
// proportion to the weights, and a key keeps its entry while weights stand
// still. -1 when every weight is 0.
int PickByKey(const std::vector<uint32_t>& weights, std::string_view key);

// Picks exactly `percent`% of calls, spread evenly (an error-diffusion
// counter): with 10%, calls 10, 20, 30, ... are picked.
class PercentSampler {
 public:
  explicit PercentSampler(double percent = 0);
  bool Next();

 private:
  double percent_;
  double credit_ = 0;
};

}  // namespace tauon::router
