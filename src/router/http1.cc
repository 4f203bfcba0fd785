#include "router/http1.h"

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace tauon::router {

namespace {

// tchar of RFC 9110 section 5.6.2.
constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kToken = MakeTokenTable();

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kToken[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Finds the end of the head: the blank line. Lines end in CRLF or, leniently
// (RFC 9112 section 2.2), a bare LF. Returns the head length or 0.
size_t FindHeadEnd(std::string_view data, size_t* scanned) {
  size_t i = *scanned;
  for (; i < data.size(); ++i) {
    if (data[i] != '\n') continue;
    if (i >= 1 && data[i - 1] == '\n') return i + 1;
    if (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n') return i + 1;
  }
  // Resume a little before the end: the terminator may be split.
  *scanned = data.size() >= 2 ? data.size() - 2 : 0;
  return 0;
}

// Splits off the next line (without its CR LF).
std::string_view NextLine(std::string_view* rest) {
  size_t lf = rest->find('\n');
  std::string_view line = rest->substr(0, lf);
  rest->remove_prefix(lf == std::string_view::npos ? rest->size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Header fields and the framing they imply, shared by requests and responses.
struct Framing {
  bool has_length = false;
  uint64_t length = 0;
  bool chunked = false;
  bool has_transfer_encoding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool expect_continue = false;
};

bool ParseFields(std::string_view rest, std::vector<HeaderField>* fields, Framing* framing,
                 std::string* error, int* status) {
  fields->clear();
  for (;;) {
    std::string_view line = NextLine(&rest);
    if (line.empty()) return true;
    if (line.front() == ' ' || line.front() == '\t') {
      *error = "obsolete line folding in header fields";
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      *error = fmt::format("header line without a colon: '{}'", line.substr(0, 80));
      return false;
    }
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) {
      *error = fmt::format("invalid header field name '{}'", name.substr(0, 80));
      return false;
    }
    std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        *error = fmt::format("control character in header field '{}'", name);
        return false;
      }
    }
    fields->push_back({name, value});
    if (EqualsIgnoreCase(name, "content-length")) {
      uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        *error = fmt::format("invalid Content-Length '{}'", value.substr(0, 40));
        return false;
      }
      if (framing->has_length && framing->length != length) {
        *error = "conflicting Content-Length fields";
        return false;
      }
      framing->has_length = true;
      framing->length = length;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      framing->has_transfer_encoding = true;
      // Only "chunked" as the last coding is understood.
      std::string_view last = value;
      size_t comma = value.rfind(',');
      if (comma != std::string_view::npos) last = TrimOws(value.substr(comma + 1));
      if (!EqualsIgnoreCase(last, "chunked")) {
        *error = fmt::format("unsupported Transfer-Encoding '{}'", value.substr(0, 40));
        *status = 501;
        return false;
      }
      framing->chunked = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      std::string_view tokens = value;
      while (!tokens.empty()) {
        size_t comma = tokens.find(',');
        std::string_view token = TrimOws(tokens.substr(0, comma));
        if (EqualsIgnoreCase(token, "close")) framing->connection_close = true;
        if (EqualsIgnoreCase(token, "keep-alive")) framing->connection_keep_alive = true;
        if (comma == std::string_view::npos) break;
        tokens.remove_prefix(comma + 1);
      }
    } else if (EqualsIgnoreCase(name, "expect")) {
      if (EqualsIgnoreCase(value, "100-continue")) framing->expect_continue = true;
    }
  }
}

// "HTTP/1.1" -> minor version; -1 when not HTTP/1.x.
int ParseVersion(std::string_view text, std::string* error, int* status) {
  if (text.size() != 8 || !text.starts_with("HTTP/") || text[6] != '.' || text[5] < '0' ||
      text[5] > '9' || text[7] < '0' || text[7] > '9') {
    *error = fmt::format("invalid HTTP version '{}'", text.substr(0, 20));
    return -1;
  }
  if (text[5] != '1') {
    *error = fmt::format("unsupported HTTP version '{}'", text);
    *status = 505;
    return -1;
  }
  return text[7] == '0' ? 0 : 1;
}

}  // namespace

bool ConnectionListsFields(const std::vector<HeaderField>& fields) {
  for (const HeaderField& field : fields) {
    if (!EqualsIgnoreCase(field.name, "connection")) continue;
    std::string_view tokens = field.value;
    while (!tokens.empty()) {
      size_t comma = tokens.find(',');
      std::string_view token = TrimOws(tokens.substr(0, comma));
      if (!token.empty() && !EqualsIgnoreCase(token, "close") &&
          !EqualsIgnoreCase(token, "keep-alive")) {
        return true;
      }
      if (comma == std::string_view::npos) break;
      tokens.remove_prefix(comma + 1);
    }
  }
  return false;
}

ParseResult ParseRequestHead(std::string_view data, size_t* scanned, RequestHead* head,
                             std::string* error, int* status) {
  *status = 400;
  // Robustness (RFC 9112 section 2.2): empty lines before a request are ignored.
  size_t skip = 0;
  while (skip < data.size() && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
  if (skip == data.size()) return ParseResult::kIncomplete;
  if (*scanned < skip) *scanned = skip;
  size_t end = FindHeadEnd(data, scanned);
  if (end == 0) return ParseResult::kIncomplete;
  std::string_view rest = data.substr(skip, end - skip);
  std::string_view line = NextLine(&rest);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    *error = fmt::format("malformed request line '{}'", line.substr(0, 80));
    return ParseResult::kError;
  }
  head->method = line.substr(0, sp1);
  head->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!IsToken(head->method)) {
    *error = fmt::format("invalid method '{}'", head->method.substr(0, 40));
    return ParseResult::kError;
  }
  if (head->target.empty()) {
    *error = "empty request target";
    return ParseResult::kError;
  }
  for (char c : head->target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      *error = "control character in the request target";
      return ParseResult::kError;
    }
  }
  head->version_minor = ParseVersion(line.substr(sp2 + 1), error, status);
  if (head->version_minor < 0) return ParseResult::kError;
  Framing framing;
  if (!ParseFields(rest, &head->fields, &framing, error, status)) return ParseResult::kError;
  if (framing.has_transfer_encoding && framing.has_length) {
    // Request smuggling: RFC 9112 section 6.1 lets a server reject these.
    *error = "both Transfer-Encoding and Content-Length";
    return ParseResult::kError;
  }
  if (head->version_minor == 1) {
    bool has_host = false;
    FindField(head->fields, "host", &has_host);
    if (!has_host) {
      *error = "HTTP/1.1 request without Host";
      return ParseResult::kError;
    }
  }
  if (framing.chunked) {
    head->body = BodyKind::kChunked;
  } else if (framing.has_length && framing.length > 0) {
    head->body = BodyKind::kContentLength;
  } else {
    head->body = BodyKind::kNone;
  }
  head->content_length = framing.length;
  head->keep_alive = head->version_minor == 1 ? !framing.connection_close
                                              : framing.connection_keep_alive &&
                                                    !framing.connection_close;
  head->expect_continue = framing.expect_continue;
  head->head_bytes = end;
  return ParseResult::kDone;
}

ParseResult ParseResponseHead(std::string_view data, size_t* scanned, std::string_view method,
                              ResponseHead* head, std::string* error) {
  size_t end = FindHeadEnd(data, scanned);
  if (end == 0) {
    // Fail early on bytes that cannot start a status line.
    std::string_view prefix = data.substr(0, 5);
    if (!std::string_view("HTTP/").starts_with(prefix)) {
      *error = "upstream response does not start with 'HTTP/'";
      return ParseResult::kError;
    }
    return ParseResult::kIncomplete;
  }
  std::string_view rest = data.substr(0, end);
  std::string_view line = NextLine(&rest);
  int status_code = 0;
  size_t sp1 = line.find(' ');
  std::string_view code = sp1 == std::string_view::npos ? "" : line.substr(sp1 + 1, 3);
  int ignored = 0;
  head->version_minor = ParseVersion(line.substr(0, sp1), error, &ignored);
  if (head->version_minor < 0) return ParseResult::kError;
  auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), status_code);
  if (code.size() != 3 || ec != std::errc() || ptr != code.data() + 3 || status_code < 100 ||
      status_code > 599 || (line.size() > sp1 + 4 && line[sp1 + 4] != ' ')) {
    *error = fmt::format("malformed status line '{}'", line.substr(0, 80));
    return ParseResult::kError;
  }
  head->status = status_code;
  head->reason = line.size() > sp1 + 5 ? line.substr(sp1 + 5) : std::string_view();
  Framing framing;
  int status = 0;
  if (!ParseFields(rest, &head->fields, &framing, error, &status)) return ParseResult::kError;
  head->keep_alive = head->version_minor == 1 ? !framing.connection_close
                                              : framing.connection_keep_alive &&
                                                    !framing.connection_close;
  head->content_length = framing.length;
  if (method == "HEAD" || status_code < 200 || status_code == 204 || status_code == 304) {
    head->body = BodyKind::kNone;
  } else if (framing.chunked) {
    head->body = BodyKind::kChunked;
  } else if (framing.has_transfer_encoding) {
    head->body = BodyKind::kUntilClose;
  } else if (framing.has_length) {
    head->body = framing.length > 0 ? BodyKind::kContentLength : BodyKind::kNone;
  } else {
    head->body = BodyKind::kUntilClose;
  }
  if (head->body == BodyKind::kUntilClose) head->keep_alive = false;
  head->head_bytes = end;
  return ParseResult::kDone;
}

ChunkedDecoder::State ChunkedDecoder::Fail(std::string message) {
  error_ = std::move(message);
  return State::kError;
}

size_t ChunkedDecoder::Feed(std::string_view data, std::vector<std::string_view>* pieces) {
  constexpr size_t kMaxLine = 4096;
  constexpr size_t kMaxTrailers = 64 * 1024;
  size_t i = 0;
  while (i < data.size() && state_ != State::kDone && state_ != State::kError) {
    char c = data[i];
    switch (state_) {
      case State::kSize: {
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit >= 0) {
          if (++size_digits_ > 15) {
            state_ = Fail("chunk size too large");
            break;
          }
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(digit);
          ++i;
        } else if (size_digits_ == 0) {
          state_ = Fail("chunk size is not a hexadecimal number");
        } else {
          state_ = State::kSizeLine;
          line_bytes_ = 0;
        }
        break;
      }
      case State::kSizeLine:  // Chunk extensions are ignored, up to the LF.
        ++i;
        if (c == '\n') {
          state_ = remaining_ == 0 ? State::kTrailer : State::kData;
        } else if (++line_bytes_ > kMaxLine) {
          state_ = Fail("chunk extension too long");
        } else if (c != ';' && c != '\r' && line_bytes_ == 1 && c != ' ' && c != '\t') {
          state_ = Fail("invalid character after chunk size");
        }
        break;
      case State::kData: {
        size_t n = static_cast<size_t>(
            std::min<uint64_t>(remaining_, static_cast<uint64_t>(data.size() - i)));
        pieces->push_back(data.substr(i, n));
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        ++i;
        if (c == '\r') {
          state_ = State::kDataLf;
        } else if (c == '\n') {
          state_ = State::kSize;
          size_digits_ = 0;
        } else {
          state_ = Fail("chunk data not followed by CRLF");
        }
        break;
      case State::kDataLf:
        ++i;
        if (c != '\n') {
          state_ = Fail("chunk data not followed by CRLF");
        } else {
          state_ = State::kSize;
          size_digits_ = 0;
        }
        break;
      case State::kTrailer:  // Start of a trailer line (or the final blank line).
        trailer_line_empty_ = true;
        state_ = State::kTrailerLine;
        break;
      case State::kTrailerLine:
        ++i;
        if (++trailer_bytes_ > kMaxTrailers) {
          state_ = Fail("chunked trailer too long");
        } else if (c == '\n') {
          state_ = trailer_line_empty_ ? State::kDone : State::kTrailer;
        } else if (c != '\r') {
          trailer_line_empty_ = false;
        }
        break;
      case State::kDone:
      case State::kError:
        break;
    }
  }
  return i;
}

bool IsHopByHop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"};
  for (std::string_view hop : kNames) {
    if (EqualsIgnoreCase(name, hop)) return true;
  }
  return name.size() >= 6 && EqualsIgnoreCase(name.substr(0, 6), "proxy-");
}

bool IsListedInConnection(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const HeaderField& field : fields) {
    if (!EqualsIgnoreCase(field.name, "connection")) continue;
    std::string_view tokens = field.value;
    while (!tokens.empty()) {
      size_t comma = tokens.find(',');
      if (EqualsIgnoreCase(TrimOws(tokens.substr(0, comma)), name)) return true;
      if (comma == std::string_view::npos) break;
      tokens.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string_view FindField(const std::vector<HeaderField>& fields, std::string_view name,
                           bool* found) {
  for (const HeaderField& field : fields) {
    if (EqualsIgnoreCase(field.name, name)) {
      if (found) *found = true;
      return field.value;
    }
  }
  if (found) *found = false;
  return {};
}

std::string_view FindCookie(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const HeaderField& field : fields) {
    if (!EqualsIgnoreCase(field.name, "cookie")) continue;
    std::string_view pairs = field.value;
    while (!pairs.empty()) {
      size_t semi = pairs.find(';');
      std::string_view pair = TrimOws(pairs.substr(0, semi));
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        std::string_view value = pair.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        return value;
      }
      if (semi == std::string_view::npos) break;
      pairs.remove_prefix(semi + 1);
    }
  }
  return {};
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace tauon::router
