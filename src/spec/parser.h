// Parsing and validation of `.tauon.yml`.
#pragma once

#include <expected>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/pipeline.h"

namespace tauon::spec {

// Parses and validates a pipeline file. On failure returns every error found
// (not only the first), each with its location, sorted by position. A YAML
// syntax error stops parsing and is the only error reported.
std::expected<Pipeline, std::vector<Diagnostic>> ParsePipeline(std::string_view source);

// The name of a step without one: the first line of its command, shortened.
std::string DefaultStepName(std::string_view run);

// Names and functions an `if:` condition may use.
inline constexpr std::string_view kConditionNames[] = {"branch", "event", "commit"};
inline constexpr std::string_view kConditionFunctions[] = {"success", "failure", "always"};

}  // namespace tauon::spec
