// Internal: applying an outlier-profile YAML node (the document of workloads/outliers/*.yaml,
// or a model file's `outliers:` section) to OutlierParams.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "qarch/workloads/outlier_params.h"

namespace qarch::workloads::detail {
/// `prefix` is the node's key path in the file ("" or "outliers") for messages.
void apply_outlier_node(OutlierParams& params, const YAML::Node& node, const std::string& file,
                        const std::string& prefix);
}  // namespace qarch::workloads::detail
