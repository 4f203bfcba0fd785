#include "notify/notifier.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace tauon::notify {

namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kExpected = "expected slack=URL, dingtalk=URL[,secret=S] or webhook=URL";
constexpr size_t kMaxTests = 10;           // Failing tests listed in chat messages.
constexpr size_t kMaxLineBytes = 200;      // Per test, subject or receiver message.
constexpr size_t kMaxSlackSection = 3000;  // Slack's limit for a section's text.

std::string_view KindName(Channel::Kind kind) {
  switch (kind) {
    case Channel::Kind::kSlack:
      return "slack";
    case Channel::Kind::kDingTalk:
      return "dingtalk";
    case Channel::Kind::kWebhook:
      return "webhook";
  }
  return "webhook";
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A short name such as a kind or an option: safe to quote in errors (too
// short and too plain to be a token).
bool IsWord(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '-' || c == '_'; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// scheme://userinfo@host:port/path?query#fragment, split without judging.
struct UrlParts {
  std::string_view scheme;
  std::string_view userinfo;  // Without the '@'.
  std::string_view host;      // With the port; may run into ",option" if there is no path.
  std::string_view path;
  std::string_view query;     // Without the '?'.
  std::string_view fragment;  // Without the '#'.
};

std::optional<UrlParts> SplitUrl(std::string_view url) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos || !IsWord(url.substr(0, colon))) return std::nullopt;
  UrlParts parts;
  parts.scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 3);
  size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  // The last '@' ends the userinfo: a password may hold '@' only escaped,
  // but taking the last one keeps any of it out of `host` regardless.
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  parts.host = authority;
  rest = rest.substr(authority_end);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    parts.fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  if (size_t question = rest.find('?'); question != std::string_view::npos) {
    parts.query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  parts.path = rest;
  return parts;
}

// "https://hooks.slack.com/…": scheme and host only, for error messages about
// text that may not even be a URL ("…" then).
std::string RedactedUrl(std::string_view text) {
  if (text.empty()) return "";
  std::optional<UrlParts> parts = SplitUrl(text);
  if (!parts) return "…";
  std::string_view host = parts->host.substr(0, parts->host.find(','));
  std::string out = fmt::format("{}://{}", parts->scheme, host);
  // Whatever follows the host in `text` (path, query, ",secret=...").
  size_t host_end = static_cast<size_t>(host.data() - text.data()) + host.size();
  if (host_end < text.size()) out += text[host_end] == '/' ? "/…" : "…";
  return out;
}

// A --notify value as errors quote it: the kind if it is a plain word, and
// the URL cut after its host.
std::string RedactedSpec(std::string_view spec) {
  size_t eq = spec.find('=');
  std::string_view name = spec.substr(0, eq);
  if (eq == std::string_view::npos) return IsWord(spec) ? std::string(spec) : RedactedUrl(spec);
  if (!IsWord(name)) return RedactedUrl(spec);
  return fmt::format("{}={}", name, RedactedUrl(spec.substr(eq + 1)));
}

bool IsValidHost(std::string_view host) {
  std::string_view port;
  if (!host.empty() && host.front() == '[') {  // IPv6 literal.
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    port = after.empty() ? after : after.substr(1);
    if (!after.empty() && port.empty()) return false;
  } else {
    size_t colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    if (name.empty()) return false;
    for (char c : name) {
      if (!IsAsciiAlnum(c) && c != '.' && c != '-' && c != '_') return false;
    }
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (port.empty()) return true;
  if (port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

bool IsHttpUrl(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  std::optional<UrlParts> parts = SplitUrl(url);
  if (!parts) return false;
  if (!EqualsIgnoreCase(parts->scheme, "http") && !EqualsIgnoreCase(parts->scheme, "https")) {
    return false;
  }
  return IsValidHost(parts->host);
}

// Cuts `s` to at most `max_bytes` on a UTF-8 character boundary, marking the
// cut with "…".
std::string TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

// The first line of `s`, other control characters as spaces, at most
// `max_bytes`: untrusted text going into a one-line place.
std::string OneLine(std::string_view s, size_t max_bytes = kMaxLineBytes) {
  s = Trim(s.substr(0, s.find('\n')));
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) c = ' ';
  }
  return TruncateUtf8(out, max_bytes);
}

std::string ShortCommit(std::string_view commit) { return std::string(commit.substr(0, 8)); }

struct StatusWords {
  std::string icon;
  std::string verb;  // "failed", "was cancelled", ...
};

StatusWords WordsFor(std::string_view status) {
  if (status == "success") return {"✓", "succeeded"};
  if (status == "failed") return {"✗", "failed"};
  if (status == "cancelled") return {"⊘", "was cancelled"};
  if (status == "interrupted") return {"⚠", "was interrupted"};
  if (status.empty()) return {"•", "finished"};
  return {"•", fmt::format("ended with status {}", OneLine(status, 40))};
}

// "main@3f2a1b9c", "main", "3f2a1b9c" or "".
std::string RefOf(const RunNotice& notice) {
  std::string branch = OneLine(notice.branch);
  std::string commit = ShortCommit(OneLine(notice.commit));
  if (commit.empty()) return branch;
  if (branch.empty()) return commit;
  return branch + "@" + commit;
}

// "✗ digits main@3f2a1b9c failed in 1m05s — run #12"
std::string Headline(const RunNotice& notice) {
  StatusWords words = WordsFor(notice.status);
  std::vector<std::string> parts = {words.icon};
  if (std::string repo = OneLine(notice.repo); !repo.empty()) parts.push_back(repo);
  if (std::string ref = RefOf(notice); !ref.empty()) parts.push_back(ref);
  parts.push_back(words.verb);
  parts.push_back(
      fmt::format("in {} — run #{}", FormatDuration(Duration(notice.duration_ms)), notice.run_id));
  return Join(parts, " ");
}

// At most kMaxTests one-line entries, then "… and N more".
std::vector<std::string> TestLines(const std::vector<std::string>& tests) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < tests.size() && i < kMaxTests; ++i) lines.push_back(OneLine(tests[i]));
  if (tests.size() > kMaxTests)
    lines.push_back(fmt::format("… and {} more", tests.size() - kMaxTests));
  return lines;
}

std::string JobList(const std::vector<std::string>& jobs) {
  std::vector<std::string> names;
  for (const std::string& job : jobs) names.push_back(OneLine(job, 100));
  return Join(names, ", ");
}

// Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting).
std::string SlackEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A URL safe inside Slack's <url|label>.
std::string SlackLinkTarget(std::string_view url) {
  std::string out;
  for (char c : url) {
    if (c == '<' || c == '>' || c == '|' || static_cast<unsigned char>(c) <= ' ') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string DumpJson(const json& value) {
  // Untrusted text (commit messages, test output) may hold invalid UTF-8;
  // replacing it beats throwing from a notification.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string SlackBody(const RunNotice& notice) {
  StatusWords words = WordsFor(notice.status);
  std::string duration = FormatDuration(Duration(notice.duration_ms));
  std::string run = fmt::format("run #{}", notice.run_id);
  if (std::string url = OneLine(notice.url, 2000); !url.empty()) {
    run = fmt::format("<{}|{}>", SlackLinkTarget(url), run);
  }
  std::vector<std::string> lines;
  std::string repo = OneLine(notice.repo);
  lines.push_back(fmt::format("*{}{}{}* {} {} in {}", words.icon, repo.empty() ? "" : " ",
                              SlackEscape(repo), run, SlackEscape(words.verb), duration));
  auto field = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) lines.push_back(fmt::format("*{}:* {}", name, SlackEscape(value)));
  };
  field("Branch", OneLine(notice.branch));
  if (!notice.commit.empty()) {
    std::string subject = OneLine(notice.message, 100);
    lines.push_back(fmt::format("*Commit:* `{}`{}{}",
                                SlackEscape(ShortCommit(OneLine(notice.commit))),
                                subject.empty() ? "" : " ", SlackEscape(subject)));
  }
  field("Author", OneLine(notice.author));
  field("Status", OneLine(notice.status, 40));
  field("Duration", duration);
  field("Failed jobs", JobList(notice.failed_jobs));
  if (!notice.failed_tests.empty()) {
    lines.push_back("*Failed tests:*");
    for (const std::string& test : TestLines(notice.failed_tests)) {
      lines.push_back("• " + SlackEscape(test));
    }
  }
  if (!notice.flaky_failed_tests.empty()) {
    lines.push_back("*Known-flaky failures:*");
    for (const std::string& test : TestLines(notice.flaky_failed_tests)) {
      lines.push_back("• " + SlackEscape(test));
    }
  }
  json blocks = json::array();
  blocks.push_back(
      {{"type", "section"},
       {"text",
        {{"type", "mrkdwn"}, {"text", TruncateUtf8(Join(lines, "\n"), kMaxSlackSection - 3)}}}});
  return DumpJson({{"text", Headline(notice)}, {"blocks", blocks}});
}

std::string DingTalkBody(const RunNotice& notice) {
  std::string headline = Headline(notice);
  std::vector<std::string> items;
  auto field = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) items.push_back(fmt::format("- **{}:** {}", name, value));
  };
  field("Repo", OneLine(notice.repo));
  field("Branch", OneLine(notice.branch));
  if (!notice.commit.empty()) {
    std::string subject = OneLine(notice.message, 100);
    field("Commit", ShortCommit(OneLine(notice.commit)) + (subject.empty() ? "" : " " + subject));
  }
  field("Author", OneLine(notice.author));
  field("Status", OneLine(notice.status, 40));
  field("Duration", FormatDuration(Duration(notice.duration_ms)));
  field("Failed jobs", JobList(notice.failed_jobs));
  std::string text = fmt::format("#### {}\n\n{}\n", headline, Join(items, "\n"));
  if (!notice.failed_tests.empty()) {
    text += "\n**Failed tests:**\n\n";
    for (const std::string& test : TestLines(notice.failed_tests)) text += "- " + test + "\n";
  }
  if (!notice.flaky_failed_tests.empty()) {
    text += "\n**Known-flaky failures:**\n\n";
    for (const std::string& test : TestLines(notice.flaky_failed_tests)) text += "- " + test + "\n";
  }
  if (std::string url = OneLine(notice.url, 2000); !url.empty()) {
    text += fmt::format("\n[View run #{}]({})\n", notice.run_id, url);
  }
  // Robots guarded by a keyword need one in every message: configure "tauon".
  text += "\nSent by tauon\n";
  return DumpJson({{"msgtype", "markdown"}, {"markdown", {{"title", headline}, {"text", text}}}});
}

std::string WebhookBody(const RunNotice& notice) {
  return DumpJson({{"event", "run.finished"},
                   {"run_id", notice.run_id},
                   {"repo", notice.repo},
                   {"branch", notice.branch},
                   {"commit", notice.commit},
                   {"author", notice.author},
                   {"message", notice.message},
                   {"status", notice.status},
                   {"duration_ms", notice.duration_ms},
                   {"failed_jobs", notice.failed_jobs},
                   {"failed_tests", notice.failed_tests},
                   {"flaky_failed_tests", notice.flaky_failed_tests},
                   {"url", notice.url}});
}

// "⚠ production: digits@3 rolled back (release 3)"
std::string Headline(const DeployNotice& notice) {
  std::string icon = notice.event == "live" ? "✓" : notice.event == "rolled-back" ? "⚠" : "✗";
  std::string verb = notice.event == "live"          ? "is live"
                     : notice.event == "rolled-back" ? "rolled back"
                                                     : OneLine(notice.event, 40);
  return fmt::format("{} {}: {} {} (release {})", icon, OneLine(notice.environment),
                     OneLine(notice.version), verb, notice.release_id);
}

std::string SlackBody(const DeployNotice& notice) {
  std::string text = "*" + SlackEscape(Headline(notice)) + "*";
  if (std::string why = OneLine(notice.why, 500); !why.empty()) text += "\n" + SlackEscape(why);
  if (std::string url = OneLine(notice.url, 2000); !url.empty()) {
    text += fmt::format("\n<{}|environment {}>", SlackLinkTarget(url),
                        SlackEscape(OneLine(notice.environment)));
  }
  json blocks = json::array();
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}});
  return DumpJson({{"text", Headline(notice)}, {"blocks", blocks}});
}

std::string DingTalkBody(const DeployNotice& notice) {
  std::string headline = Headline(notice);
  std::string text = fmt::format("#### {}\n\n", headline);
  if (std::string why = OneLine(notice.why, 500); !why.empty()) text += why + "\n";
  if (std::string url = OneLine(notice.url, 2000); !url.empty()) {
    text += fmt::format("\n[Environment {}]({})\n", OneLine(notice.environment), url);
  }
  text += "\nSent by tauon\n";
  return DumpJson({{"msgtype", "markdown"}, {"markdown", {{"title", headline}, {"text", text}}}});
}

std::string WebhookBody(const DeployNotice& notice) {
  std::string event = notice.event;
  std::replace(event.begin(), event.end(), '-', '_');
  return DumpJson({{"event", "deploy." + event},
                   {"environment", notice.environment},
                   {"release", notice.release_id},
                   {"version", notice.version},
                   {"why", notice.why},
                   {"url", notice.url}});
}

// "run #12", "production release 3": a notice in log lines.
std::string Label(const Notice& notice) {
  if (const auto* run = std::get_if<RunNotice>(&notice)) return fmt::format("run #{}", run->run_id);
  const auto& deploy = std::get<DeployNotice>(notice);
  return fmt::format("{} release {}", OneLine(deploy.environment), deploy.release_id);
}

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// DingTalk's signed robot: sign = UrlEncode(Base64(HMAC-SHA256(key = secret,
// data = timestamp + "\n" + secret))), timestamp in milliseconds.
std::string DingTalkSignedUrl(const std::string& url, const std::string& secret, TimePoint now) {
  int64_t timestamp = now.time_since_epoch().count();
  std::string to_sign = fmt::format("{}\n{}", timestamp, secret);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac,
           &mac_size) == nullptr) {
    mac_size = 0;  // Unsigned; DingTalk will refuse it and the refusal is logged.
  }
  std::string sign =
      UrlEncode(Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size)));
  size_t hash = std::min(url.find('#'), url.size());
  std::string base = url.substr(0, hash);
  const char* separator = "&";
  if (base.find('?') == std::string::npos) {
    separator = "?";
  } else if (base.back() == '?' || base.back() == '&') {
    separator = "";
  }
  return fmt::format("{}{}timestamp={}&sign={}{}", base, separator, timestamp, sign,
                     url.substr(hash));
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// Removes from a transport error anything secret it might quote: the URLs
// as sent and configured, their query, userinfo and (Slack) token path, and
// the DingTalk secret.
std::string Scrub(std::string message, const Channel& channel, const http::ClientRequest& request) {
  std::vector<std::string> secrets = {request.url, channel.url, channel.secret};
  // Pieces too short to be credentials stay, or "HTTP 1.1" would lose its 1s.
  auto add_piece = [&](std::string_view piece) {
    if (piece.size() >= 6) secrets.emplace_back(piece);
  };
  for (const std::string* url : {&request.url, &channel.url}) {
    std::optional<UrlParts> parts = SplitUrl(*url);
    if (!parts) continue;
    secrets.emplace_back(parts->query);
    secrets.emplace_back(parts->userinfo);
    for (const std::string& param : Split(parts->query, '&')) {
      add_piece(std::string_view(param).substr(std::min(param.find('=') + 1, param.size())));
    }
    if (channel.kind == Channel::Kind::kSlack) {
      size_t second = parts->path.find('/', 1);
      if (second != std::string_view::npos) {
        secrets.emplace_back(parts->path.substr(second));
        for (const std::string& segment : Split(parts->path.substr(second + 1), '/')) {
          add_piece(segment);
        }
      }
    }
  }
  // Longest first, so that a URL goes as a whole rather than piece by piece.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& secret : secrets) ReplaceAll(message, secret, "…");
  return message;
}

// " (invalid_payload)" when a body is a bare error code as Slack sends, so
// that it can be logged without logging bodies; "" otherwise.
std::string ErrorCodeSuffix(std::string_view body) {
  body = Trim(body);
  if (body.empty() || body.size() > 64) return "";
  for (char c : body) {
    if (!IsAsciiAlnum(c) && c != '_' && c != '-' && c != '.') return "";
  }
  return fmt::format(" ({})", body);
}

// Retry-After in seconds (the HTTP-date form is ignored).
Duration RetryAfter(const http::Headers& headers) {
  std::optional<std::string> value = headers.Get("Retry-After");
  if (!value) return Duration(0);
  std::string_view digits = Trim(*value);
  if (digits.empty() || digits.size() > 6) return Duration(0);
  int64_t seconds = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return Duration(0);
    seconds = seconds * 10 + (c - '0');
  }
  return Duration(seconds * 1000);
}

NotifierOptions Normalized(NotifierOptions options) {
  options.max_attempts = std::max(options.max_attempts, 1);
  options.first_backoff = std::max(options.first_backoff, Duration(0));
  options.max_backoff = std::max(options.max_backoff, Duration(0));
  return options;
}

std::string Attempts(int n) { return fmt::format("{} attempt{}", n, n == 1 ? "" : "s"); }

}  // namespace

std::string Channel::Describe() const {
  std::optional<UrlParts> parts = SplitUrl(url);
  if (!parts) return fmt::format("{} {}", KindName(kind), RedactedUrl(url));
  std::string_view host = parts->host.substr(0, parts->host.find(','));
  std::string out = fmt::format("{} {}://{}", KindName(kind), parts->scheme, host);
  std::string_view path = parts->path;
  if (kind == Kind::kSlack) {
    // hooks.slack.com/services/T.../B.../token: everything after the first
    // segment is the credential.
    size_t second = path.find('/', 1);
    if (second != std::string_view::npos && second + 1 < path.size()) {
      return out + std::string(path.substr(0, second)) + "/…";
    }
  }
  out += path;
  if (!parts->query.empty()) out += "?…";
  return out;
}

Result<Channel> ParseChannel(std::string_view spec) {
  spec = Trim(spec);
  const std::string shown = RedactedSpec(spec);
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) return Fail("invalid --notify '{}': {}", shown, kExpected);
  std::string_view name = spec.substr(0, eq);
  Channel channel;
  if (name == "slack") {
    channel.kind = Channel::Kind::kSlack;
  } else if (name == "dingtalk") {
    channel.kind = Channel::Kind::kDingTalk;
  } else if (name == "webhook") {
    channel.kind = Channel::Kind::kWebhook;
  } else if (!IsWord(name)) {
    return Fail("invalid --notify '{}': {}", shown, kExpected);
  } else {
    std::optional<std::string> suggestion = SuggestClosest(name, {"slack", "dingtalk", "webhook"});
    return Fail("invalid --notify '{}': unknown kind '{}'{}; {}", shown, name,
                suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "", kExpected);
  }
  std::string_view value = spec.substr(eq + 1);
  size_t comma = value.find(',');
  std::string_view url = value.substr(0, comma);
  if (url.empty()) return Fail("invalid --notify '{}': missing URL after '{}='", shown, name);
  if (!IsHttpUrl(url)) {
    return Fail("invalid --notify '{}': the URL must be http:// or https:// with a valid host",
                shown);
  }
  channel.url = std::string(url);
  if (comma == std::string_view::npos) return channel;

  std::string_view option = value.substr(comma + 1);
  size_t option_eq = option.find('=');
  std::string_view option_name = option.substr(0, option_eq);
  if (option_eq == std::string_view::npos || option_name != "secret") {
    if (option_eq != std::string_view::npos && IsWord(option_name)) {
      return Fail("invalid --notify '{}': unknown option '{}' (expected secret=S)", shown,
                  option_name);
    }
    return Fail("invalid --notify '{}': unexpected text after the URL (expected ,secret=S)", shown);
  }
  if (channel.kind != Channel::Kind::kDingTalk) {
    return Fail("invalid --notify '{}': secret= is only for dingtalk", shown);
  }
  channel.secret = std::string(option.substr(option_eq + 1));
  if (channel.secret.empty()) return Fail("invalid --notify '{}': empty secret", shown);
  return channel;
}

http::ClientRequest BuildRequest(const Channel& channel, const Notice& notice, TimePoint now) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = channel.url;
  request.headers.Set("Content-Type", "application/json");
  request.headers.Set("User-Agent", "tauon");
  request.timeout = Duration(5'000);  // Receivers answer at once; shutdown waits for this.
  switch (channel.kind) {
    case Channel::Kind::kSlack:
      request.body = std::visit([](const auto& n) { return SlackBody(n); }, notice);
      break;
    case Channel::Kind::kDingTalk:
      request.body = std::visit([](const auto& n) { return DingTalkBody(n); }, notice);
      if (!channel.secret.empty())
        request.url = DingTalkSignedUrl(channel.url, channel.secret, now);
      break;
    case Channel::Kind::kWebhook:
      request.body = std::visit([](const auto& n) { return WebhookBody(n); }, notice);
      break;
  }
  return request;
}

Notifier::Notifier(std::vector<Channel> channels, NotifierOptions options, Send send, Log log)
    : channels_(std::move(channels)),
      options_(Normalized(options)),
      send_(std::move(send)),
      log_(std::move(log)) {
  if (!send_) send_ = [](const http::ClientRequest& request) { return http::Fetch(request); };
  if (!log_) {
    log_ = [](const std::string& line) { fmt::print(stderr, "tauon: notify: {}\n", line); };
  }
  // One thread per channel: a receiver that hangs delays only its own messages.
  queues_.resize(channels_.size());
  for (size_t i = 0; i < channels_.size(); ++i) threads_.emplace_back([this, i] { Loop(i); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_deadline_ = SteadyClock::now() + std::min(options_.max_backoff, options_.shutdown_grace);
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void Notifier::Notify(const Notice& notice) {
  if (channels_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    SteadyTime now = SteadyClock::now();
    for (size_t i = 0; i < channels_.size(); ++i) {
      queues_[i].push_back(
          Delivery{.channel = i, .notice = notice, .attempts = 0, .due = now, .last_error = {}});
    }
  }
  wake_.notify_all();
}

void Notifier::WaitIdle() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] {
    return std::all_of(queues_.begin(), queues_.end(), [](const auto& q) { return q.empty(); });
  });
}

void Notifier::Say(const std::string& line) {
  try {
    log_(line);
  } catch (...) {
    // A failing logger must not take the notifier thread down with it.
  }
}

Notifier::Outcome Notifier::Attempt(const Delivery& delivery, std::string* reason,
                                    Duration* retry_after) {
  const Channel& channel = channels_[delivery.channel];
  http::ClientRequest request = BuildRequest(channel, delivery.notice, SystemClock().Now());
  Result<http::ClientResponse> response;
  try {
    response = send_(request);
  } catch (const std::exception& e) {
    response = Fail("{}", e.what());
  } catch (...) {
    response = Fail("unknown exception");
  }
  if (!response) {
    // Scrubbed before it is cut, so that no URL is cut into pieces that
    // no longer match.
    *reason = OneLine(Scrub(response.error().message, channel, request), 500);
    return Outcome::kRetry;
  }
  const int status = response->status;
  if (status < 200 || status > 299) {
    *reason = fmt::format("HTTP {}{}", status, ErrorCodeSuffix(response->body));
    if (status >= 500 || status == 429 || status == 408) {
      *retry_after = RetryAfter(response->headers);
      return Outcome::kRetry;
    }
    return Outcome::kGiveUp;
  }
  switch (channel.kind) {
    case Channel::Kind::kSlack:
      // Slack answers a bare "ok"; anything else from a 2xx is not a delivery
      // we can vouch for, and sending it again will not change that.
      if (Trim(response->body) == "ok") return Outcome::kDelivered;
      *reason = fmt::format("HTTP {} without \"ok\"{}", status, ErrorCodeSuffix(response->body));
      return Outcome::kGiveUp;
    case Channel::Kind::kDingTalk: {
      // DingTalk reports errors in the body of a 200. A body that is not the
      // documented JSON is taken at the status's word.
      json answer = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
      if (!answer.is_object() || !answer.contains("errcode") ||
          !answer["errcode"].is_number_integer()) {
        return Outcome::kDelivered;
      }
      int64_t code = answer["errcode"].get<int64_t>();
      if (code == 0) return Outcome::kDelivered;
      std::string message;
      if (answer.contains("errmsg") && answer["errmsg"].is_string()) {
        message = OneLine(Scrub(answer["errmsg"].get<std::string>(), channel, request));
      }
      *reason = fmt::format("DingTalk errcode {}{}", code,
                            message.empty() ? "" : fmt::format(": {}", message));
      // -1: system busy; 130101: more than 20 messages a minute.
      return code == -1 || code == 130101 ? Outcome::kRetry : Outcome::kGiveUp;
    }
    case Channel::Kind::kWebhook:
      return Outcome::kDelivered;
  }
  return Outcome::kDelivered;
}

void Notifier::Loop(size_t channel) {
  // Only this thread removes from `queue`; Notify appends, which keeps
  // references to its elements valid.
  std::deque<Delivery>& queue = queues_[channel];
  std::unique_lock lock(mutex_);
  while (true) {
    SteadyTime now = SteadyClock::now();
    if (stopping_) {
      // Give up on what cannot go out before the deadline.
      std::vector<std::string> lines;
      for (size_t i = 0; i < queue.size();) {
        const Delivery& d = queue[i];
        if (now < stop_deadline_ && d.due <= stop_deadline_) {
          ++i;
          continue;
        }
        const std::string where =
            fmt::format("{}: {}", channels_[d.channel].Describe(), Label(d.notice));
        lines.push_back(d.attempts == 0
                            ? fmt::format("{}: giving up at shutdown before any attempt", where)
                            : fmt::format("{}: giving up at shutdown after {}: {}", where,
                                          Attempts(d.attempts), d.last_error));
        queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (!lines.empty()) {
        lock.unlock();
        for (const std::string& line : lines) Say(line);
        lock.lock();
        wake_.notify_all();
        continue;  // Time has passed; look again.
      }
      if (queue.empty()) break;
    }
    // A channel's notices go out in order: only the oldest is eligible.
    if (queue.empty()) {
      wake_.wait(lock, [&] { return stopping_ || !queue.empty(); });
      continue;
    }
    if (queue.front().due > now) {
      // Woken early by Notify or shutdown, the loop simply looks again.
      wake_.wait_until(lock, queue.front().due);
      continue;
    }

    Delivery delivery = queue.front();
    lock.unlock();
    std::string reason;
    Duration retry_after(0);
    Outcome outcome = Attempt(delivery, &reason, &retry_after);
    const std::string where =
        fmt::format("{}: {}", channels_[delivery.channel].Describe(), Label(delivery.notice));
    const int attempts = delivery.attempts + 1;
    lock.lock();

    std::string line;
    bool done = true;
    if (outcome == Outcome::kRetry && attempts < options_.max_attempts) {
      Duration backoff = options_.first_backoff;
      for (int i = 1; i < attempts && backoff < options_.max_backoff; ++i) {
        backoff = backoff > options_.max_backoff / 2 ? options_.max_backoff : backoff * 2;
      }
      backoff = std::min(std::max(backoff, retry_after), options_.max_backoff);
      SteadyTime due = SteadyClock::now() + backoff;
      if (stopping_ && due > stop_deadline_) {
        line = fmt::format("{}: giving up at shutdown after {}: {}", where, Attempts(attempts),
                           reason);
      } else {
        Delivery& live = queue.front();
        live.attempts = attempts;
        live.due = due;
        live.last_error = reason;
        done = false;
        line = fmt::format("{}: attempt {}/{} failed: {}; retrying in {}", where, attempts,
                           options_.max_attempts, reason, FormatDuration(backoff));
      }
    } else if (outcome != Outcome::kDelivered) {
      line = fmt::format("{}: giving up after {}: {}", where, Attempts(attempts), reason);
    }
    if (!line.empty()) {
      // Logged before the delivery leaves the queue, so that WaitIdle
      // returning means its lines are written.
      lock.unlock();
      Say(line);
      lock.lock();
    }
    if (done) {
      queue.pop_front();
      wake_.notify_all();
    }
  }
  wake_.notify_all();
}

}  // namespace tauon::notify
