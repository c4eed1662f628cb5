#include "registry.h"

#include "qarch/common/error.h"

namespace qarch::quant {

namespace {
const detail::Registry& registry() {
  static const detail::Registry r = [] {
    detail::Registry reg;
    detail::register_fp_formats(reg);
    detail::register_int_formats(reg);
    detail::register_bfp_formats(reg);
    detail::register_mx_formats(reg);
    detail::register_nvfp4_formats(reg);
    detail::register_amxfp4_formats(reg);
    detail::register_adaptivfloat_formats(reg);
    detail::register_ant_formats(reg);
    detail::register_dgq_formats(reg);
    detail::register_olive_formats(reg);
    detail::register_gobo_formats(reg);
    detail::register_squeezellm_formats(reg);
    detail::register_olaccel_formats(reg);
    detail::register_gear_formats(reg);
    detail::register_rotatekv_formats(reg);
    detail::register_ksort_formats(reg);
    detail::register_qllm_formats(reg);
    return reg;
  }();
  return r;
}
}  // namespace

std::unique_ptr<Format> make_format(const std::string& text) {
  FormatSpec spec = FormatSpec::parse(text);
  // keep= (keep_format.cpp) belongs to every format: split it off before the family reads its
  // own options.
  FormatSpec keep{spec.name, {}};
  if (const auto it = spec.options.find("keep"); it != spec.options.end()) {
    keep.options.insert(*it);
    spec.options.erase(it);
  }
  for (const auto& f : registry()) {
    if (f.info.name == spec.name) {
      FormatOptions opts(spec);
      std::unique_ptr<Format> fmt = f.make(opts);
      if (keep.options.empty()) return fmt;
      FormatOptions keep_opts(keep);
      return detail::with_keep(std::move(fmt), keep_opts);
    }
  }
  std::string known;
  for (const auto& f : registry()) known += (known.empty() ? "" : ", ") + f.info.name;
  throw Error("unknown format '" + spec.name + "' (known: " + known + ")");
}

std::vector<FormatInfo> list_formats() {
  std::vector<FormatInfo> out;
  for (const auto& f : registry()) out.push_back(f.info);
  return out;
}

}  // namespace qarch::quant
