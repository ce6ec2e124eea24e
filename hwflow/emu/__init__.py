"""Bit-accurate emulation of hls4ml firmware.

* :mod:`hwflow.emu.precision` - hls4ml config whose types reproduce the QKeras quantizers
  (:func:`hls_config_for`), and the Keras <-> firmware comparison (:func:`compare`);
* :mod:`hwflow.emu.csim` - batched, threaded C-simulation with a shared compile cache (:class:`CSim`);
* :mod:`hwflow.emu.fast` - vectorised numpy emulation, bit-identical to C-sim (:class:`FastEmulator`);
* :mod:`hwflow.emu.fixed` - ``ap_fixed`` quantisation/overflow in numpy (:class:`FixedType`);
* :mod:`hwflow.emu.run` - :func:`emulate`: fastest exact path, verified against C-sim.

Import the submodules directly; this package imports nothing heavy (no TensorFlow, no hls4ml).
"""

from __future__ import annotations

__all__ = ["CSim", "FastEmulator", "FixedType", "compare", "emulate", "hls_config_for"]


def __getattr__(name: str):  # lazy: keep `import hwflow.emu` cheap
    if name == "CSim":
        from hwflow.emu.csim import CSim
        return CSim
    if name == "FastEmulator":
        from hwflow.emu.fast import FastEmulator
        return FastEmulator
    if name == "FixedType":
        from hwflow.emu.fixed import FixedType
        return FixedType
    if name in ("compare", "hls_config_for"):
        from hwflow.emu import precision
        return getattr(precision, name)
    if name == "emulate":
        from hwflow.emu.run import emulate
        return emulate
    raise AttributeError(name)
