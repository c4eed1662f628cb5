#include "qarch/explore/trace_jobs.h"

#include <memory>
#include <utility>

namespace qarch::explore {

using models::GemmJob;
using models::Operand;

GemmJob job_from_trace(const workloads::TraceGemm& g) {
  GemmJob j;
  j.name = g.op.name;
  j.m = g.op.m;
  j.n = g.op.n;
  j.k = g.op.k;
  j.batch = g.op.batch;
  j.x_format = g.x.format;
  j.w_format = g.w.format;
  return j;
}

std::vector<GemmJob> jobs_from_trace(const workloads::TraceReader& trace) {
  std::vector<GemmJob> jobs;
  jobs.reserve(trace.gemms().size());
  for (const workloads::TraceGemm& g : trace.gemms()) jobs.push_back(job_from_trace(g));
  return jobs;
}

GemmJob functional_job_from_trace(const workloads::TraceReader& trace, size_t i) {
  const workloads::TraceGemm& g = trace.gemms().at(i);
  auto [x, w] = trace.load_operands(i);  // throws for shape-only traces
  GemmJob j = job_from_trace(g);
  j.name += " (stored sample)";
  j.m = x.rows;
  j.n = w.rows;
  j.k = x.cols;
  j.batch = 1;
  j.x = {Operand{std::make_shared<quant::EncodedTensor>(std::move(x)), nullptr}};
  j.w = {Operand{std::make_shared<quant::EncodedTensor>(std::move(w)), nullptr}};
  return j;
}

}  // namespace qarch::explore
