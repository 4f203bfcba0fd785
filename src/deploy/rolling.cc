// strategy.rolling: the new release's replicas replace the stable
// release's a few at a time. Old replicas leave the routing table while
// enough replicas stay ready (max_unavailable), new ones start while the
// total stays within max_surge, and traffic spreads over every ready replica
// of both releases in the meantime.
#include <fmt/format.h>

#include "deploy/controller.h"
#include "util/strings.h"

namespace tauon::deploy {

void Controller::Roll(Active& next) {
  const std::string& environment = next.release.environment;
  const int size = next.release.replicas;
  const spec::RollingStrategy& rolling = *next.settings.rolling;
  const int surge = rolling.max_surge.Of(size, /*round_up=*/true);
  const int unavailable = rolling.max_unavailable.Of(size, /*round_up=*/false);

  const std::vector<runtime::ReplicaStatus> fresh = supervisor_->Replicas(next.release.id);
  const int started = static_cast<int>(fresh.size());
  const int ready = static_cast<int>(std::count_if(fresh.begin(), fresh.end(), [](const auto& r) {
    return r.state == runtime::ReplicaState::kReady;
  }));

  // The stable release's replicas still in the rollout, those not ready first:
  // taking them out costs no capacity.
  Active* stable = Stable(environment);
  std::vector<runtime::ReplicaStatus> old;
  if (stable) {
    for (runtime::ReplicaStatus& replica : supervisor_->Replicas(stable->release.id)) {
      if (!stable->retired.contains(replica.name) &&
          replica.state != runtime::ReplicaState::kStopping &&
          replica.state != runtime::ReplicaState::kStopped) {
        old.push_back(std::move(replica));
      }
    }
  }
  std::stable_partition(old.begin(), old.end(), [](const runtime::ReplicaStatus& r) {
    return r.state != runtime::ReplicaState::kReady;
  });
  const int old_ready = static_cast<int>(std::count_if(old.begin(), old.end(), [](const auto& r) {
    return r.state == runtime::ReplicaState::kReady;
  }));

  // Out: while at least size - max_unavailable replicas stay ready.
  int removable =
      std::min<int>(ready + old_ready - (size - unavailable), static_cast<int>(old.size()));
  std::vector<std::string> out;
  for (int i = 0; i < removable; ++i) out.push_back(old[static_cast<size_t>(i)].name);
  const int old_left = static_cast<int>(old.size()) - static_cast<int>(out.size());

  // In: while the two releases together run at most size + max_surge.
  const int wanted = std::min(size, size + surge - old_left);
  if (wanted > started) supervisor_->Scale(next.release.id, wanted);

  if (!out.empty()) {
    for (const std::string& name : out) stable->retired.insert(name);
    RouteEnvironment(environment);  // Out of the routing table first, then drained.
    for (const std::string& name : out) Drain(stable->release.id, name);
    Event(environment, next.release.id, "rolling",
          fmt::format("{}: {} of {} new replicas ready; {} of release {} leaving ({} left)",
                      next.version, ready, size, Join(out, ", "), stable->release.id, old_left));
  } else {
    RouteEnvironment(environment);  // New replicas that became ready get their share.
  }
  if (old_left == 0 && ready >= size) {
    GoLive(next, fmt::format("{}: rolled out, all {} replicas replaced", next.version, size),
           "tauon");
  }
}

}  // namespace tauon::deploy
