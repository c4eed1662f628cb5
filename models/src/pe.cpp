#include "qarch/models/pe.h"

#include <cstdlib>

#include "pe_common.h"
#include "qarch/common/error.h"

namespace qarch::models {

namespace detail {}  // namespace detail

PeOperand PeType::prepare(std::shared_ptr<const quant::DecodedTensor> d,
                          const quant::EncodedTensor*) const {
  PeOperand p;
  p.full = std::move(d);
  return p;
}

quant::IntDot PeType::dot(const PeOperand& x, int64_t i, const PeOperand& w, int64_t j, int64_t k0,
                          int64_t k1) const {
  return quant::reference_int_dot(*x.full, i, *w.full, j, k0, k1);
}

void PeType::count_macs(const MacBlock& b, Counters& c) const {
  c[mac_kind()] += b.macs();
}

std::vector<const PeType*> list_pe_types() {
  using namespace detail;
  return {&int8_pe(),   &int4_pe(),  &olive4_pe(), &olive8_pe(), &mx_pe(),
          &amxfp4_pe(), &nvfp4_pe(), &bfp_pe(),    &gobo_pe(),   &olaccel_pe()};
}

const PeType& pe_type(const std::string& name, const std::string& field) {
  std::string known;
  for (const PeType* p : list_pe_types()) {
    if (p->name() == name) return *p;
    known += (known.empty() ? "" : ", ") + p->name();
  }
  throw Error(field + ": unknown PE type '" + name + "' (known: " + known + ")");
}

}  // namespace qarch::models
