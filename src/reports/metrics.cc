#include "reports/metrics.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tauon::reports {
namespace {

using nlohmann::json;

constexpr std::string_view kBaseline = "baseline.";

Status Flatten(const json& value, const std::string& prefix, Metrics* out) {
  if (value.is_object()) {
    if (value.empty() && !prefix.empty()) return Fail("metric '{}' is an empty object", prefix);
    for (const auto& [key, child] : value.items()) {
      if (key.empty() || key.find('.') != std::string::npos) {
        return Fail("metric name '{}' must be non-empty and without dots (nest objects instead)",
                    prefix.empty() ? key : prefix + "." + key);
      }
      if (Status ok = Flatten(child, prefix.empty() ? key : prefix + "." + key, out); !ok) {
        return ok;
      }
    }
    return Ok();
  }
  if (value.is_number()) {
    double number = value.get<double>();
    if (!std::isfinite(number)) return Fail("metric '{}' is not a finite number", prefix);
    (*out)[prefix] = number;
    return Ok();
  }
  const char* kind = value.is_string()    ? "a string"
                     : value.is_boolean() ? "a boolean"
                     : value.is_null()    ? "null"
                     : value.is_array()   ? "a list"
                                          : "not a number";
  return Fail("metric '{}' must be a number, got {}", prefix, kind);
}

// Reads metrics and, for `baseline.` names, the baseline; records what it read.
class GateScope final : public spec::Scope {
 public:
  GateScope(const Metrics& metrics, const std::optional<Metrics>& baseline,
            std::map<std::string, double>* used)
      : metrics_(metrics), baseline_(baseline), used_(used) {}

  std::optional<spec::Value> Lookup(std::string_view name) const override {
    const Metrics* source = &metrics_;
    std::string_view key = name;
    if (name.starts_with(kBaseline)) {
      if (!baseline_) return std::nullopt;
      source = &*baseline_;
      key.remove_prefix(kBaseline.size());
    }
    auto it = source->find(std::string(key));
    if (it == source->end()) return std::nullopt;
    (*used_)[std::string(name)] = it->second;
    return spec::Value(it->second);
  }

 private:
  const Metrics& metrics_;
  const std::optional<Metrics>& baseline_;
  std::map<std::string, double>* used_;
};

}  // namespace

Result<Metrics> ParseMetrics(std::string_view text) {
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::exception& e) {  // Parse errors, and numbers too large (out_of_range).
    std::string what = e.what();
    size_t tag_end = what.find("] ");  // "[json.exception.parse_error.101] parse error at ..."
    return Fail("malformed JSON: {}",
                tag_end == std::string::npos ? what : what.substr(tag_end + 2));
  }
  if (!parsed.is_object()) return Fail("expected a JSON object of numbers");
  Metrics metrics;
  if (Status ok = Flatten(parsed, "", &metrics); !ok) return std::unexpected(ok.error());
  return metrics;
}

std::vector<GateResult> EvaluateGates(const std::vector<spec::Condition>& gates,
                                      const Metrics& metrics,
                                      const std::optional<Metrics>& baseline) {
  std::vector<GateResult> results;
  for (const spec::Condition& gate : gates) {
    GateResult result;
    result.expression = gate.expression.text();
    bool needs_baseline = false;
    for (const spec::Expression::Reference& name : gate.expression.names()) {
      needs_baseline = needs_baseline || name.name.starts_with(kBaseline);
    }
    if (needs_baseline && !baseline) {
      result.verdict = "skipped";
      result.message = "skipped: no baseline";
      results.push_back(std::move(result));
      continue;
    }
    // Every name must exist: say which one is missing, and where.
    for (const spec::Expression::Reference& name : gate.expression.names()) {
      if (!result.message.empty()) break;
      if (name.name.starts_with(kBaseline)) {
        std::string key = name.name.substr(kBaseline.size());
        if (!baseline->contains(key)) {
          result.message = fmt::format("the baseline has no metric '{}'", key);
        }
      } else if (!metrics.contains(name.name)) {
        result.message = fmt::format("no metric '{}' in the metrics file", name.name);
      }
    }
    if (!result.message.empty()) {
      result.verdict = "error";
      results.push_back(std::move(result));
      continue;
    }
    GateScope scope(metrics, baseline, &result.values);
    std::expected<spec::Value, spec::ExprError> value = gate.expression.Evaluate(scope);
    if (!value) {
      result.verdict = "error";
      result.message = value.error().message;
    } else if (!value->is_bool()) {
      result.verdict = "error";
      result.message = fmt::format("a gate must be true or false, got {}", value->ToString());
    } else {
      result.verdict = value->as_bool() ? "pass" : "fail";
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::string FormatMetric(double value) { return fmt::format("{:.6g}", value); }

std::string RenderGates(const std::vector<GateResult>& results) {
  size_t gate_width = 4, values_width = 6;
  std::vector<std::string> values;
  for (const GateResult& result : results) {
    std::string text;
    for (const auto& [name, value] : result.values) {
      text += fmt::format("{}{}={}", text.empty() ? "" : " ", name, FormatMetric(value));
    }
    values.push_back(text);
    gate_width = std::max(gate_width, result.expression.size());
    values_width = std::max(values_width, text.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {}\n", "GATE", gate_width, "VALUES",
                                values_width, "RESULT");
  for (size_t i = 0; i < results.size(); ++i) {
    const GateResult& result = results[i];
    std::string verdict = result.verdict;
    if (!result.message.empty() && result.verdict != "skipped") verdict += ": " + result.message;
    if (result.verdict == "skipped") verdict = result.message;
    out += fmt::format("{:<{}}  {:<{}}  {}\n", result.expression, gate_width, values[i],
                       values_width, verdict);
  }
  return out;
}

}  // namespace tauon::reports
