// From workloads/' quantized layer traces to simulator jobs (here in explore/, the layer that sees
// both: models/ knows no workloads or files). A trace lists every GEMM of a forward pass with its
// full shape, batch (attention: sequences x heads) and the canonical formats its operands were
// encoded in; optionally the packed operands of a row sample and of one batch instance. Timing uses
// the full shapes; the functional check runs the stored sample.
#pragma once

#include <cstddef>
#include <vector>

#include "qarch/models/job.h"
#include "qarch/workloads/trace.h"

namespace qarch::explore {

/// The timing job of one traced GEMM: full shape and batch, operand formats, no operands.
models::GemmJob job_from_trace(const workloads::TraceGemm& g);

/// Every GEMM of a trace, in trace order, for timing.
std::vector<models::GemmJob> jobs_from_trace(const workloads::TraceReader& trace);

/// A functional job for GEMM i of a trace: one instance whose X and W are the stored operands
/// (the stored rows of X and of W, all of K), so the simulated hardware's output can be compared
/// with quant::reference_matmul on the same packed data. Throws qarch::Error for a shape-only
/// trace.
models::GemmJob functional_job_from_trace(const workloads::TraceReader& trace, size_t i);

}  // namespace qarch::explore
