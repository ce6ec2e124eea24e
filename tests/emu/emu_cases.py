"""The QKeras designs the emulator tests build (shared by conftest and the tests)."""

from __future__ import annotations

from typing import Any

SPECS: dict[str, dict[str, Any]] = {
    # the default design's shape: 64-32-10, 8-bit inputs with 1 integer bit, relu, softmax
    "mlp": {"build": ("mlp", {"sizes": [64, 32, 10]}), "io_type": "io_parallel", "x_scale": 1.0,
                "backend": "VivadoAccelerator", "backend_kw": {"board": "pynq-z2"}},
    # CNN as hls4ml streams it: Conv2D 8x8x1, maxpool, flatten, dense
    "cnn_stream": {"build": ("small_cnn", {}), "io_type": "io_stream", "x_scale": 1.0, "backend": "Vivado"},
    # the jet tagger with a linear output (so the final output itself must be exact)
    "jet": {"build": ("jet_mlp", {"output": "linear"}), "io_type": "io_parallel", "x_scale": 8.0, "backend": "Vivado"},
    "batchnorm": {"build": ("mlp", {"sizes": [16, 16, 8], "batchnorm": True, "output": "linear"}),
                      "io_type": "io_parallel", "x_scale": 1.0, "backend": "Vitis"},
    "conv1d": {"build": ("conv1d_net", {}), "io_type": "io_parallel", "x_scale": 2.0, "backend": "Vivado"},
    "resource_rf4": {"build": ("mlp", {"sizes": [16, 32, 8]}), "io_type": "io_parallel", "x_scale": 1.0,
                         "strategy": "resource", "reuse_factor": 4, "backend": "Vivado"},
    # average pooling (ap_fixed division) after a conv whose quantized_bits output quantizer
    # hls4ml would otherwise drop; streamed
    "cnn_avg_stream": {"build": ("small_cnn_avg", {}), "io_type": "io_stream", "x_scale": 1.0, "backend": "Vivado"},
}
