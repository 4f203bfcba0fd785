#include "runs/layout.h"

#include <cctype>

namespace tauon::runs {

std::string DataLayout::JobDirectory(size_t position, const std::string& job) {
  std::string out = std::to_string(position) + "-";
  for (char c : job) {
    bool safe = isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                c == '=';
    out += safe ? c : '_';
  }
  return out;
}

}  // namespace tauon::runs
