// qarch._qarch: the quant/ library for Python (pybind11). The package python/qarch/__init__.py
// wraps it (axis handling, docs); python/qarch/torch.py adds PyTorch helpers. Every function
// here calls the same C++ code as the qarch command line, so results are bit-identical to it.
//
// Tensors cross as C-contiguous float32 numpy arrays whose last axis is the reduction axis
// (K: blocks and pairs run along it); all leading axes are flattened into rows. qarch::Error
// becomes ValueError with the library's message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"
#include "qarch/quant/transforms.h"

namespace py = pybind11;
using Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

namespace {

// rows x cols of an array whose last axis is K (a 0-d array is one element).
std::pair<int64_t, int64_t> matrix_shape(const Array& a) {
  if (a.ndim() == 0) return {1, 1};
  const int64_t cols = a.shape(a.ndim() - 1);
  int64_t rows = 1;
  for (py::ssize_t i = 0; i + 1 < a.ndim(); ++i) rows *= a.shape(i);
  return {rows, cols};
}

Array quantize(const Array& x, const std::string& spec) {
  const auto f = qarch::quant::make_format(spec);
  const auto [rows, cols] = matrix_shape(x);
  Array out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const float* in = x.data();
  float* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    f->quantize(in, rows, cols, o);
  }
  return out;
}

py::dict encode(const Array& x, const std::string& spec) {
  const auto f = qarch::quant::make_format(spec);
  const auto [rows, cols] = matrix_shape(x);
  qarch::quant::EncodedTensor e;
  {
    py::gil_scoped_release release;
    e = f->encode(x.data(), rows, cols);
  }
  py::dict d;
  d["format"] = e.format;
  d["rows"] = e.rows;
  d["cols"] = e.cols;
  d["elements"] = py::bytes(reinterpret_cast<const char*>(e.elements.data()), e.elements.size());
  d["scales"] = py::bytes(reinterpret_cast<const char*>(e.scales.data()), e.scales.size());
  d["fp32"] = py::array_t<float>(static_cast<py::ssize_t>(e.fp32.size()), e.fp32.data());
  d["indices"] =
      py::array_t<uint32_t>(static_cast<py::ssize_t>(e.indices.size()), e.indices.data());
  d["storage_bits"] = e.storage_bits();
  return d;
}

Array decode(const py::dict& d) {
  qarch::quant::EncodedTensor e;
  e.format = d["format"].cast<std::string>();
  e.rows = d["rows"].cast<int64_t>();
  e.cols = d["cols"].cast<int64_t>();
  const std::string el = d["elements"].cast<std::string>(), sc = d["scales"].cast<std::string>();
  e.elements.assign(el.begin(), el.end());
  e.scales.assign(sc.begin(), sc.end());
  e.fp32 = d["fp32"].cast<std::vector<float>>();
  e.indices = d["indices"].cast<std::vector<uint32_t>>();
  const auto f = qarch::quant::make_format(e.format);
  if (e.rows < 0 || e.cols < 0) throw qarch::Error("decode: negative shape");
  Array out(
      std::vector<py::ssize_t>{static_cast<py::ssize_t>(e.rows), static_cast<py::ssize_t>(e.cols)});
  f->decode(e, out.mutable_data());
  return out;
}

// The codes of an encode() result, one per element (element_bits wide), [rows, cols].
py::array_t<uint32_t> codes(const py::dict& d, int bits) {
  const std::string el = d["elements"].cast<std::string>();
  const int64_t rows = d["rows"].cast<int64_t>(), cols = d["cols"].cast<int64_t>();
  const std::vector<uint8_t> packed(el.begin(), el.end());
  const std::vector<uint32_t> c = qarch::quant::unpack_codes(packed, rows, cols, bits);
  py::array_t<uint32_t> out(
      std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  std::copy(c.begin(), c.end(), out.mutable_data());
  return out;
}

py::dict traits(const std::string& spec) {
  const qarch::quant::FormatTraits t = qarch::quant::make_format(spec)->traits();
  py::dict d;
  d["family"] = t.family;
  d["element"] = t.element;
  d["element_bits"] = t.element_bits;
  d["decoder"] = t.decoder;
  d["group_cols"] = t.group_cols;
  d["sign_split"] = t.sign_split;
  d["weight_only"] = t.weight_only;
  return d;
}

// Runs a transform pipeline ("smooth:alpha=0.5,hadamard") on X [M, K] and W [N, K].
py::tuple transform(const Array& x, const Array& w, const std::string& spec) {
  if (x.ndim() != 2 || w.ndim() != 2) throw qarch::Error("transform: X and W must be 2-D [*, K]");
  auto tensor = [](const Array& a) {
    return qarch::quant::Tensor::matrix(a.shape(0), a.shape(1),
                                        std::vector<float>(a.data(), a.data() + a.size()));
  };
  const qarch::quant::TransformPipeline p = qarch::quant::TransformPipeline::parse(spec);
  const qarch::quant::TransformedPair r = p.run(tensor(x), tensor(w));
  auto array = [](const qarch::quant::Tensor& t) {
    Array a(std::vector<py::ssize_t>{static_cast<py::ssize_t>(t.rows()),
                                     static_cast<py::ssize_t>(t.cols())});
    std::copy(t.data.begin(), t.data.end(), a.mutable_data());
    return a;
  };
  return py::make_tuple(array(r.x), array(r.w));
}

py::dict compare(const Array& x, const Array& q) {
  if (x.size() != q.size()) {
    throw qarch::Error("compare: x has " + std::to_string(x.size()) + " elements, q has " +
                       std::to_string(q.size()));
  }
  const qarch::quant::ErrorMetrics m = qarch::quant::compare(x.data(), q.data(), x.size());
  py::dict d;
  d["qsnr_db"] = m.qsnr_db;
  d["mse"] = m.mse;
  d["max_abs_err"] = m.max_abs_err;
  d["cosine"] = m.cosine;
  d["rel_fro"] = m.rel_fro;
  return d;
}

py::list formats() {
  py::list l;
  for (const auto& f : qarch::quant::list_formats()) {
    py::dict d;
    d["name"] = f.name;
    d["options"] = f.options;
    d["description"] = f.description;
    d["canonical"] = qarch::quant::make_format(f.name)->name();
    l.append(d);
  }
  return l;
}

}  // namespace

PYBIND11_MODULE(_qarch, m) {
  m.doc() = "qarch's bit-exact number formats (the C++ quant/ library)";
  py::register_exception<qarch::Error>(m, "QarchError", PyExc_ValueError);
  m.def("quantize", &quantize, py::arg("x"), py::arg("format"),
        "Fake quantization decode(encode(x)) along the last axis; float32, same shape.");
  m.def("encode", &encode, py::arg("x"), py::arg("format"),
        "The stored form: element codes, scales and side data as the hardware holds them.");
  m.def("decode", &decode, py::arg("encoded"), "Decodes an encode() result to [rows, cols].");
  m.def("compare", &compare, py::arg("x"), py::arg("q"),
        "QSNR (dB), MSE, max |error|, cosine and relative Frobenius error of q against x.");
  m.def("formats", &formats, "Every format: name, options, description, canonical spec.");
  m.def("codes", &codes, py::arg("encoded"), py::arg("bits"),
        "The element codes of an encode() result, unpacked, [rows, cols].");
  m.def("traits", &traits, py::arg("format"), "What a format is (quant::FormatTraits).");
  m.def("transform", &transform, py::arg("x"), py::arg("w"), py::arg("pipeline"),
        "Outlier transforms of (X [M, K], W [N, K]) with X W^T kept: 'smooth:alpha=0.5,hadamard'.");
  m.def(
      "canonical", [](const std::string& s) { return qarch::quant::make_format(s)->name(); },
      py::arg("format"), "The canonical spec string of a format.");
}
