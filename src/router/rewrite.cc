#include "router/rewrite.h"

#include <fmt/format.h>

namespace tauon::router {

namespace {

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

}  // namespace

void BuildUpstreamHead(const RequestHead& request, std::string_view request_id,
                       bool add_request_id, std::string_view client_address,
                       std::string_view default_host, std::string* out) {
  out->append(request.method);
  out->push_back(' ');
  out->append(request.target);
  out->append(" HTTP/1.1\r\n");
  bool lists_fields = ConnectionListsFields(request.fields);
  bool has_host = false;
  std::string forwarded_for;
  for (const HeaderField& field : request.fields) {
    if (IsHopByHop(field.name) || EqualsIgnoreCase(field.name, "content-length") ||
        EqualsIgnoreCase(field.name, "expect") ||
        (lists_fields && IsListedInConnection(request.fields, field.name))) {
      continue;
    }
    if (EqualsIgnoreCase(field.name, "x-forwarded-for")) {
      if (!forwarded_for.empty()) forwarded_for.append(", ");
      forwarded_for.append(field.value);
      continue;
    }
    if (EqualsIgnoreCase(field.name, "host")) has_host = true;
    AppendField(field.name, field.value, out);
  }
  if (!has_host && !default_host.empty()) AppendField("Host", default_host, out);
  if (add_request_id) AppendField("X-Request-Id", request_id, out);
  if (!client_address.empty()) {
    if (!forwarded_for.empty()) forwarded_for.append(", ");
    forwarded_for.append(client_address);
  }
  if (!forwarded_for.empty()) AppendField("X-Forwarded-For", forwarded_for, out);
}

void FinishUpstreamHead(size_t body_bytes, bool had_body, std::string* out) {
  if (had_body || body_bytes > 0) fmt::format_to(std::back_inserter(*out), "Content-Length: {}\r\n", body_bytes);
  out->append("\r\n");
}

void BuildClientHead(const ResponseHead& response, bool chunked, bool close,
                     bool http10_keep_alive, std::string_view request_id,
                     std::string_view release, std::string* out) {
  out->clear();
  char code[4] = {static_cast<char>('0' + response.status / 100),
                  static_cast<char>('0' + response.status / 10 % 10),
                  static_cast<char>('0' + response.status % 10), ' '};
  out->append("HTTP/1.1 ");
  out->append(code, 4);
  out->append(response.reason.empty() ? ReasonPhrase(response.status) : response.reason);
  out->append("\r\n");
  bool lists_fields = ConnectionListsFields(response.fields);
  bool has_request_id = false;
  for (const HeaderField& field : response.fields) {
    if (IsHopByHop(field.name) ||
        (lists_fields && IsListedInConnection(response.fields, field.name))) {
      continue;
    }
    if (chunked && EqualsIgnoreCase(field.name, "content-length")) continue;
    if (EqualsIgnoreCase(field.name, "x-request-id")) has_request_id = true;
    AppendField(field.name, field.value, out);
  }
  if (!has_request_id) AppendField("X-Request-Id", request_id, out);
  AppendField("X-Tauon-Release", release, out);
  if (chunked) out->append("Transfer-Encoding: chunked\r\n");
  if (close) {
    out->append("Connection: close\r\n");
  } else if (http10_keep_alive) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
}

std::string ErrorResponse(int status, std::string_view message, std::string_view request_id,
                          bool close) {
  std::string body = fmt::format("tauon router: {}\n", message);
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
      status, ReasonPhrase(status), body.size());
  if (!request_id.empty()) AppendField("X-Request-Id", request_id, &out);
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(body);
  return out;
}

}  // namespace tauon::router
