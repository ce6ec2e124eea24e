"""Which builder emulates which hls4ml layer class.

A builder is ``builder(layer, src, out_t, out_shape, project_dir, io_type) -> (fn, info)`` where
``fn(raw_codes, owned) -> raw_codes`` is the layer on a batch and ``info`` the facts for
``describe()`` (keys starting with ``_`` are internal, e.g. the affine kernel used for fusion).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hwflow.emu.fast.activations import _build_activation, _build_batchnorm
from hwflow.emu.fast.affine import _build_conv, _build_dense, _build_depthwise
from hwflow.emu.fast.merge import _build_concatenate, _build_merge
from hwflow.emu.fast.nonlinear import _build_hard, _build_parametrized, _build_prelu
from hwflow.emu.fast.pooling import _build_global_pooling, _build_pooling
from hwflow.emu.fast.reshape import _build_cropping, _build_reshape, _build_resize, _build_zeropad
from hwflow.emu.fast.rnn import _build_bidirectional, _build_rnn
from hwflow.emu.fast.softmax import _build_softmax

BUILDERS: dict[str, Callable[..., tuple[Callable[[np.ndarray, bool], np.ndarray], dict[str, Any]]]] = {
    "Dense": _build_dense,
    "Conv1D": _build_conv,
    "Conv2D": _build_conv,
    "PointwiseConv1D": _build_conv,
    "PointwiseConv2D": _build_conv,
    "DepthwiseConv1D": _build_depthwise,
    "DepthwiseConv2D": _build_depthwise,
    "Activation": _build_activation,
    "BatchNormalization": _build_batchnorm,
    "ApplyAlpha": _build_batchnorm,
    "Reshape": _build_reshape,
    "ZeroPadding1D": _build_zeropad,
    "ZeroPadding2D": _build_zeropad,
    "Cropping1D": _build_cropping,
    "Cropping2D": _build_cropping,
    "Pooling1D": _build_pooling,
    "Pooling2D": _build_pooling,
    "GlobalPooling1D": _build_global_pooling,
    "GlobalPooling2D": _build_global_pooling,
    "Softmax": _build_softmax,
    "Merge": _build_merge,
    "ParametrizedActivation": _build_parametrized,
    "PReLU": _build_prelu,
    "HardActivation": _build_hard,
    "Resize": _build_resize,
    "GRU": _build_rnn,
    "LSTM": _build_rnn,
    "Bidirectional": _build_bidirectional,
    "Concatenate": _build_concatenate,
}

#: classes whose builder receives the list of input tensors (in the layer's input order)
MULTI_INPUT = {"Merge", "Concatenate"}
