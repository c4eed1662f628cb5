#include "qarch/models/operand_format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <vector>

#include "qarch/models/decoders.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace qarch::models {

namespace {

// Sample matrix: N(0, 1) with 0.1% planted outliers of +-(15..25) sigma, so that formats whose
// side storage depends on the data (GOBO, OLAccel) see a realistic outlier population.
std::vector<float> sample(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> mag(15.0f, 25.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = normal(gen);
  const int64_t outliers = std::max<int64_t>(1, rows * cols / 1000);
  std::uniform_int_distribution<int64_t> pos(0, rows * cols - 1);
  for (int64_t i = 0; i < outliers; ++i) {
    const float m = mag(gen);
    x[static_cast<size_t>(pos(gen))] = (i % 2) ? m : -m;
  }
  return x;
}

OperandFormat measure(const quant::Format& f) {
  OperandFormat o;
  o.spec = f.name();
  const quant::FormatTraits t = f.traits();
  o.family = t.family;
  o.element = t.element;
  o.code_bits = t.element_bits;
  o.decoder = decoder_kind(t.decoder, o.spec).kind;
  o.elements_per_decode_op = t.elements_per_decode_op;
  o.group_cols = t.group_cols;
  o.sign_split = t.sign_split;
  o.weight_only = t.weight_only;
  o.outlier_fraction = t.outlier_fraction;
  const int64_t r1 = 8, r2 = 16, c1 = 1024, c2 = 2048;
  auto bits = [&](int64_t r, int64_t c, uint32_t seed, quant::EncodedTensor* keep) {
    const auto x = sample(r, c, seed);
    quant::EncodedTensor e = f.encode(x.data(), r, c);
    const double b = static_cast<double>(e.storage_bits());
    if (keep) *keep = std::move(e);
    return b;
  };
  quant::EncodedTensor e22;
  const double s11 = bits(r1, c1, 11, nullptr), s21 = bits(r2, c1, 21, nullptr);
  const double s12 = bits(r1, c2, 12, nullptr), s22 = bits(r2, c2, 22, &e22);
  const double dr = static_cast<double>(r2 - r1), dc = static_cast<double>(c2 - c1);
  o.bits_a = ((s22 - s12) - (s21 - s11)) / (dr * dc);
  o.bits_b = ((s21 - s11) - o.bits_a * dr * c1) / dr;
  o.bits_c = ((s12 - s11) - o.bits_a * r1 * dc) / dc;
  o.bits_d = s11 - o.bits_a * r1 * c1 - o.bits_b * r1 - o.bits_c * c1;
  // Data-dependent side storage makes the four samples disagree slightly; a negative coefficient
  // would then be noise, so fall back to a pure per-element rate.
  const double eps = 1e-9;
  if (o.bits_a < 0 || o.bits_b < -eps || o.bits_c < -eps || o.bits_d < -eps) {
    o.bits_a = s22 / static_cast<double>(r2 * c2);
    o.bits_b = o.bits_c = o.bits_d = 0;
  }
  o.element_bits = static_cast<double>(e22.elements.size()) * 8.0 / static_cast<double>(r2 * c2);
  return o;
}

}  // namespace

double OperandFormat::storage_bits(int64_t rows, int64_t cols) const {
  if (rows <= 0 || cols <= 0) return 0.0;
  const double r = static_cast<double>(rows), c = static_cast<double>(cols);
  return std::max(0.0, bits_a * r * c + bits_b * r + bits_c * c + bits_d);
}

int64_t OperandFormat::storage_bytes(int64_t rows, int64_t cols) const {
  return static_cast<int64_t>(std::ceil(storage_bits(rows, cols) / 8.0 - 1e-9));
}

int64_t OperandFormat::block_bytes(int64_t rows, int64_t cols) const {
  if (rows <= 0 || cols <= 0) return 0;
  const double r = static_cast<double>(rows), c = static_cast<double>(cols);
  const double bits = std::max(0.0, bits_a * r * c + bits_b * r + bits_c * c);
  return static_cast<int64_t>(std::ceil(bits / 8.0 - 1e-9));
}

int64_t OperandFormat::side_bytes() const {
  return static_cast<int64_t>(std::ceil(std::max(0.0, bits_d) / 8.0 - 1e-9));
}

const OperandFormat& operand_format(const std::string& spec, const std::string& field) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<OperandFormat>> by_spec;
  std::lock_guard<std::mutex> lock(mu);
  auto it = by_spec.find(spec);
  if (it != by_spec.end()) return *it->second;
  std::unique_ptr<quant::Format> f;
  try {
    f = quant::make_format(spec);
  } catch (const Error& e) {
    throw Error(field + ": " + e.what());
  }
  const std::string canon = f->name();
  auto jt = by_spec.find(canon);
  if (jt == by_spec.end()) {
    jt = by_spec.emplace(canon, std::make_unique<OperandFormat>(measure(*f))).first;
  }
  const OperandFormat* o = jt->second.get();
  if (canon != spec) by_spec.emplace(spec, std::make_unique<OperandFormat>(*o));
  return *by_spec.at(spec);
}

int64_t segment_count(int64_t k, int64_t gx, int64_t gw) {
  if (k <= 0) return 0;
  auto starts = [k](int64_t g) { return g > 0 ? (k + g - 1) / g : 1; };
  int64_t common = 1;
  if (gx > 0 && gw > 0) {
    const int64_t l = gx / std::gcd(gx, gw) * gw;
    common = (k + l - 1) / l;
  }
  return starts(gx) + starts(gw) - common;
}

}  // namespace qarch::models
