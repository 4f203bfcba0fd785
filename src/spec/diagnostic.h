// Located errors in user-written files, printed the way compilers print them:
//
//   .tauon.yml:14:7: unknown key 'need' (did you mean 'needs'?)
//       need: [lint]
//       ^
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tauon::spec {

// 1-based line and column; 0 means unknown.
struct Location {
  int line = 0;
  int column = 0;
  bool operator==(const Location&) const = default;
};

struct Diagnostic {
  Location location;
  std::string message;
};

// "file:line:column: message", followed (when the line exists in `source`) by
// the source line and a caret under the column. Ends with a newline.
std::string FormatDiagnostic(std::string_view file, std::string_view source,
                             const Diagnostic& diagnostic);
std::string FormatDiagnostics(std::string_view file, std::string_view source,
                              const std::vector<Diagnostic>& diagnostics);

}  // namespace tauon::spec
