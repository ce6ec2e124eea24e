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

Supported (anything else sets ``supported = False``; use :class:`hwflow.emu.csim.CSim`):
Input, Dense (latency/resource, any reuse factor), Conv1D/Conv2D/PointwiseConv (io_parallel and
io_stream), BatchNormalization/ApplyAlpha, Activation linear/relu, Softmax (stable and latency
implementations, 1-D), Max/AveragePooling1D/2D (average: ap_fixed's truncating division), global
max pooling, Reshape/Flatten, ZeroPadding1D/2D, and VivadoAccelerator's float/fixed AXI wrapper.

Layout: :mod:`~hwflow.emu.fast.engine` (the :class:`FastEmulator`), :mod:`~hwflow.emu.fast.core`
(raw-code casts, model reading), one module per layer family (``affine``, ``activations``,
``pooling``, ``reshape``, ``softmax``) and :mod:`~hwflow.emu.fast.registry` mapping hls4ml layer
classes to their builders.
"""

from __future__ import annotations

from hwflow.emu.fast.core import Unsupported, cast_raw
from hwflow.emu.fast.engine import FastEmulator

__all__ = ["FastEmulator", "Unsupported", "cast_raw"]
