// What the router changes in the messages it forwards (RFC 9110 section
// 7.6): hop-by-hop fields out, its own fields in. Pure string building, so
// the rules are unit-tested here and the I/O code only calls these.
#pragma once

#include <string>
#include <string_view>

#include "router/http1.h"

namespace tauon::router {

// Appends to `*out` the head of the
// request sent to a replica, without its last lines (FinishUpstreamHead adds
// them once the body is read):
// - the request line, as HTTP/1.1;
// - the fields, minus hop-by-hop ones (IsHopByHop), the ones Connection
//   lists, Content-Length and Expect (the router reads the body itself and
//   re-frames it), and X-Forwarded-For (merged into one field);
// - `Host: default_host` when the request has no Host (HTTP/1.0);
// - `X-Request-Id: request_id` when `add_request_id`;
// - `X-Forwarded-For`: the client's ones, then `client_address` (if any).
void BuildUpstreamHead(const RequestHead& request, std::string_view request_id,
                       bool add_request_id, std::string_view client_address,
                       std::string_view default_host, std::string* out);

// Ends a head from BuildUpstreamHead: Content-Length when the request had a
// body (even an empty one) and the blank line.
void FinishUpstreamHead(size_t body_bytes, bool had_body, std::string* out);

// Replaces `*out` with the head sent to the client for `response`: status
// line as HTTP/1.1; the fields minus hop-by-hop and Connection-listed ones
// (and Content-Length when re-framed as chunked); X-Request-Id (unless the
// replica sent one) and `X-Tauon-Release: release`; then
// `Transfer-Encoding: chunked` when `chunked`, and `Connection: close` when
// `close`, else `Connection: keep-alive` when `http10_keep_alive`.
void BuildClientHead(const ResponseHead& response, bool chunked, bool close,
                     bool http10_keep_alive, std::string_view request_id,
                     std::string_view release, std::string* out);

// A response the router makes itself: `status`, a text body
// "tauon router: MESSAGE\n", X-Request-Id when given, Connection: close when
// `close`.
std::string ErrorResponse(int status, std::string_view message, std::string_view request_id,
                          bool close);

}  // namespace tauon::router
