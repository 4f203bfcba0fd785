#include "scm/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace tauon::scm {
namespace {

using Json = nlohmann::json;
using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

std::string_view EventHeader(Forge forge) {
  switch (forge) {
    case Forge::kGitHub:
      return "X-GitHub-Event";
    case Forge::kGitLab:
      return "X-Gitlab-Event";
    case Forge::kGitea:
      return "X-Gitea-Event";
  }
  return "event";
}

std::string_view ForgeName(Forge forge) {
  switch (forge) {
    case Forge::kGitHub:
      return "GitHub";
    case Forge::kGitLab:
      return "GitLab";
    case Forge::kGitea:
      return "Gitea";
  }
  return "forge";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// Parses untrusted JSON; the error names the byte nlohmann stopped at.
Result<Json> ParseJson(std::string_view body) {
  if (Trim(body).empty()) return Fail("empty webhook body: expected a JSON object");
  if (StartsWith(body, "payload=")) {
    return Fail("form-encoded webhook body: set the webhook's content type to application/json");
  }
  try {
    return Json::parse(body);
  } catch (const Json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 18: <reason>".
    std::string_view what = e.what();
    size_t column = what.find("column ");
    size_t colon = column == std::string_view::npos ? what.find(": ") : what.find(": ", column);
    std::string_view reason = colon == std::string_view::npos ? what : what.substr(colon + 2);
    return Fail("malformed JSON at byte {}: {}", e.byte, reason);
  } catch (const Json::exception& e) {
    return Fail("malformed JSON: {}", e.what());
  }
}

// The string at `object[key]`, or nullopt if absent or not a string.
std::optional<std::string_view> StringField(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

const Json* ObjectField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

// "0000...0": the object id git uses for "no commit" (SHA-1 or SHA-256 length).
bool IsZeroSha(std::string_view sha) {
  return !sha.empty() && std::all_of(sha.begin(), sha.end(), [](char c) { return c == '0'; });
}

// Appends NormalizeRepository(object[key]) for each key that holds a string,
// skipping duplicates.
void AddRepositoryNames(const Json* object, std::initializer_list<const char*> keys,
                        std::vector<std::string>& names) {
  if (!object) return;
  for (const char* key : keys) {
    std::optional<std::string_view> value = StringField(*object, key);
    if (!value) continue;
    std::string name = NormalizeRepository(*value);
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
}

// 0-15 for a hex digit of either case, else -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A repository on disk: lexically normalised, case kept (paths are case
// sensitive), without a trailing "/", "/.git" or ".git".
std::string NormalizeLocalPath(std::string_view path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  // Keep relative paths recognisable as paths: "./a/b", never "a/b" (an owner/name).
  if (!StartsWith(out, "/") && !StartsWith(out, "..") && !StartsWith(out, "~"))
    out = out == "." ? "." : "./" + out;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.ends_with("/.git")) {
    out.resize(out.size() - 5);
  } else if (out.ends_with(".git") && out.size() > 4 && out[out.size() - 5] != '/') {
    out.resize(out.size() - 4);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "/" : out;
}

// "host/owner/name" (or "owner/name" without a host), lowercase, without
// empty components or a ".git" suffix.
std::string NormalizeRemote(std::string_view host, std::string_view path) {
  std::string out = Lower(host);
  for (const std::string& component : Split(path, '/')) {
    if (component.empty() || component == ".") continue;
    if (!out.empty()) out += '/';
    out += Lower(component);
  }
  if (out.ends_with(".git") && out.size() > 4 && out[out.size() - 5] != '/') {
    out.resize(out.size() - 4);
  }
  return out;
}

// The host of a URL authority "user:pw@host:port", without credentials and port.
std::string_view AuthorityHost(std::string_view authority) {
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (StartsWith(authority, "[")) {  // IPv6 literal: "[::1]:8080".
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

Digest HmacSha256(std::string_view secret, std::string_view body) {
  Digest digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest.data(), &length);
  return digest;
}

// Decodes exactly 64 hex digits (either case); nullopt for anything else.
std::optional<Digest> DecodeHexDigest(std::string_view hex) {
  if (hex.size() != 2 * SHA256_DIGEST_LENGTH) return std::nullopt;
  Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    int high = HexValue(hex[2 * i]);
    int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return digest;
}

bool VerifyHexHmac(std::string_view secret, std::string_view body, std::string_view hex) {
  // An empty secret is a configuration mistake, not a licence to accept anything.
  if (secret.empty() || secret.size() > INT_MAX) return false;
  std::optional<Digest> claimed = DecodeHexDigest(hex);
  if (!claimed) return false;
  Digest expected = HmacSha256(secret, body);
  return CRYPTO_memcmp(expected.data(), claimed->data(), expected.size()) == 0;
}

}  // namespace

Result<WebhookEvent> ParseWebhook(Forge forge, std::string_view event, std::string_view body) {
  event = Trim(event);
  if (event.empty()) {
    return Fail("missing {} header: cannot tell which {} event this is", EventHeader(forge),
                ForgeName(forge));
  }
  Result<Json> parsed = ParseJson(body);
  if (!parsed) return std::unexpected(parsed.error());
  const Json& json = *parsed;
  if (!json.is_object()) {
    return Fail("webhook body is a JSON {}, expected an object", json.type_name());
  }

  WebhookEvent out;
  if (forge == Forge::kGitLab) {
    out.kind = event == "Push Hook" || event == "Tag Push Hook" ? "push" : std::string(event);
    AddRepositoryNames(ObjectField(json, "project"),
                       {"git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url", "url",
                        "path_with_namespace"},
                       out.repository);
    AddRepositoryNames(ObjectField(json, "repository"),
                       {"git_http_url", "git_ssh_url", "url", "homepage"}, out.repository);
  } else {
    // GitHub, and Gitea whose payloads copy GitHub's. repository.url is left
    // out: outside push events GitHub sets it to the API URL.
    out.kind = std::string(event);
    AddRepositoryNames(ObjectField(json, "repository"),
                       {"clone_url", "ssh_url", "git_url", "html_url", "full_name"},
                       out.repository);
  }
  if (out.repository.empty()) {
    return Fail("the {} '{}' payload names no repository (only repository webhooks are supported)",
                ForgeName(forge), event);
  }
  if (out.kind != "push") return out;

  std::optional<std::string_view> ref = StringField(json, "ref");
  if (!ref || ref->empty()) return Fail("the {} push payload has no 'ref'", ForgeName(forge));
  out.ref = std::string(*ref);
  if (StartsWith(out.ref, "refs/heads/")) out.branch = out.ref.substr(11);

  std::optional<std::string_view> after = StringField(json, "after");
  if (forge == Forge::kGitLab) {
    // A deleted ref has after = 000…0 and checkout_sha = null.
    if (after) {
      out.deleted = IsZeroSha(*after);
    } else {
      std::optional<std::string_view> checkout = StringField(json, "checkout_sha");
      out.deleted = !checkout || checkout->empty() || IsZeroSha(*checkout);
    }
  } else {
    auto deleted = json.find("deleted");
    out.deleted = (deleted != json.end() && deleted->is_boolean() && deleted->get<bool>()) ||
                  (after && IsZeroSha(*after));
  }
  return out;
}

bool VerifyGitHubSignature(std::string_view secret, std::string_view body,
                           std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (!StartsWith(header, kPrefix)) return false;
  return VerifyHexHmac(secret, body, header.substr(kPrefix.size()));
}

bool VerifyGiteaSignature(std::string_view secret, std::string_view body, std::string_view header) {
  return VerifyHexHmac(secret, body, header);
}

bool VerifyGitLabToken(std::string_view secret, std::string_view header) {
  if (secret.empty()) return false;
  // Comparing digests keeps the time independent of where, and whether, the lengths differ.
  Digest expected{};
  Digest claimed{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), expected.data());
  SHA256(reinterpret_cast<const unsigned char*>(header.data()), header.size(), claimed.data());
  return CRYPTO_memcmp(expected.data(), claimed.data(), expected.size()) == 0;
}

std::string NormalizeRepository(std::string_view url) {
  std::string_view s = Trim(url);
  if (s.empty()) return "";

  // scheme://[user[:password]@]host[:port]/path[?query][#fragment]
  size_t scheme_end = s.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 &&
      std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(scheme_end), IsSchemeChar)) {
    std::string scheme = Lower(s.substr(0, scheme_end));
    std::string_view rest = s.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("?#"));
    size_t path_start = std::min(rest.find('/'), rest.size());
    std::string_view authority = rest.substr(0, path_start);
    std::string_view path = rest.substr(path_start);
    if (scheme == "file") {
      // file:///srv/repo and file://localhost/srv/repo name the same path.
      std::string_view host = AuthorityHost(authority);
      std::string local = PercentDecode(path);
      if (!host.empty() && Lower(host) != "localhost") local = "//" + std::string(host) + local;
      return NormalizeLocalPath(local.empty() ? "/" : local);
    }
    // Credentials and ports do not change which repository a URL names, so
    // https://host:8443/a/b and ssh://git@host:2222/a/b are the same one.
    return NormalizeRemote(AuthorityHost(authority), path);
  }

  if (StartsWith(s, "/") || StartsWith(s, "./") || StartsWith(s, "../") || StartsWith(s, "~") ||
      s == "." || s == "..") {
    return NormalizeLocalPath(s);
  }

  // scp-like "[user@]host:path", as git reads it: a colon before any slash.
  size_t colon = s.find(':');
  size_t slash = s.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    std::string_view host = s.substr(0, colon);
    size_t at = host.rfind('@');
    if (at != std::string_view::npos) host.remove_prefix(at + 1);
    return NormalizeRemote(host, s.substr(colon + 1));
  }

  // "owner/name", or a URL without a scheme such as "github.com/owner/name".
  return NormalizeRemote("", s);
}

bool WebhookNamesRepository(const WebhookEvent& event, std::string_view registered_url) {
  std::string registered = NormalizeRepository(registered_url);
  if (registered.empty()) return false;
  for (const std::string& name : event.repository) {
    if (name == registered) return true;
  }
  // "owner/name" (or any "a/b" form the payload gives) against the end of the
  // registered path, whole components only and ignoring case: "codertocat/hello-world"
  // names "/srv/git/Codertocat/Hello-World.git" but not ".../xcodertocat/hello-world".
  std::string registered_lower = Lower(registered);
  for (const std::string& name : event.repository) {
    if (name.empty() || name.front() == '/' || name.front() == '.' || name.front() == '~' ||
        name.find('/') == std::string::npos) {
      continue;  // Paths name only themselves.
    }
    if (registered_lower.size() <= name.size()) continue;
    size_t start = registered_lower.size() - name.size();
    if (registered_lower[start - 1] == '/' &&
        registered_lower.compare(start, name.size(), name) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace tauon::scm
