#include "spec/dotenv.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace tauon::spec {
namespace {

bool IsName(std::string_view s) {
  if (s.empty() || isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

std::expected<EnvList, std::vector<Diagnostic>> ParseDotenv(std::string_view text) {
  EnvList env;
  std::vector<Diagnostic> errors;
  std::vector<std::string> lines = Split(text, '\n');
  for (size_t n = 0; n < lines.size(); ++n) {
    const int line_number = static_cast<int>(n) + 1;
    std::string_view line = lines[n];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const int indent = static_cast<int>(line.find_first_not_of(" \t"));
    if (trimmed.starts_with("export ")) trimmed = Trim(trimmed.substr(7));
    size_t eq = trimmed.find('=');
    if (eq == std::string_view::npos) {
      errors.push_back({{line_number, indent + 1}, "expected KEY=VALUE"});
      continue;
    }
    std::string key(Trim(trimmed.substr(0, eq)));
    if (!IsName(key)) {
      // Not echoed: a line that is no KEY=VALUE may be part of a secret.
      errors.push_back({{line_number, indent + 1},
                        "invalid variable name before '=': use letters, digits and '_', not "
                        "starting with a digit"});
      continue;
    }
    std::string_view raw = Trim(trimmed.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw[0] == '\'' || raw[0] == '"')) {
      char quote = raw[0];
      size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
          char next = raw[++i];
          if (next == 'n') {
            value += '\n';
          } else if (next == 't') {
            value += '\t';
          } else if (next == '"' || next == '\\') {
            value += next;
          } else {
            value += {c, next};  // Not an escape: kept as written.
          }
        } else {
          value += c;
        }
      }
      std::string_view rest = closed ? Trim(raw.substr(i + 1)) : std::string_view();
      if (!closed) {
        errors.push_back({{line_number, indent + 1},
                          fmt::format("unterminated quoted value for '{}'", key)});
        continue;
      }
      if (!rest.empty() && rest[0] != '#') {
        errors.push_back({{line_number, indent + 1},
                          fmt::format("unexpected text after the quoted value of '{}'", key)});
        continue;
      }
    } else {
      size_t comment = raw.find(" #");
      value = std::string(Trim(raw.substr(0, comment)));
    }
    bool replaced = false;
    for (auto& [k, v] : env) {
      if (k == key) {
        v = value;
        replaced = true;
      }
    }
    if (!replaced) env.emplace_back(key, std::move(value));
  }
  if (!errors.empty()) return std::unexpected(std::move(errors));
  return env;
}

}  // namespace tauon::spec
