// The model registry as resources, for the CLI (`tauon models`, `tauon
// model ...`) and the HTTP API alike.
#pragma once

#include <expected>
#include <string>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace tauon::api {

// Why a request about models failed: 400 (malformed reference) or 404
// (unknown model, version, alias or run), with the message.
struct Problem {
  int status = 400;
  std::string message;
};
template <typename T>
using Answer = std::expected<T, Problem>;

// Every version of every model, oldest first (ModelVersionJson each).
Answer<nlohmann::json> ModelsJson(store::Store& store);
// One version: NAME, NAME@VERSION or NAME@ALIAS.
Answer<nlohmann::json> ModelJson(store::Store& store, const std::string& ref);
// Where a version comes from: {"model", "run" (its run resource),
// "alias_history" (this version's), "deployments"}.
Answer<nlohmann::json> ModelLineageJson(store::Store& store, const std::string& ref);
// Metrics of two versions (or `run:ID` candidates) side by side:
// {"a", "b", "metrics": [{"metric", "a", "b", "delta"}], "same_files"}.
Answer<nlohmann::json> ModelDiffJson(store::Store& store, const std::string& a,
                                     const std::string& b);
// Points `alias` at NAME@VERSION, recorded as done by `by`; returns the
// version and where the alias was before ("previous": null if new).
Answer<nlohmann::json> SetModelAliasJson(store::Store& store, const std::string& ref,
                                         const std::string& alias, const std::string& by,
                                         TimePoint at);

}  // namespace tauon::api
