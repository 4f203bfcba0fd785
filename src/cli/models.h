// `tauon models` and `tauon model show|alias|lineage|diff`, over a data
// directory's model registry.
#pragma once

#include <filesystem>
#include <string>

namespace tauon::cli {

int ModelsCommand(const std::filesystem::path& data_dir, bool json);
int ModelShowCommand(const std::filesystem::path& data_dir, const std::string& ref, bool json);
// Points ALIAS at NAME@VERSION; the alias's earlier positions stay in its history.
int ModelAliasCommand(const std::filesystem::path& data_dir, const std::string& ref,
                      const std::string& alias);
int ModelLineageCommand(const std::filesystem::path& data_dir, const std::string& ref, bool json);
int ModelDiffCommand(const std::filesystem::path& data_dir, const std::string& a,
                     const std::string& b, bool json);

}  // namespace tauon::cli
