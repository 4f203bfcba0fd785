#include "server/deploy_api.h"

#include <fstream>
#include <sstream>

#include "artifacts/registry.h"
#include "server/api.h"

namespace tauon::server {
namespace {

using http::ObjectBody;
using http::Request;
using http::Response;
using http::StringField;
using nlohmann::json;

constexpr size_t kMaxLogBytes = 4 * 1024 * 1024;  // The end of a longer log.

// Who a request acts for: its body's "by", else the admin (one token, one user).
std::optional<std::string> Actor(const json& body, Response* error) {
  std::optional<std::string> who = StringField(body, "by", error, "");
  if (who && who->empty()) *who = "admin";
  return who;
}

}  // namespace

void DeployApi::Register(http::Server& server) {
  auto route = [&](const char* method, const char* pattern,
                   Response (DeployApi::*handler)(const Request&)) {
    server.Route(method, pattern, RequireToken(token_, [this, handler](const Request& request) {
                   return (this->*handler)(request);
                 }));
  };
  route("GET", "/api/v1/environments", &DeployApi::Environments);
  route("GET", "/api/v1/environments/{name}", &DeployApi::Environment);
  route("POST", "/api/v1/environments/{name}/deploy", &DeployApi::Deploy);
  route("POST", "/api/v1/environments/{name}/promote", &DeployApi::Promote);
  route("POST", "/api/v1/environments/{name}/abort", &DeployApi::Abort);
  route("POST", "/api/v1/environments/{name}/rollback", &DeployApi::Rollback);
  route("GET", "/api/v1/environments/{name}/replicas/{replica}/logs", &DeployApi::ReplicaLog);
}

Response DeployApi::Environments(const Request&) {
  Result<json> environments = controller_.Environments();
  if (!environments) return Response::Error(500, environments.error().message);
  return Response::Json(200, {{"environments", *environments}});
}

Response DeployApi::Environment(const Request& request) {
  const std::string& name = request.params.at("name");
  Result<std::optional<json>> environment = controller_.Environment(name);
  if (!environment) return Response::Error(500, environment.error().message);
  if (!*environment) {
    if (std::optional<std::string> waiting = controller_.WaitingForApproval(name)) {
      return Response::Error(404, fmt::format("no environment '{}' yet: {} waits for its "
                                              "approval (tauon promote {} deploys it)",
                                              name, *waiting, name));
    }
    return Response::Error(404, fmt::format("no environment '{}' (deploy to it first: tauon "
                                            "deploy {} --model NAME@VERSION)",
                                            name, name));
  }
  return Response::Json(200, **environment);
}

Response DeployApi::Deploy(const Request& request) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> model = StringField(*body, "model", &error, "");
  std::optional<std::string> repo = StringField(*body, "repo", &error, "");
  std::optional<std::string> who = Actor(*body, &error);
  if (!model || !repo || !who) return error;
  if (model->empty()) {
    return Response::Error(400, "'model' is required: NAME, NAME@VERSION or NAME@ALIAS");
  }
  deploy::DeployRequest deploy{request.params.at("name"), *model, *repo, *who};
  if (Result<artifacts::ModelRef> ref = artifacts::ParseModelRef(deploy.model); !ref) {
    return Response::Error(400, ref.error().message);
  }
  Result<int64_t> release = controller_.Deploy(deploy);
  if (!release) return Response::Error(422, release.error().message);
  Result<std::optional<json>> environment = controller_.Environment(deploy.environment);
  if (!environment || !*environment) {
    return Response::Json(202, {{"release", *release}});
  }
  json out = **environment;
  out["release"] = *release;
  return Response::Json(202, out);
}

Response DeployApi::Act(
    const Request& request,
    const std::function<Result<std::string>(const std::string&, const std::string&)>& action) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> who = Actor(*body, &error);
  if (!who) return error;
  const std::string& name = request.params.at("name");
  // First: a promotion may create the environment (the first release of an
  // `approval: manual` environment).
  Result<std::string> done = action(name, *who);
  Result<std::optional<json>> environment = controller_.Environment(name);
  if (!environment) return Response::Error(500, environment.error().message);
  if (!done) {
    if (!*environment) return Response::Error(404, fmt::format("no environment '{}'", name));
    return Response::Error(409, done.error().message);
  }
  json out = environment && *environment ? **environment : json::object();
  out["message"] = *done;
  return Response::Json(200, out);
}

Response DeployApi::Promote(const Request& request) {
  return Act(request, [this](const std::string& environment, const std::string& who) {
    return controller_.Promote(environment, who);
  });
}

Response DeployApi::Abort(const Request& request) {
  return Act(request, [this](const std::string& environment, const std::string& who) {
    return controller_.Abort(environment, who);
  });
}

Response DeployApi::Rollback(const Request& request) {
  Response error;
  std::optional<json> body = ObjectBody(request, &error);
  if (!body) return error;
  std::optional<std::string> to = StringField(*body, "to", &error, "");
  std::optional<std::string> who = Actor(*body, &error);
  if (!to || !who) return error;
  const std::string& name = request.params.at("name");
  Result<std::optional<json>> environment = controller_.Environment(name);
  if (!environment) return Response::Error(500, environment.error().message);
  if (!*environment) return Response::Error(404, fmt::format("no environment '{}'", name));
  Result<int64_t> release = controller_.Rollback(name, *to, *who);
  if (!release) return Response::Error(409, release.error().message);
  environment = controller_.Environment(name);
  json out = environment && *environment ? **environment : json::object();
  out["release"] = *release;
  return Response::Json(202, out);
}

Response DeployApi::ReplicaLog(const Request& request) {
  std::optional<int64_t> release;
  if (auto it = request.query.find("release"); it != request.query.end()) {
    const std::string& text = it->second;
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return Response::Error(400, fmt::format("invalid release '{}'", text));
    }
    release = std::stoll(text);
  }
  Result<std::filesystem::path> log =
      controller_.ReplicaLog(request.params.at("name"), request.params.at("replica"), release);
  if (!log) return Response::Error(404, log.error().message);
  std::ifstream in(*log, std::ios::binary);
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(size > static_cast<std::streamoff>(kMaxLogBytes)
               ? size - static_cast<std::streamoff>(kMaxLogBytes)
               : 0);
  std::stringstream content;
  content << in.rdbuf();
  return Response::Text(200, content.str(), "text/plain; charset=utf-8");
}

}  // namespace tauon::server
