// Internal: JSON forms of the trace structures (trace.h). JSON has no NaN/Inf: they are
// written as null and read back as NaN (+inf for a QSNR, the value of an exact quantization).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "qarch/workloads/trace.h"

namespace qarch::workloads::detail {

nlohmann::ordered_json header_json(const TraceHeader& h);
TraceHeader header_from_json(const nlohmann::json& j, const std::string& file);

nlohmann::ordered_json gemm_manifest_json(const TraceGemm& g, const TraceHeader& h);
TraceGemm gemm_from_manifest(const nlohmann::json& j, const std::string& file);

nlohmann::ordered_json gemm_op_json(const GemmOp& g);
GemmOp gemm_op_from_json(const nlohmann::json& j);

nlohmann::ordered_json elementwise_json(const ElementwiseOp& e);
ElementwiseOp elementwise_from_json(const nlohmann::json& j);

nlohmann::ordered_json stats_json(const quant::TensorStats& s);
nlohmann::ordered_json metrics_json(const quant::ErrorMetrics& m);
nlohmann::ordered_json outliers_json(const OutlierParams& p);

}  // namespace qarch::workloads::detail
