// Secret masking: every secret value, each line of a multi-line secret and
// their base64 forms are replaced with "***" before output is written
// anywhere or shown to anyone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tauon::logs {

class SecretMasker {
 public:
  SecretMasker() = default;
  explicit SecretMasker(const std::vector<std::string>& secrets);

  // `text` with every occurrence of a secret form replaced by "***";
  // overlapping and adjacent occurrences become one "***".
  std::string Mask(std::string_view text) const;
  // Length of the longest form masked, 0 if none.
  size_t longest() const { return longest_; }
  bool empty() const { return patterns_.empty(); }

 private:
  // For each byte of `text`, whether it belongs to an occurrence.
  std::vector<bool> Coverage(std::string_view text) const;
  friend class MaskedLineBuffer;

  std::vector<std::string> patterns_;
  size_t longest_ = 0;
};

// Turns a stream of output chunks into complete, masked lines. A secret split
// across chunks is still masked, because masking happens on whole lines; a
// line longer than kMaxLine is cut, but never inside a secret.
class MaskedLineBuffer {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;

  explicit MaskedLineBuffer(const SecretMasker* masker) : masker_(masker) {}

  // Appends raw output and returns what is complete: zero or more masked
  // lines, each ending in '\n'.
  std::string Feed(std::string_view chunk);
  // At end of stream: the masked remainder with a '\n' appended, or "".
  std::string Finish();

 private:
  std::string MaskText(std::string_view text) const;

  const SecretMasker* masker_;  // Not owned; may be null (nothing to mask).
  std::string pending_;         // The unfinished last line.
};

}  // namespace tauon::logs
