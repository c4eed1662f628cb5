"""Tests of the qarch Python package: bit equality with the qarch command line, axis handling,
encode/decode, clear errors, and the PyTorch helpers (skipped without torch unless
QARCH_REQUIRE_TORCH=1). Run by CTest (label python) with PYTHONPATH=build/python."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

import qarch


def outlier_tensor(rows, cols, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    x[:, 3] *= 40.0  # an outlier channel
    return x


class Formats(unittest.TestCase):
    def test_every_format_is_listed_with_a_canonical_spec(self):
        names = {f["name"] for f in qarch.formats()}
        for n in ("int8", "mxfp4", "olive4", "ant4", "adaptivfloat8", "dgq4", "nvfp4"):
            self.assertIn(n, names)
        self.assertEqual(qarch.canonical("mxfp4"), "mxfp4:block=32:round=even")

    def test_bad_specs_and_values_raise_value_error_with_the_message(self):
        with self.assertRaisesRegex(ValueError, "unknown format 'nosuch'"):
            qarch.quantize(np.ones((2, 4), np.float32), "nosuch")
        with self.assertRaisesRegex(ValueError, "NaN"):
            qarch.quantize(np.array([[1.0, np.nan]], np.float32), "int8")
        with self.assertRaisesRegex(ValueError, "unknown option 'blok'"):
            qarch.quantize(np.ones((2, 4), np.float32), "mxfp4:blok=16")


class Quantize(unittest.TestCase):
    def test_bit_identical_to_the_command_line(self):
        # The same tensor through `qarch quant --dequant-out` and through the module.
        x = outlier_tensor(16, 96, 1)
        binary = os.environ.get("QARCH_BIN", "build/bin/qarch")
        specs = ["int4:group=32", "mxfp4", "olive4", "ant4", "adaptivfloat8", "nvfp4"]
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), x)
            subprocess.run([binary, "quant", "--input", os.path.join(d, "x.npy"), "--formats",
                            ",".join(specs), "--dequant-out", d], check=True,
                           stdout=subprocess.DEVNULL)
            for s in specs:
                cli = np.load(os.path.join(d, s.replace(":", "_") + ".npy"))
                mod = qarch.quantize(x, s)
                self.assertEqual(mod.dtype, np.float32)
                self.assertEqual(cli.tobytes(), mod.tobytes(), s)

    def test_axis_and_shape(self):
        x = outlier_tensor(8, 64, 2)
        # A 3-D tensor is quantized along its last axis with leading axes flattened.
        x3 = x.reshape(2, 4, 64)
        self.assertEqual(qarch.quantize(x3, "mxfp4").tobytes(), qarch.quantize(x, "mxfp4").tobytes())
        # axis=0 quantizes the transpose and returns the input's layout.
        q0 = qarch.quantize(x.T, "mxfp4", axis=0)
        self.assertEqual(q0.shape, x.T.shape)
        np.testing.assert_array_equal(q0, qarch.quantize(x, "mxfp4").T)
        # float64 and non-contiguous inputs are accepted (converted to float32).
        np.testing.assert_array_equal(qarch.quantize(x.astype(np.float64), "int8"),
                                      qarch.quantize(x, "int8"))

    def test_encode_decode_round_trip_and_storage(self):
        x = outlier_tensor(4, 64, 3)
        e = qarch.encode(x, "mxfp4")
        self.assertEqual((e["rows"], e["cols"]), (4, 64))
        self.assertEqual(e["storage_bits"], 4 * 64 * 4 + 4 * 2 * 8)  # elements + E8M0 scales
        np.testing.assert_array_equal(qarch.decode(e), qarch.quantize(x, "mxfp4"))
        m = qarch.compare(x, qarch.decode(e))
        self.assertGreater(m["qsnr_db"], 5.0)
        self.assertLess(m["qsnr_db"], 40.0)


def torch_or_skip(test):
    try:
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("QARCH_REQUIRE_TORCH") == "1":
            raise
        raise unittest.SkipTest("PyTorch is not installed (python3-torch)")


class Torch(unittest.TestCase):
    def setUp(self):
        torch_or_skip(self)

    def test_fake_quant_keeps_dtype_device_and_bits(self):
        import torch
        import qarch.torch as qt
        x = outlier_tensor(8, 64, 4)
        t = torch.from_numpy(x).to(torch.float64)
        q = qt.fake_quant(t, "olive4")
        self.assertEqual(q.dtype, torch.float64)
        np.testing.assert_array_equal(q.to(torch.float32).numpy(), qarch.quantize(x, "olive4"))

    def test_linear_layers_see_quantized_weights_and_inputs_and_restore(self):
        import torch
        import qarch.torch as qt
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16))
        x = torch.randn(5, 64)
        ref = model(x)
        w0 = model[0].weight.detach().clone()
        h = qt.quantize_linear_layers(model, act="mxfp4", weight="int4:per=row")
        y = model(x)
        # Layer 0 by hand: quantized input times quantized weight.
        xq = torch.from_numpy(qarch.quantize(x.numpy(), "mxfp4"))
        wq = torch.from_numpy(qarch.quantize(w0.numpy(), "int4:per=row"))
        h0 = torch.nn.functional.linear(xq, wq, model[0].bias)
        hq = torch.from_numpy(qarch.quantize(torch.relu(h0).detach().numpy(), "mxfp4"))
        wq1 = torch.from_numpy(qarch.quantize(h[1].weight.numpy(), "int4:per=row"))
        y_hand = torch.nn.functional.linear(hq, wq1, model[2].bias)
        torch.testing.assert_close(y, y_hand, rtol=0, atol=1e-6)
        self.assertFalse(torch.equal(y, ref))
        qt.remove(h)
        torch.testing.assert_close(model(x), ref, rtol=0, atol=0)


if __name__ == "__main__":
    unittest.main()
