#include "history/apfd.h"

#include <algorithm>
#include <numeric>

namespace tauon::history {

std::optional<double> Apfd(const std::vector<bool>& failed_in_order) {
  double n = static_cast<double>(failed_in_order.size());
  double m = 0, positions = 0;
  for (size_t i = 0; i < failed_in_order.size(); ++i) {
    if (failed_in_order[i]) {
      m += 1;
      positions += static_cast<double>(i + 1);
    }
  }
  if (m == 0) return std::nullopt;
  return 1 - positions / (n * m) + 1 / (2 * n);
}

std::optional<double> ExpectedApfd(const std::vector<double>& scores,
                                   const std::vector<bool>& failed) {
  size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double m = 0, positions = 0;
  for (size_t begin = 0; begin < n;) {
    size_t end = begin;
    double failures = 0;
    while (end < n && scores[order[end]] == scores[order[begin]]) {
      failures += failed[order[end]] ? 1 : 0;
      ++end;
    }
    positions += failures * (static_cast<double>(begin) + static_cast<double>(end - begin + 1) / 2);
    m += failures;
    begin = end;
  }
  if (m == 0) return std::nullopt;
  double dn = static_cast<double>(n);
  return 1 - positions / (dn * m) + 1 / (2 * dn);
}

}  // namespace tauon::history
