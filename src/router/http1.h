// The router's HTTP/1.1 wire format: request and response heads parsed in
// place (views into the connection's buffer), chunked bodies decoded
// incrementally, and the hop-by-hop rules of RFC 9110 section 7.6.1.
//
// It is separate from src/http (Beast, one request at a time, whole bodies)
// because the router forwards bytes as they arrive and must not copy or
// allocate per header: a proxy in front of model servers has to keep up with
// nginx. Nothing here does I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tauon::router {

struct HeaderField {
  std::string_view name;
  std::string_view value;  // Without surrounding whitespace.
};

// What framing a message body has (RFC 9112 section 6.3).
enum class BodyKind {
  kNone,           // No body (or Content-Length: 0).
  kContentLength,  // `content_length` bytes.
  kChunked,        // Transfer-Encoding: chunked.
  kUntilClose,     // Responses only: the body ends when the upstream closes.
};

struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1.
  std::vector<HeaderField> fields;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;        // After this exchange, by version and Connection.
  bool expect_continue = false;  // Expect: 100-continue.
  size_t head_bytes = 0;         // Length of the head, blank line included.
};

struct ResponseHead {
  int version_minor = 1;
  int status = 0;
  std::string_view reason;
  std::vector<HeaderField> fields;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;  // Whether the upstream connection can be reused.
  size_t head_bytes = 0;
};

enum class ParseResult { kIncomplete, kDone, kError };

// Parses the request head at the start of `data`. kIncomplete: more bytes are
// needed (the caller bounds the head size). kError: `*error` says what is
// wrong (the client gets 400; `*status` is set to a better code when there is
// one: 501 for an unknown transfer coding, 505 for HTTP/2 or later).
// `*scanned` carries how far a previous call looked for the end of the head,
// so that a client sending one byte at a time costs linear time; start at 0.
ParseResult ParseRequestHead(std::string_view data, size_t* scanned, RequestHead* head,
                             std::string* error, int* status);

// Parses a response head to a request with method `method` (HEAD responses
// have no body). kError means the upstream sent something that is not HTTP.
ParseResult ParseResponseHead(std::string_view data, size_t* scanned, std::string_view method,
                              ResponseHead* head, std::string* error);

// Incremental decoder of a chunked body. Feed it bytes as they arrive; it
// reports the data inside the chunks and when the body (trailers included)
// ends. Trailer fields are skipped, not reported (the router forwards the raw
// chunked bytes, trailers included, to HTTP/1.1 clients, and drops them for
// HTTP/1.0 ones: RFC 9110 section 6.5.1 allows discarding them).
class ChunkedDecoder {
 public:
  // Consumes bytes from `data` and appends the pieces of chunk data found to
  // `*pieces` (views into `data`). Returns how many bytes were consumed: all
  // of them, or fewer when the body ended (the rest belongs to the next
  // message). Sets has_error() on malformed framing.
  size_t Feed(std::string_view data, std::vector<std::string_view>* pieces);
  bool done() const { return state_ == State::kDone; }
  bool has_error() const { return state_ == State::kError; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kSize, kSizeLine, kData, kDataCr, kDataLf, kTrailer, kTrailerLine, kDone,
                     kError };
  State Fail(std::string message);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;   // Data bytes left in the current chunk.
  int size_digits_ = 0;
  size_t line_bytes_ = 0;    // Length of the current size or trailer line (bounded).
  size_t trailer_bytes_ = 0;
  bool trailer_line_empty_ = true;
  std::string error_;
};

// True for the fields a proxy must not forward (RFC 9110 section 7.6.1):
// Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
// Upgrade and every Proxy-* field. Case-insensitive.
bool IsHopByHop(std::string_view name);

// True when `name` is one of the comma-separated tokens of the Connection
// fields in `fields` (the sender declared it hop-by-hop).
bool IsListedInConnection(const std::vector<HeaderField>& fields, std::string_view name);

// ASCII case-insensitive equality (inline: the proxy calls it per header field).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// True when a Connection field lists a token other than "close" and
// "keep-alive", i.e. names fields that must not be forwarded.
bool ConnectionListsFields(const std::vector<HeaderField>& fields);

// The value of the first field called `name`, or "" (and *found = false).
std::string_view FindField(const std::vector<HeaderField>& fields, std::string_view name,
                           bool* found = nullptr);

// The value of cookie `name` in the Cookie fields, or "".
std::string_view FindCookie(const std::vector<HeaderField>& fields, std::string_view name);

// "200" -> "OK"; the reason phrase the router writes for its own responses.
std::string_view ReasonPhrase(int status);

}  // namespace tauon::router
