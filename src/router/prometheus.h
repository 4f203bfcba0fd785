// Prometheus text exposition (format 0.0.4) of routers' statistics.
#pragma once

#include <string>
#include <vector>

#include "router/stats.h"

namespace tauon::router {

// The metrics of every router in `snapshots` (one per environment), each
// family's HELP and TYPE once. Passes `promtool check metrics`. The families
// are documented in docs/router.md ("Metrics").
std::string PrometheusText(const std::vector<Snapshot>& snapshots);

// A label value escaped for the text format: backslash, quote, newline.
std::string EscapeLabelValue(std::string_view value);

}  // namespace tauon::router
