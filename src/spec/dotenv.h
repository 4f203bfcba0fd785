// Dotenv files (`--secrets FILE`): KEY=VALUE lines.
//
//   # comment
//   API_TOKEN=abc123
//   export DB_PASSWORD='p@ss word'
//   CERT="line one\nline two"
//
// Single-quoted values are literal; double-quoted ones understand \n, \t, \"
// and \\. Unquoted values are trimmed and end at " #". Errors name the line
// and never include the value: print them without the source line.
#pragma once

#include <expected>
#include <string_view>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/pipeline.h"

namespace tauon::spec {

std::expected<EnvList, std::vector<Diagnostic>> ParseDotenv(std::string_view text);

}  // namespace tauon::spec
