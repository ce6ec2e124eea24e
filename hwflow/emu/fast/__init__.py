"""Fast, bit-exact emulation of hls4ml firmware in vectorised numpy.

Why: C-simulation evaluates every ``ap_fixed`` operation of every sample in C++ (tens of
thousands of samples per second). The same arithmetic on the whole batch at once - matrix
products in float64/float32 BLAS on exact integers, then one vectorised rounding/overflow pass
per assignment - is one to two orders of magnitude faster and gives *the same bits*, provided
every value stays exactly representable. This module checks that provision layer by layer when
it is built and refuses (``supported = False`` with a ``reason``) rather than approximate.

Everything is read from the hls4ml ``ModelGraph`` after conversion - layer kinds, weights (as
the written firmware loads them), every type (result, accumulator, weight, bias, table, softmax
internals) - and, when the project has been written, checked against the firmware's own
``defines.h``. Nothing about precisions is assumed.

Tensors flow between layers as *raw codes*: integer-valued float arrays ``k`` with the real value
``k * 2**-F`` of the producing layer's result type. float32 is used where the type has at most
24 bits (and matrix products where the sum provably stays below ``2**24``), float64 elsewhere.

Supported (anything else sets ``supported = False`` and names the layer; use
:class:`hwflow.emu.csim.CSim`), io_parallel and io_stream, Vivado and Vitis backends:
Input; Dense and Conv1D/2D/PointwiseConv (latency/resource, any reuse factor);
DepthwiseConv1D/2D (also the halves of SeparableConv1D/2D); BatchNormalization/ApplyAlpha;
Activation linear/relu and the sigmoid/tanh tables; LeakyReLU/ThresholdedReLU/ELU, PReLU, hard
sigmoid/tanh (also QKeras quantized_relu with a negative slope, quantized_sigmoid/tanh);
Softmax (stable, latency, argmax; 1-D); Max/AveragePooling1D/2D and global max/average pooling;
Reshape/Flatten, ZeroPadding1D/2D, Cropping1D/2D, UpSampling (Resize, nearest); the two-input
merges (add, subtract, multiply, average, maximum, minimum) and Concatenate, with io_stream's
clone layers; GRU and LSTM; and VivadoAccelerator's float/fixed AXI wrapper.

Layout: :mod:`~hwflow.emu.fast.engine` (the :class:`FastEmulator`), :mod:`~hwflow.emu.fast.core`
(raw-code casts, model reading), one module per layer family (``affine``, ``activations``,
``nonlinear``, ``merge``, ``pooling``, ``reshape``, ``rnn``, ``softmax``) and
:mod:`~hwflow.emu.fast.registry` mapping hls4ml layer classes to their builders.
"""

from __future__ import annotations

from hwflow.emu.fast.core import Unsupported, cast_raw
from hwflow.emu.fast.engine import FastEmulator

__all__ = ["FastEmulator", "Unsupported", "cast_raw"]
