// APFD (average percentage of faults detected) of a test order, as defined in
// ../shared/data/SOURCES.md: for a cycle of n tests of which m fail, the i-th
// failing test at 1-based position p_i,
//   APFD = 1 - (p_1 + ... + p_m) / (n m) + 1 / (2 n).
#pragma once

#include <optional>
#include <vector>

namespace tauon::history {

// APFD of `failed` taken in that order. nullopt when no test fails (APFD is
// undefined without a failure).
std::optional<double> Apfd(const std::vector<bool>& failed_in_order);

// APFD of ordering the tests by descending score, with ties counted at their
// expected position under a random tie-break: a group of e tied tests after
// h higher ones puts each of its failures at h + (e + 1) / 2 on average. This
// makes the figure independent of how a method breaks ties (a constant score
// scores like a random order, on average). nullopt when no test fails.
std::optional<double> ExpectedApfd(const std::vector<double>& scores,
                                   const std::vector<bool>& failed);

}  // namespace tauon::history
