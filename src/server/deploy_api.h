// The HTTP API of deployments: environments, deploys and replica logs
// (docs/api.md#environments). Every route needs the API token.
#pragma once

#include <functional>
#include <string>

#include "deploy/controller.h"
#include "http/server.h"

namespace tauon::server {

class DeployApi {
 public:
  DeployApi(deploy::Controller& controller, std::string token)
      : controller_(controller), token_(std::move(token)) {}

  void Register(http::Server& server);

 private:
  http::Response Environments(const http::Request& request);
  http::Response Environment(const http::Request& request);
  http::Response Deploy(const http::Request& request);
  http::Response ReplicaLog(const http::Request& request);
  http::Response Promote(const http::Request& request);
  http::Response Abort(const http::Request& request);
  http::Response Rollback(const http::Request& request);
  // Promote and Abort: `action` on the environment, then the environment.
  http::Response Act(const http::Request& request,
                     const std::function<Result<std::string>(const std::string&,
                                                             const std::string&)>& action);

  deploy::Controller& controller_;
  const std::string token_;
};

}  // namespace tauon::server
