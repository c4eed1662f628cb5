// Internal: the YAML files compiled into the library (generated zoo_data.cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace qarch::workloads::detail {
/// {"models/llama2-7b.yaml", text}, {"outliers/default.yaml", text}, ...
const std::vector<std::pair<std::string, std::string>>& embedded_yaml();
/// The text of an embedded file by its "dir/name", or nullptr.
const std::string* find_embedded(const std::string& key);
}  // namespace qarch::workloads::detail
