#include "spec/diagnostic.h"

#include <fmt/format.h>

#include <optional>

namespace tauon::spec {
namespace {

// Line `number` (1-based) of `source` without its newline, or nullopt.
std::optional<std::string_view> SourceLine(std::string_view source, int number) {
  size_t start = 0;
  for (int line = 1; line < number; ++line) {
    start = source.find('\n', start);
    if (start == std::string_view::npos) return std::nullopt;
    ++start;
  }
  if (start > source.size()) return std::nullopt;
  size_t end = source.find('\n', start);
  std::string_view line = source.substr(start, end == std::string_view::npos ? end : end - start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

std::string FormatDiagnostic(std::string_view file, std::string_view source,
                             const Diagnostic& diagnostic) {
  const Location& at = diagnostic.location;
  std::string out;
  if (at.line > 0) {
    out = fmt::format("{}:{}:{}: {}\n", file, at.line, at.column, diagnostic.message);
  } else {
    out = fmt::format("{}: {}\n", file, diagnostic.message);
  }
  if (at.line <= 0) return out;
  std::optional<std::string_view> line = SourceLine(source, at.line);
  if (!line || line->empty()) return out;
  out += fmt::format("    {}\n", *line);
  // Columns count bytes. Pad one space per character (not per byte of a
  // UTF-8 sequence), keeping tabs, so the caret lines up under the text.
  std::string pad;
  for (int i = 0; i + 1 < at.column && i < static_cast<int>(line->size()); ++i) {
    char c = (*line)[static_cast<size_t>(i)];
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) continue;
    pad += c == '\t' ? '\t' : ' ';
  }
  out += fmt::format("    {}^\n", pad);
  return out;
}

std::string FormatDiagnostics(std::string_view file, std::string_view source,
                              const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += FormatDiagnostic(file, source, d);
  return out;
}

}  // namespace tauon::spec
