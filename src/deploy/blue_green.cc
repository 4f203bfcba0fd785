// strategy.blue_green: the new release starts at full size next to the
// stable one, reachable only through the environment's preview router;
// after its pre-promotion analysis (if any) and the promotion (automatic or
// `tauon promote`), the environment's traffic switches to it in one routing
// change. The old release keeps running for scale_down_delay, so that a
// rollback in that time is a switch back (Rollback()).
#include <fmt/format.h>

#include "deploy/controller.h"

namespace tauon::deploy {

void Controller::StartPreview(Active& next) {
  const std::string& environment = next.release.environment;
  const spec::BlueGreenStrategy& blue_green = *next.settings.blue_green;
  // Opened once per environment; again when the pipeline moves it to another port.
  auto open = previews_.find(environment);
  if (blue_green.preview &&
      (open == previews_.end() ||
       (blue_green.preview_port != 0 && open->second != blue_green.preview_port))) {
    Result<int> port = traffic_.Open(PreviewRouter(environment),
                                     fmt::format("{}:{}", listen_host_, blue_green.preview_port));
    if (!port) {
      RollBack(next,
               fmt::format("cannot listen on the preview port {}: {}", blue_green.preview_port,
                           port.error().message),
               "tauon");
      return;
    }
    previews_[environment] = *port;
  }
  next.release.phase = "preview";
  (void)store_->SetReleasePhase(next.release.id, "preview", "", clock_.Now());
  RoutePreview(environment);
  next.last_sample = Sample(next);
  next.last_sample_at = clock_.Now();
  Event(environment, next.release.id, "preview",
        fmt::format("{}: {} ready{}{}", next.version, AllReplicas(next.release.replicas),
                    blue_green.preview
                        ? fmt::format(" behind the preview port {}", previews_[environment])
                        : "",
                    blue_green.pre_promotion ? ", pre-promotion analysis running" : ""));
  if (!blue_green.pre_promotion) PreviewPassed(next, "no pre-promotion analysis");
}

void Controller::PreviewPassed(Active& next, const std::string& why) {
  next.preview_passed = true;
  if (next.settings.blue_green->auto_promote) {
    GoLive(next, fmt::format("{}: switched from the preview ({})", next.version, why), "tauon");
    return;
  }
  Event(next.release.environment, next.release.id, "waiting",
        fmt::format("{}: {}; tauon promote {} switches the traffic to it", next.version, why,
                    next.release.environment));
}

void Controller::RoutePreview(const std::string& environment) {
  if (!previews_.contains(environment)) return;
  // The release being previewed, or else the live one.
  const Active* shown = InProgress(environment);
  if (!shown || shown->release.phase != "preview") shown = Stable(environment);
  std::vector<TrafficTarget> targets;
  if (shown) {
    TrafficTarget target;
    target.release = "preview";
    target.version = shown->version;
    target.weight = 1;
    for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(shown->release.id)) {
      if (replica.state == runtime::ReplicaState::kReady) {
        target.upstreams.push_back({replica.name, "127.0.0.1", replica.port});
      }
    }
    targets.push_back(std::move(target));
  }
  Apply(PreviewRouter(environment), std::move(targets));
}

}  // namespace tauon::deploy
