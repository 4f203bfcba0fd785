#include "http/http.h"

#include <cctype>

#include "util/strings.h"

namespace tauon::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `text` without userinfo, query and fragment, for error messages: URLs may
// carry credentials ("https://user:token@host") or tokens ("?key=...").
std::string RedactForMessage(std::string_view text) {
  text = text.substr(0, text.find_first_of("?#"));
  size_t scheme_end = text.find("://");
  size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t authority_end = text.find('/', authority_start);
  if (authority_end == std::string_view::npos) authority_end = text.size();
  size_t at = text.rfind('@', authority_end);
  if (at == std::string_view::npos || at < authority_start) return std::string(text);
  return std::string(text.substr(0, authority_start)) + std::string(text.substr(at + 1));
}

}  // namespace

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string name, std::string value) {
  // The first field keeps its place; later ones go.
  auto first = fields_.end();
  for (auto it = fields_.begin(); it != fields_.end();) {
    if (!EqualsIgnoreCase(it->first, name)) {
      ++it;
    } else if (first == fields_.end()) {
      first = it++;
    } else {
      size_t first_index = static_cast<size_t>(first - fields_.begin());
      it = fields_.erase(it);
      first = fields_.begin() + static_cast<ptrdiff_t>(first_index);
    }
  }
  if (first == fields_.end()) {
    fields_.emplace_back(std::move(name), std::move(value));
  } else {
    *first = {std::move(name), std::move(value)};
  }
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (EqualsIgnoreCase(field, name)) return value;
  }
  return std::nullopt;
}

Response Response::Json(int status, const nlohmann::json& value) {
  Response response;
  response.status = status;
  // Invalid UTF-8 (e.g. from a log line) is replaced rather than thrown on.
  response.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.headers.Set("Content-Type", "application/json");
  return response;
}

Response Response::Error(int status, std::string message) {
  return Json(status, nlohmann::json{{"error", std::move(message)}});
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.Set("Content-Type", std::move(content_type));
  return response;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

Result<Url> ParseUrl(std::string_view text) {
  const std::string shown = RedactForMessage(text);
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return Fail("invalid URL '{}': expected http:// or https://", shown);
  }
  Url url;
  url.scheme = ToLower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return Fail("invalid URL '{}': unsupported scheme '{}' (expected http or https)", shown,
                url.scheme);
  }
  std::string_view rest = text.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // Userinfo is not part of the address.
  }

  std::string_view port_text;
  bool has_port = false;
  if (StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail("invalid URL '{}': missing ']' after the IPv6 address", shown);
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Fail("invalid URL '{}': unexpected text after ']'", shown);
      port_text = after.substr(1);
      has_port = true;
    }
    if (url.host.empty() ||
        url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return Fail("invalid URL '{}': bad IPv6 address '{}'", shown, url.host);
    }
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    for (char c : url.host) {
      auto u = static_cast<unsigned char>(c);
      if (!std::isalnum(u) && c != '-' && c != '.' && c != '_') {
        return Fail("invalid URL '{}': bad character in host name", shown);
      }
    }
  }
  if (url.host.empty()) return Fail("invalid URL '{}': missing host", shown);

  if (has_port) {
    int port = 0;
    bool valid = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        valid = false;
        break;
      }
      port = port * 10 + (c - '0');
    }
    if (!valid || port < 1 || port > 65535) {
      return Fail("invalid URL '{}': bad port '{}'", shown, port_text);
    }
    url.port = port;
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }

  target = target.substr(0, target.find('#'));
  if (target.empty() || target[0] == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  for (char c : url.target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Fail("invalid URL '{}': spaces and control characters must be percent-encoded", shown);
    }
  }
  return url;
}

std::optional<nlohmann::json> ObjectBody(const Request& request, Response* error) {
  if (request.body.empty()) return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    *error = Response::Error(400, "malformed JSON in the request body");
    return std::nullopt;
  }
  if (!body.is_object()) {
    *error = Response::Error(400, "the request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> StringField(const nlohmann::json& body, const char* name,
                                       Response* error, std::optional<std::string> fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (!fallback) *error = Response::Error(400, fmt::format("'{}' is required", name));
    return fallback;
  }
  if (!it->is_string()) {
    *error = Response::Error(400, fmt::format("'{}' must be a string", name));
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace tauon::http
