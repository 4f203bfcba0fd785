#include "logs/masker.h"

#include <algorithm>

#include "util/strings.h"

namespace tauon::logs {
namespace {

constexpr std::string_view kMask = "***";

void AddPattern(std::vector<std::string>* patterns, std::string_view pattern) {
  if (pattern.empty()) return;
  if (std::find(patterns->begin(), patterns->end(), pattern) == patterns->end()) {
    patterns->emplace_back(pattern);
  }
}

}  // namespace

SecretMasker::SecretMasker(const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    std::string_view value = Trim(secret);
    if (value.empty()) continue;
    std::vector<std::string> forms = {std::string(value)};
    if (value.find('\n') != std::string_view::npos) {
      for (const std::string& line : Split(value, '\n')) {
        std::string_view trimmed = Trim(line);
        if (!trimmed.empty()) forms.emplace_back(trimmed);
      }
    }
    for (const std::string& form : forms) {
      AddPattern(&patterns_, form);
      std::string encoded = Base64Encode(form);
      AddPattern(&patterns_, encoded);
      // Without padding, as it appears inside longer base64 text.
      AddPattern(&patterns_, std::string_view(encoded).substr(0, encoded.find('=')));
    }
  }
  for (const std::string& p : patterns_) longest_ = std::max(longest_, p.size());
}

std::vector<bool> SecretMasker::Coverage(std::string_view text) const {
  std::vector<bool> covered(text.size(), false);
  for (const std::string& pattern : patterns_) {
    for (size_t at = text.find(pattern); at != std::string_view::npos;
         at = text.find(pattern, at + 1)) {
      std::fill(covered.begin() + static_cast<std::ptrdiff_t>(at),
                covered.begin() + static_cast<std::ptrdiff_t>(at + pattern.size()), true);
    }
  }
  return covered;
}

std::string SecretMasker::Mask(std::string_view text) const {
  if (patterns_.empty()) return std::string(text);
  std::vector<bool> covered = Coverage(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (!covered[i]) {
      out += text[i];
    } else if (i == 0 || !covered[i - 1]) {
      out += kMask;
    }
  }
  return out;
}

std::string MaskedLineBuffer::MaskText(std::string_view text) const {
  return masker_ ? masker_->Mask(text) : std::string(text);
}

std::string MaskedLineBuffer::Feed(std::string_view chunk) {
  pending_.append(chunk);
  std::string out;
  size_t end = pending_.rfind('\n');
  if (end != std::string::npos) {
    out = MaskText(std::string_view(pending_).substr(0, end + 1));
    pending_.erase(0, end + 1);
  }
  if (pending_.size() > kMaxLine) {
    // Emit most of the overlong line, keeping back enough bytes that a secret
    // starting in the kept part is still seen whole, and never cutting
    // through an occurrence.
    size_t keep = masker_ ? masker_->longest() : 0;
    size_t cut = pending_.size() - std::min(pending_.size(), keep > 0 ? keep - 1 : 0);
    if (masker_ && !masker_->empty()) {
      std::vector<bool> covered = masker_->Coverage(pending_);
      while (cut > 0 && cut < covered.size() && covered[cut] && covered[cut - 1]) --cut;
    }
    if (cut > 0) {
      out += MaskText(std::string_view(pending_).substr(0, cut));
      out += '\n';
      pending_.erase(0, cut);
    }
  }
  return out;
}

std::string MaskedLineBuffer::Finish() {
  if (pending_.empty()) return {};
  std::string out = MaskText(pending_) + "\n";
  pending_.clear();
  return out;
}

}  // namespace tauon::logs
