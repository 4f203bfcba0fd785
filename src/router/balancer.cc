#include "router/balancer.h"

#include <algorithm>

namespace tauon::router {

WeightedPicker::WeightedPicker(const std::vector<uint32_t>& weights)
    : weights_(weights.begin(), weights.end()), credit_(weights.size(), 0) {
  for (int64_t w : weights_) total_ += w;
}

int WeightedPicker::Next() {
  if (total_ == 0) return -1;
  int best = -1;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] == 0) continue;
    credit_[i] += weights_[i];
    if (best < 0 || credit_[i] > credit_[best]) best = static_cast<int>(i);
  }
  credit_[best] -= total_;
  return best;
}

uint64_t StableHash(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

int PickByKey(const std::vector<uint32_t>& weights, std::string_view key) {
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  if (total == 0) return -1;
  // (hash * total) >> 64 maps the hash uniformly onto [0, total).
  uint64_t point =
      static_cast<uint64_t>((static_cast<unsigned __int128>(StableHash(key)) * total) >> 64);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (point < weights[i]) return static_cast<int>(i);
    point -= weights[i];
  }
  return -1;  // Unreachable.
}

PercentSampler::PercentSampler(double percent) : percent_(std::clamp(percent, 0.0, 100.0)) {}

bool PercentSampler::Next() {
  credit_ += percent_;
  if (credit_ >= 100.0 - 1e-9) {
    credit_ -= 100.0;
    return true;
  }
  return false;
}

}  // namespace tauon::router
