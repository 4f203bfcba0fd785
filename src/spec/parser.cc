#include "spec/parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>

#include "spec/pipeline_parser.h"
#include "util/strings.h"

namespace tauon::spec {
namespace detail {

constexpr std::string_view kPipelineKeys[] = {"name", "on",    "env",   "concurrency",
                                              "jobs", "model", "deploy"};
constexpr std::string_view kOnKeys[] = {"push"};
constexpr std::string_view kPushKeys[] = {"branches"};
constexpr std::string_view kConcurrencyKeys[] = {"cancel_in_progress"};
constexpr std::string_view kJobKeys[] = {"needs",    "steps",    "env",       "timeout",
                                         "retry",    "matrix",   "services",  "artifacts",
                                         "reports",  "if",       "metrics",   "gates"};
constexpr std::string_view kStepKeys[] = {"name",    "run", "shell", "env",
                                          "timeout", "if",  "continue_on_error"};
constexpr std::string_view kServiceKeys[] = {"run", "readiness", "readiness_timeout",
                                             "readiness_interval", "env"};
constexpr std::string_view kReportKeys[] = {"junit", "quarantine"};
constexpr std::string_view kModelKeys[] = {"name", "path", "params"};

constexpr size_t kMaxMatrixExpansions = 256;
constexpr int kMaxRetry = 10;

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// For an escape sequence starting at s[0] == '\\' in a double-quoted scalar:
// how many source bytes it takes and how many non-blank value bytes it makes.
std::pair<size_t, size_t> DoubleQuotedEscape(std::string_view s) {
  if (s.size() < 2 || s[1] == '\n' || s[1] == '\r') return {1, 0};  // An escaped line break.
  const char kind = s[1];
  const size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : kind == 'U' ? 8 : 0;
  if (digits > 0) {
    uint32_t code = 0;
    size_t n = 2;
    for (; n < 2 + digits && n < s.size() && isxdigit(static_cast<unsigned char>(s[n])); ++n) {
      const unsigned char digit = static_cast<unsigned char>(s[n]);
      code = code * 16 + static_cast<uint32_t>(isdigit(digit) ? digit - '0'
                                                               : tolower(digit) - 'a' + 10);
    }
    if (code < 0x80) return {n, IsBlank(static_cast<char>(code)) ? 0 : 1};
    return {n, code < 0x800 ? 2 : code < 0x10000 ? 3 : 4};  // UTF-8 length.
  }
  if (std::string_view("ntr \t").contains(kind)) return {2, 0};
  if (kind == 'N' || kind == '_') return {2, 2};  // U+0085, U+00A0
  if (kind == 'L' || kind == 'P') return {2, 3};  // U+2028, U+2029
  return {2, 1};
}

bool IsSafeName(std::string_view s) {
  if (s.empty() || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar: {
      // One short line, so that the message stays on its "file:line:column:" line.
      std::string_view full = node.Scalar();
      while (full.ends_with('\n')) full.remove_suffix(1);  // A block scalar's last line break.
      std::string text(full.substr(0, full.find('\n')));
      if (text.size() > 40 || text.size() < full.size()) {
        size_t cut = std::min<size_t>(text.size(), 40);
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
        text = text.substr(0, cut) + "...";
      }
      // `"true"` or `"2"` is a string, not the boolean or number it reads as.
      if (node.Tag() == "!") return fmt::format("the string \"{}\"", text);
      return fmt::format("'{}'", text);
    }
    case YAML::NodeType::Sequence:
      return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
      return node.size() == 0 ? "an empty mapping" : "a mapping";
    default:
      return "an undefined value";
  }
}


bool PipelineParser::ForEachEntry(const YAML::Node& node, std::string_view what, Keys keys,
                                  const Visit& visit) {
  std::vector<std::string> candidates(keys.begin(), keys.end());
  return ForEachNamed(node, what, [&](const std::string& key, const YAML::Node& key_node,
                                      const YAML::Node& value) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      if (auto suggestion = SuggestClosest(key, candidates)) {
        Error(key_node, "unknown key '{}' in {} (did you mean '{}'?)", key, what, *suggestion);
      } else {
        Error(key_node, "unknown key '{}' in {} (expected one of: {})", key, what,
              Join(candidates, ", "));
      }
      return;
    }
    visit(key, key_node, value);
  });
}

bool PipelineParser::ForEachNamed(const YAML::Node& node, std::string_view what,
                                  const Visit& visit) {
  if (!node.IsMap()) {
    Error(node, "{} must be a mapping, got {}", what, KindName(node));
    return false;
  }
  std::map<std::string, Location> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // A copy: it->first lives in a temporary proxy.
    if (!key.IsScalar()) {
      // Unlike an empty value, an empty key (`: x`) is marked where it is: at its ':'.
      const YAML::Mark mark = key.Mark();
      Error(mark.line < 0 ? At(key) : Location{mark.line + 1, mark.column + 1},
            "keys in {} must be strings, got {}", what, KindName(key));
      continue;
    }
    const std::string& name = key.Scalar();
    auto [previous, inserted] = seen.emplace(name, At(key));
    if (!inserted) {
      Error(key, "duplicate key '{}' in {} (first given at line {})", name, what,
            previous->second.line);
      continue;
    }
    Location saved = fallback_;
    fallback_ = At(key);
    visit(name, key, it->second);
    fallback_ = saved;
  }
  return true;
}

std::optional<std::string> PipelineParser::String(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    Error(node, "{} must be a string, got {}", what, KindName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> PipelineParser::NonEmptyString(const YAML::Node& node,
                                                          std::string_view what) {
  std::optional<std::string> s = String(node, what);
  if (s && Trim(*s).empty()) {
    Error(node, "{} must not be empty", what);
    return std::nullopt;
  }
  return s;
}

std::optional<bool> PipelineParser::Bool(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar() && node.Tag() == "?") {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  Error(node, "{} must be true or false, got {}", what, KindName(node));
  return std::nullopt;
}

std::optional<int> PipelineParser::Int(const YAML::Node& node, std::string_view what, int min,
                                       int max) {
  if (node.IsScalar() && node.Tag() == "?" && !node.Scalar().empty() &&
      node.Scalar().size() < 10 &&
      std::all_of(node.Scalar().begin(), node.Scalar().end(),
                  [](char c) { return isdigit(static_cast<unsigned char>(c)); })) {
    int value = std::stoi(node.Scalar());
    if (value >= min && value <= max) return value;
  }
  Error(node, "{} must be a whole number from {} to {}, got {}", what, min, max, KindName(node));
  return std::nullopt;
}

std::optional<Duration> PipelineParser::DurationValue(const YAML::Node& node,
                                                      std::string_view what) {
  if (!node.IsScalar()) {
    Error(node, "{} must be a duration such as 30s or 15m, got {}", what, KindName(node));
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(node.Scalar());
  if (!d) {
    Error(node, "{}: {}", what, d.error().message);
    return std::nullopt;
  }
  if (d->count() <= 0) {
    Error(node, "{} must be longer than zero", what);
    return std::nullopt;
  }
  return *d;
}

std::vector<std::string> PipelineParser::StringList(const YAML::Node& node, std::string_view what,
                                                    std::vector<Location>* locations) {
  std::vector<std::string> out;
  auto add = [&](const YAML::Node& item) {
    if (std::optional<std::string> s = NonEmptyString(item, what)) {
      out.push_back(*s);
      if (locations) locations->push_back(At(item));
    }
  };
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) add(item);
  } else if (node.IsScalar()) {
    add(node);
  } else {
    Error(node, "{} must be a string or a list of strings, got {}", what, KindName(node));
  }
  return out;
}

EnvList PipelineParser::Env(const YAML::Node& node) {
  EnvList env;
  ForEachNamed(node, "env", [&](const std::string& key, const YAML::Node& key_node,
                                const YAML::Node& value) {
    if (!IsIdentifier(key)) {
      Error(key_node,
            "invalid environment variable name '{}': use letters, digits and '_', not starting "
            "with a digit",
            key);
      return;
    }
    if (key.starts_with("TAUON_")) {
      Error(key_node, "environment variable '{}' is reserved: names starting with TAUON_ are set "
                      "by Tauon", key);
      return;
    }
    if (!value.IsScalar()) {
      Error(value, "value of environment variable '{}' must be a string, number or boolean, got {}",
            key, KindName(value));
      return;
    }
    env.emplace_back(key, value.Scalar());
  });
  return env;
}

Location PipelineParser::LocationInScalar(const YAML::Node& node, size_t offset) const {
  const Location start = At(node);
  const YAML::Mark mark = node.Mark();
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= source_.size()) return start;
  const std::string& text = node.Scalar();
  offset = std::min(offset, text.size());
  // Folding, block indentation and quoting change how a value is written but
  // not its non-blank bytes: count those before `offset` in the value, then
  // walk the source to the same count. An offset at a token stops on the
  // token; one at a blank or the end stops just after the last counted byte.
  const size_t wanted = static_cast<size_t>(std::count_if(
      text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset),
      [](char c) { return !IsBlank(c); }));
  const bool at_token = offset < text.size() && !IsBlank(text[offset]);
  size_t pos = static_cast<size_t>(mark.pos);
  Location at = start;
  auto advance = [&] {
    if (source_[pos] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
    ++pos;
  };
  const char style = source_[pos];
  if (style == '|' || style == '>') {
    while (pos < source_.size() && source_[pos] != '\n') advance();  // The header line.
  } else if (style == '"' || style == '\'') {
    advance();
  }
  size_t seen = 0;
  while (pos < source_.size()) {
    const char c = source_[pos];
    if (seen == wanted && (!at_token || !IsBlank(c))) break;
    if (IsBlank(c)) {
      advance();
      continue;
    }
    size_t length = 1;
    size_t made = 1;  // Non-blank value bytes written by these `length` source bytes.
    if (style == '\'' && c == '\'') {
      if (pos + 1 >= source_.size() || source_[pos + 1] != '\'') break;  // The closing quote.
      length = 2;
    } else if (style == '"' && c == '"') {
      break;
    } else if (style == '"' && c == '\\') {
      auto [escape_length, escape_made] = DoubleQuotedEscape(source_.substr(pos));
      length = escape_length;
      made = escape_made;
    }
    if (seen + made > wanted) break;  // The offset is inside this escape.
    seen += made;
    for (size_t i = 0; i < length && pos < source_.size(); ++i) advance();
  }
  return at;
}

std::optional<Condition> PipelineParser::ParseExpression(const YAML::Node& node,
                                                         bool is_condition) {
  // `if: !success()` reads as a YAML tag "!success()" with an empty value.
  if (node.IsScalar() && node.Tag() != "?" && node.Tag() != "!") {
    std::string written = node.Tag() + (node.Scalar().empty() ? "" : " " + node.Scalar());
    Error(node, "'{}' is read as a YAML tag: quote the expression, e.g. \"{}\"", node.Tag(),
          written);
    return std::nullopt;
  }
  std::optional<std::string> text = String(node, is_condition ? "if" : "gate");
  if (!text) return std::nullopt;
  std::expected<Expression, ExprError> parsed = Expression::Parse(*text);
  if (!parsed) {
    Error(LocationInScalar(node, parsed.error().offset), "invalid expression: {}",
          parsed.error().message);
    return std::nullopt;
  }
  bool ok = true;
  if (is_condition) {
    std::vector<std::string> names(std::begin(kConditionNames), std::end(kConditionNames));
    for (const Expression::Reference& ref : parsed->names()) {
      if (std::find(names.begin(), names.end(), ref.name) != names.end()) continue;
      auto suggestion = SuggestClosest(ref.name, names);
      Error(LocationInScalar(node, ref.offset), "unknown name '{}' in condition ({})", ref.name,
            suggestion ? fmt::format("did you mean '{}'?", *suggestion)
                       : fmt::format("expected one of: {}", Join(names, ", ")));
      ok = false;
    }
  }
  std::vector<std::string> functions;
  if (is_condition) functions.assign(std::begin(kConditionFunctions), std::end(kConditionFunctions));
  for (const Expression::Reference& ref : parsed->calls()) {
    if (std::find(functions.begin(), functions.end(), ref.name) != functions.end()) continue;
    if (functions.empty()) {
      Error(LocationInScalar(node, ref.offset), "unknown function '{}': gates take no functions",
            ref.name);
    } else {
      Error(LocationInScalar(node, ref.offset), "unknown function '{}' (expected one of: {})",
            ref.name, Join(functions, "(), ") + "()");
    }
    ok = false;
  }
  if (!ok) return std::nullopt;
  return Condition{std::move(*parsed), At(node)};
}

void PipelineParser::CheckSubstitutions(const YAML::Node& node, const std::string& text,
                                        const Job& job) {
  size_t pos = 0;
  while ((pos = text.find("${{", pos)) != std::string::npos) {
    size_t end = text.find("}}", pos + 3);
    if (end == std::string::npos) {
      Error(LocationInScalar(node, pos), "unterminated '${{{{': expected '}}}}'");
      return;
    }
    std::string inner(Trim(std::string_view(text).substr(pos + 3, end - pos - 3)));
    if (!inner.starts_with("matrix.")) {
      Error(LocationInScalar(node, pos),
            "unsupported substitution '${{{{ {} }}}}': only ${{{{ matrix.KEY }}}} is supported "
            "(use $NAME for environment variables)",
            inner);
    } else {
      std::string key = inner.substr(7);
      std::vector<std::string> axes;
      for (const auto& [axis, values] : job.matrix) axes.push_back(axis);
      if (std::find(axes.begin(), axes.end(), key) == axes.end()) {
        if (axes.empty()) {
          Error(LocationInScalar(node, pos), "'matrix.{}' is used but job '{}' has no matrix", key,
                job.name);
        } else {
          auto suggestion = SuggestClosest(key, axes);
          Error(LocationInScalar(node, pos), "job '{}' has no matrix key '{}' ({})", job.name, key,
                suggestion ? fmt::format("did you mean '{}'?", *suggestion)
                           : fmt::format("its keys are: {}", Join(axes, ", ")));
        }
      }
    }
    pos = end + 2;
  }
}

std::optional<std::string> PipelineParser::RelativePath(const YAML::Node& node,
                                                        std::string_view what) {
  std::optional<std::string> path = NonEmptyString(node, what);
  if (!path) return std::nullopt;
  if (path->starts_with("/")) {
    Error(node, "{} '{}' must be relative to the workspace, not absolute", what, *path);
    return std::nullopt;
  }
  for (const std::string& part : Split(*path, '/')) {
    if (part == "..") {
      Error(node, "{} '{}' must stay inside the workspace: '..' is not allowed", what, *path);
      return std::nullopt;
    }
  }
  return path;
}

void PipelineParser::ParseOn(const YAML::Node& node, Pipeline* pipeline) {
  std::vector<std::string> events(std::begin(kOnKeys), std::end(kOnKeys));
  auto check_event = [&](const YAML::Node& event) {
    std::optional<std::string> name = String(event, "event");
    if (name && *name != "push") {
      auto suggestion = SuggestClosest(*name, events);
      Error(event, "unknown event '{}'{}", *name,
            suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : " (expected 'push')");
    }
  };
  if (node.IsScalar()) return check_event(node);
  if (node.IsSequence()) {
    for (const YAML::Node& event : node) check_event(event);
    return;
  }
  ForEachEntry(node, "'on'", kOnKeys, [&](const std::string&, const YAML::Node&,
                                          const YAML::Node& push) {
    if (push.IsNull()) return;
    ForEachEntry(push, "'on.push'", kPushKeys,
                 [&](const std::string&, const YAML::Node&, const YAML::Node& branches) {
                   pipeline->push_branches = StringList(branches, "branch pattern");
                 });
  });
}

Pipeline PipelineParser::Parse(const YAML::Node& root) {
  Pipeline pipeline;
  if (root.IsNull()) {
    Error(Location{1, 1}, "the pipeline file is empty: it needs at least 'jobs'");
    return pipeline;
  }
  bool has_jobs = false;
  bool is_map = ForEachEntry(root, "the pipeline", kPipelineKeys, [&](const std::string& key,
                                                                      const YAML::Node&,
                                                                      const YAML::Node& value) {
    if (key == "name") {
      if (auto s = NonEmptyString(value, "name")) pipeline.name = *s;
    } else if (key == "on") {
      ParseOn(value, &pipeline);
    } else if (key == "env") {
      pipeline.env = Env(value);
      for (auto it = value.begin(); value.IsMap() && it != value.end(); ++it) {
        if (it->second.IsScalar() && it->second.Scalar().find("${{") != std::string::npos) {
          Error(LocationInScalar(it->second, it->second.Scalar().find("${{")),
                "substitutions such as ${{{{ matrix.KEY }}}} work inside jobs only, not in the "
                "pipeline's env");
        }
      }
    } else if (key == "concurrency") {
      ForEachEntry(value, "'concurrency'", kConcurrencyKeys,
                   [&](const std::string&, const YAML::Node&, const YAML::Node& v) {
                     pipeline.cancel_in_progress = Bool(v, "cancel_in_progress").value_or(false);
                   });
    } else if (key == "jobs") {
      has_jobs = true;
      ForEachNamed(value, "'jobs'", [&](const std::string& name, const YAML::Node& key_node,
                                        const YAML::Node& job) {
        pipeline.jobs.push_back(ParseJob(name, key_node, job));
      });
      if (value.IsMap() && value.size() == 0) Error(value, "'jobs' must define at least one job");
    } else if (key == "model") {
      pipeline.model = ParseModel(value);
    } else if (key == "deploy") {
      pipeline.deploy = ParseDeploy(value);
    }
  });
  if (is_map && !has_jobs) Error(Location{1, 1}, "the pipeline has no 'jobs'");
  CheckNeeds(pipeline);
  return pipeline;
}

Job PipelineParser::ParseJob(const std::string& name, const YAML::Node& key,
                             const YAML::Node& node) {
  Job job;
  job.name = name;
  job.location = At(key);
  if (!IsSafeName(name)) {
    Error(key, "invalid job name '{}': use letters, digits, '_', '-' and '.'", name);
  }
  YAML::Node steps_node;  // Parsed after the matrix, whatever the key order.
  Location steps_key;
  bool has_steps = false;
  auto check_later = [&](const YAML::Node& value, const std::string& text) {
    pending_substitutions_.emplace_back(value, text);
  };
  ForEachEntry(node, fmt::format("job '{}'", name), kJobKeys, [&](const std::string& k,
                                                                  const YAML::Node& key_node,
                                                                  const YAML::Node& value) {
    if (k == "needs") {
      job.needs = StringList(value, "needs", &job.needs_locations);
    } else if (k == "steps") {
      has_steps = true;
      steps_node = value;
      steps_key = At(key_node);
    } else if (k == "env") {
      job.env = Env(value);
      CheckEnvSubstitutions(value);
    } else if (k == "timeout") {
      job.timeout = DurationValue(value, "timeout");
    } else if (k == "retry") {
      job.retry = Int(value, "retry", 0, kMaxRetry).value_or(0);
    } else if (k == "matrix") {
      ParseMatrix(value, &job);
    } else if (k == "services") {
      ForEachNamed(value, "'services'", [&](const std::string& service_name,
                                            const YAML::Node& service_key,
                                            const YAML::Node& service) {
        job.services.push_back(ParseService(service_name, service_key, service, job));
      });
    } else if (k == "artifacts") {
      if (value.IsSequence()) {
        for (const YAML::Node& item : value) {
          if (auto path = RelativePath(item, "artifact path")) {
            job.artifacts.push_back(*path);
            check_later(item, *path);
          }
        }
      } else if (auto path = RelativePath(value, "artifact path")) {
        job.artifacts.push_back(*path);
        check_later(value, *path);
      }
    } else if (k == "reports") {
      std::optional<YAML::Node> quarantine;
      ForEachEntry(value, "'reports'", kReportKeys,
                   [&](const std::string& report_key, const YAML::Node&, const YAML::Node& v) {
                     if (report_key == "quarantine") {
                       job.quarantine = Bool(v, "reports.quarantine").value_or(false);
                       quarantine = v;
                       return;
                     }
                     job.junit = RelativePath(v, "reports.junit");
                     if (job.junit) check_later(v, *job.junit);
                   });
      if (quarantine && job.quarantine && !job.junit) {
        Error(*quarantine, "reports.quarantine needs reports.junit: flaky tests are known from "
                           "the JUnit reports");
      }
    } else if (k == "if") {
      job.condition = ParseExpression(value, /*is_condition=*/true);
    } else if (k == "metrics") {
      job.metrics = RelativePath(value, "metrics");
      if (job.metrics) check_later(value, *job.metrics);
    } else if (k == "gates") {
      if (!value.IsSequence()) {
        Error(value, "'gates' must be a list of expressions, got {}", KindName(value));
        return;
      }
      for (const YAML::Node& gate : value) {
        if (auto parsed = ParseExpression(gate, /*is_condition=*/false)) {
          job.gates.push_back(std::move(*parsed));
        }
      }
    }
  });
  if (!node.IsMap()) return job;
  if (!job.gates.empty() && !job.metrics) {
    // Gates with nothing to read would never run: that must not pass for a pass.
    Error(key, "job '{}' has gates but no 'metrics' file for them to read", name);
  }
  if (!has_steps) {
    Error(key, "job '{}' has no 'steps'", name);
  } else if (!steps_node.IsSequence() || steps_node.size() == 0) {
    Error(steps_node, "'steps' must be a non-empty list of steps, got {}", KindName(steps_node));
  } else {
    Location saved = fallback_;
    fallback_ = steps_key;
    for (const YAML::Node& step : steps_node) job.steps.push_back(ParseStep(step, job));
    fallback_ = saved;
  }
  for (const auto& [value_node, text] : pending_substitutions_) {
    CheckSubstitutions(value_node, text, job);
  }
  pending_substitutions_.clear();
  return job;
}

void PipelineParser::ParseMatrix(const YAML::Node& node, Job* job) {
  size_t expansions = 1;
  ForEachNamed(node, "'matrix'", [&](const std::string& axis, const YAML::Node& key,
                                     const YAML::Node& values) {
    if (!IsIdentifier(axis)) {
      Error(key, "invalid matrix key '{}': use letters, digits and '_'", axis);
      return;
    }
    if (!values.IsSequence() || values.size() == 0) {
      Error(values, "matrix key '{}' must have a non-empty list of values, got {}", axis,
            KindName(values));
      return;
    }
    std::vector<std::string> list;
    for (const YAML::Node& value : values) {
      if (!value.IsScalar()) {
        Error(value, "matrix values must be strings, numbers or booleans, got {}",
              KindName(value));
        continue;
      }
      if (std::find(list.begin(), list.end(), value.Scalar()) != list.end()) {
        Error(value, "duplicate value '{}' for matrix key '{}'", value.Scalar(), axis);
        continue;
      }
      list.push_back(value.Scalar());
    }
    expansions *= list.size();
    job->matrix.emplace_back(axis, std::move(list));
  });
  if (expansions > kMaxMatrixExpansions) {
    Error(node, "the matrix expands to {} jobs, more than the limit of {}", expansions,
          kMaxMatrixExpansions);
  }
}

}  // namespace detail

std::string DefaultStepName(std::string_view run) {
  std::string first_line(Trim(run.substr(0, run.find('\n'))));
  if (first_line.size() > 60) {
    size_t cut = 57;
    while (cut > 0 && (static_cast<unsigned char>(first_line[cut]) & 0xC0) == 0x80) --cut;
    first_line = first_line.substr(0, cut) + "...";  // Cut between UTF-8 characters.
  }
  return first_line;
}

namespace detail {

Step PipelineParser::ParseStep(const YAML::Node& node, const Job& job) {
  Step step;
  step.location = At(node);
  bool has_run = false;
  bool has_name = false;
  ForEachEntry(node, "a step", kStepKeys, [&](const std::string& key, const YAML::Node&,
                                              const YAML::Node& value) {
    if (key == "name") {
      has_name = true;
      if (auto s = NonEmptyString(value, "step name")) {
        step.name = *s;
        pending_substitutions_.emplace_back(value, *s);
      }
    } else if (key == "run") {
      has_run = true;
      if (auto s = NonEmptyString(value, "run")) {
        step.run = *s;
        pending_substitutions_.emplace_back(value, *s);
      }
    } else if (key == "shell") {
      std::optional<std::string> shell = String(value, "shell");
      if (shell == "sh") {
        step.shell = Shell::kSh;
      } else if (shell == "bash") {
        step.shell = Shell::kBash;
      } else if (shell) {
        Error(value, "unknown shell '{}' (expected 'sh' or 'bash')", *shell);
      }
    } else if (key == "env") {
      step.env = Env(value);
      CheckEnvSubstitutions(value);
    } else if (key == "timeout") {
      step.timeout = DurationValue(value, "timeout");
    } else if (key == "if") {
      step.condition = ParseExpression(value, /*is_condition=*/true);
    } else if (key == "continue_on_error") {
      step.continue_on_error = Bool(value, "continue_on_error").value_or(false);
    }
  });
  if (node.IsMap() && !has_run) Error(node, "step in job '{}' has no 'run' command", job.name);
  if (step.name.empty()) step.name = DefaultStepName(step.run);
  step.named = has_name;
  return step;
}

Service PipelineParser::ParseService(const std::string& name, const YAML::Node& key,
                                     const YAML::Node& node, const Job& job) {
  Service service;
  service.name = name;
  service.location = At(node);
  if (!IsSafeName(name)) {
    Error(key, "invalid service name '{}' in job '{}': use letters, digits, '_', '-' and '.'",
          name, job.name);
  }
  bool has_run = false;
  ForEachEntry(node, fmt::format("service '{}'", name), kServiceKeys,
               [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                 if (key == "run") {
                   has_run = true;
                   if (auto s = NonEmptyString(value, "run")) {
                     service.run = *s;
                     pending_substitutions_.emplace_back(value, *s);
                   }
                 } else if (key == "readiness") {
                   if (auto s = NonEmptyString(value, "readiness")) {
                     service.readiness = *s;
                     pending_substitutions_.emplace_back(value, *s);
                   }
                 } else if (key == "readiness_timeout") {
                   if (auto d = DurationValue(value, "readiness_timeout")) {
                     service.readiness_timeout = *d;
                   }
                 } else if (key == "readiness_interval") {
                   if (auto d = DurationValue(value, "readiness_interval")) {
                     service.readiness_interval = *d;
                   }
                 } else if (key == "env") {
                   service.env = Env(value);
                   CheckEnvSubstitutions(value);
                 }
               });
  if (node.IsMap() && !has_run) Error(node, "service '{}' has no 'run' command", name);
  return service;
}

ModelSpec PipelineParser::ParseModel(const YAML::Node& node) {
  ModelSpec model;
  model.location = At(node);
  bool has_name = false, has_path = false;
  ForEachEntry(node, "'model'", kModelKeys, [&](const std::string& key, const YAML::Node&,
                                                const YAML::Node& value) {
    if (key == "name") {
      has_name = true;
      if (auto s = NonEmptyString(value, "model name")) {
        if (!IsSafeName(*s)) {
          Error(value, "invalid model name '{}': use letters, digits, '_', '-' and '.'", *s);
        }
        model.name = *s;
      }
    } else if (key == "path") {
      has_path = true;
      if (auto s = RelativePath(value, "model path")) model.path = *s;
    } else if (key == "params") {
      model.params = RelativePath(value, "model params");
    }
  });
  if (node.IsMap() && !has_name) Error(node, "'model' needs a 'name'");
  if (node.IsMap() && !has_path) Error(node, "'model' needs a 'path' (the model directory)");
  return model;
}

// Reports needs on missing jobs, duplicate needs and dependency cycles.
void PipelineParser::CheckNeeds(const Pipeline& pipeline) {
  std::map<std::string, size_t> index;
  std::vector<std::string> names;
  for (size_t i = 0; i < pipeline.jobs.size(); ++i) {
    index[pipeline.jobs[i].name] = i;
    names.push_back(pipeline.jobs[i].name);
  }
  std::vector<std::vector<size_t>> edges(pipeline.jobs.size());
  for (size_t i = 0; i < pipeline.jobs.size(); ++i) {
    const Job& job = pipeline.jobs[i];
    std::set<std::string> seen;
    for (size_t n = 0; n < job.needs.size(); ++n) {
      const std::string& need = job.needs[n];
      if (!seen.insert(need).second) {
        Error(job.needs_locations[n], "job '{}' lists '{}' twice in 'needs'", job.name, need);
        continue;
      }
      auto it = index.find(need);
      if (it == index.end()) {
        auto suggestion = SuggestClosest(need, names);
        Error(job.needs_locations[n], "job '{}' needs '{}', which is not a job in this pipeline{}",
              job.name, need,
              suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "");
        continue;
      }
      edges[i].push_back(it->second);
    }
  }
  // Depth-first search; a need that points back into the current path closes a cycle.
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> marks(pipeline.jobs.size(), Mark::kNew);
  std::vector<size_t> path;
  std::function<void(size_t)> visit = [&](size_t job) {
    marks[job] = Mark::kOnPath;
    path.push_back(job);
    for (size_t e = 0; e < edges[job].size(); ++e) {
      size_t next = edges[job][e];
      if (marks[next] == Mark::kOnPath) {
        auto start = std::find(path.begin(), path.end(), next);
        std::vector<std::string> cycle;
        for (auto it = start; it != path.end(); ++it) cycle.push_back(pipeline.jobs[*it].name);
        cycle.push_back(pipeline.jobs[next].name);
        // Point at the need that closes the cycle.
        const Job& from = pipeline.jobs[job];
        auto need = std::find(from.needs.begin(), from.needs.end(), pipeline.jobs[next].name);
        Error(from.needs_locations[static_cast<size_t>(need - from.needs.begin())],
              "dependency cycle: {}", Join(cycle, " -> "));
      } else if (marks[next] == Mark::kNew) {
        visit(next);
      }
    }
    path.pop_back();
    marks[job] = Mark::kDone;
  };
  for (size_t i = 0; i < pipeline.jobs.size(); ++i) {
    if (marks[i] == Mark::kNew) visit(i);
  }
}

}  // namespace detail

std::expected<Pipeline, std::vector<Diagnostic>> ParsePipeline(std::string_view source) {
  std::vector<Diagnostic> errors;
  YAML::Node root;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(source));
    if (documents.size() > 1) {
      const YAML::Mark mark = documents[1].Mark();
      errors.push_back({{mark.line + 1, mark.column + 1},
                        "a second YAML document: a pipeline file holds one (remove the '---' "
                        "before this line, or what follows it)"});
      return std::unexpected(std::move(errors));
    }
    if (!documents.empty()) root = documents[0];
  } catch (const YAML::Exception& e) {
    std::string message = e.msg;
    if (!message.empty()) message[0] = static_cast<char>(tolower(message[0]));
    errors.push_back({{e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + message});
    return std::unexpected(std::move(errors));
  }
  detail::PipelineParser parser(source, &errors);
  Pipeline pipeline = parser.Parse(root);
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.location.line, a.location.column) <
             std::pair(b.location.line, b.location.column);
    });
    return std::unexpected(std::move(errors));
  }
  return pipeline;
}

const Job* Pipeline::FindJob(std::string_view name) const {
  for (const Job& job : jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

bool Pipeline::MatchesBranch(std::string_view branch) const {
  if (push_branches.empty()) return true;
  return std::any_of(push_branches.begin(), push_branches.end(),
                     [&](const std::string& pattern) { return GlobMatch(pattern, branch); });
}

}  // namespace tauon::spec
