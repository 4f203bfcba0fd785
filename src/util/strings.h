// Small string functions shared by the modules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tauon {

// Edit distance between a and b, counting a swap of neighbours as one edit.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a likely typo
// (distance <= max(1, len/3)), else nullopt.
std::optional<std::string> SuggestClosest(std::string_view word,
                                          const std::vector<std::string>& candidates);

std::string_view Trim(std::string_view s);
std::vector<std::string> Split(std::string_view s, char separator);
bool StartsWith(std::string_view s, std::string_view prefix);

// Matches `text` against a glob pattern as used for branch filters: `*` matches
// any run of characters except '/', `**` matches anything including '/', `?`
// matches one character other than '/', `[abc]` a set. The whole text must match.
bool GlobMatch(std::string_view pattern, std::string_view text);

// "a, b and c" style joining for messages.
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

// Standard base64 with padding.
std::string Base64Encode(std::string_view data);

// Lowercase hex sha256 of `data`.
std::string Sha256Hex(std::string_view data);

// Quotes a string for a POSIX shell command line.
std::string ShellQuote(std::string_view s);

}  // namespace tauon
