"""Weight-aware counting: what each constant product of a layer becomes in hardware.

With constant weights (hls4ml's latency strategy) HLS never builds a general
multiplier for a product whose weight, *after quantization to the layer's
``weight_t``*, is

* zero - the product vanishes (no DSP, no LUT, no adder input);
* a power of two (±2^k) - a shift: wiring, no multiplier at all;
* otherwise a constant whose cost in a shift-and-add (LUT) implementation grows
  with the number of nonzero digits of its canonical signed-digit form.

Weights are matched to layers by hls4ml's index names: ``w<i>`` / ``b<i>`` are the
weights / bias of the layer whose config struct is ``config<i>`` (``weight<i>_t``), ``s<i>`` the
scale of a batch-norm (``scale<i>_t``).
Files of earlier conversions that the project no longer uses are ignored, because
only the config structs present in ``parameters.h`` (or ``layers.json``) are looked up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_NUM_RE = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_FIXED_RE = re.compile(r"ap_(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)")
_INT_RE = re.compile(r"ap_(u?)int\s*<\s*(\d+)")
_CFG_INDEX_RE = re.compile(r"^config(\d+)$")
#: Largest weights file read (values); bigger tensors are sampled evenly (counts are scaled).
MAX_VALUES = 2_000_000


def read_values(path: Path) -> list[float] | None:
    """Numbers of a ``w<i>.txt`` (comma separated) or ``w<i>.h`` (C array) weights file."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    if path.suffix == ".h":
        m = re.search(r"\{(.*)\}", text, re.DOTALL)
        if not m:
            return None
        text = m.group(1)
    vals = [float(v) for v in _NUM_RE.findall(text)]
    return vals or None


def frac_bits(type_str: str | None) -> int | None:
    """Fractional bits of an ``ap_fixed<W,I>`` / ``ap_int<W>`` type, None when unknown."""
    if not type_str:
        return None
    m = _FIXED_RE.search(type_str)
    if m:
        return int(m.group(2)) - int(m.group(3))
    if _INT_RE.search(type_str):
        return 0
    return None


def _csd_digits(q: int) -> int:
    """Nonzero digits of the canonical signed-digit form of |q| (adders of a shift-and-add)."""
    n, digits = abs(q), 0
    while n:
        if n & 1:
            digits += 1
            n = n + 1 if (n & 3) == 3 else n - 1
        n >>= 1
    return digits


def weight_stats(values: Iterable[float], weight_type: str | None) -> dict[str, Any]:
    """Counts of zero, power-of-two and other constants after quantization to ``weight_type``.

    ``csd_mean``: mean nonzero signed digits of the other constants (a product by such a
    constant in fabric takes ``csd_mean - 1`` adders); ``two_digit``: how many of the others
    have two signed digits (one adder); ``bits_mean``: mean significant bits.
    """
    vals = list(values)
    step = max(1, math.ceil(len(vals) / MAX_VALUES))
    sample = vals[::step]
    f = frac_bits(weight_type)
    zero = pow2 = other = two = 0
    csd = bits = 0
    for v in sample:
        if f is not None:
            q = int(round(v * (1 << f))) if abs(v) < 2 ** 40 else 0
        else:  # float weights: judge the value itself
            if v == 0.0:
                q = 0
            else:
                m, _ = math.frexp(abs(v))
                q = 1 if m == 0.5 else 3
        if q == 0:
            zero += 1
            continue
        a = abs(q)
        a >>= (a & -a).bit_length() - 1  # drop trailing zeros: the shift is free
        if a == 1:
            pow2 += 1
        else:
            other += 1
            digits = _csd_digits(a)
            csd += digits
            two += digits == 2  # x * (2^i ± 2^j): one adder, never worth a DSP
            bits += a.bit_length()
    scale = len(vals) / max(1, len(sample))
    return {
        "n": len(vals),
        "zero": round(zero * scale),
        "pow2": round(pow2 * scale),
        "other": round(other * scale),
        "two_digit": round(two * scale),
        "csd_mean": round(csd / other, 3) if other else 0.0,
        "bits_mean": round(bits / other, 3) if other else 0.0,
        "quantized_to": weight_type if f is not None else None,
    }


def attach_weight_stats(doc: dict[str, Any], weights_dir: Path) -> int:
    """Add ``weight_stats`` to every ``config<i>`` struct of ``doc`` whose ``w<i>`` file exists.

    Returns how many layers got statistics. Only structs named in the document are looked
    up, so stale tensors of earlier conversions in the same folder are never used.
    """
    if not weights_dir.is_dir():
        return 0
    n = 0
    for cfg in doc.get("layers") or []:
        m = _CFG_INDEX_RE.match(str(cfg.get("name") or ""))
        if not m:
            continue
        idx = m.group(1)
        # a layer's weights (w<i>, weight_t) or, for a batch-norm, its scale (s<i>, scale_t): a
        # scale of 2.0 is a shift, as HLS builds it (0 DSPs reported for such a layer)
        for prefix, tname in (("w", "weight"), ("s", "scale")):
            p = next((weights_dir / f"{prefix}{idx}{ext}" for ext in (".txt", ".h")
                      if (weights_dir / f"{prefix}{idx}{ext}").is_file()), None)
            if p is None:
                continue
            vals = read_values(p)
            if vals:
                # the struct's own type, a referenced kernel config's (EinsumDense: dense_conf),
                # or the file-scope weight<i>_t
                refs = set((cfg.get("config_refs") or {}).values())
                owners = [cfg] + [c for c in doc.get("layers") or [] if c.get("name") in refs]
                types = [(c.get("typedefs_resolved") or {}).get(f"{tname}_t") for c in owners]
                wt = next((t for t in types if t), None) \
                    or (doc.get("typedefs") or {}).get(f"{tname}{idx}_t", {}).get("resolved")
                cfg["weight_stats"] = weight_stats(vals, wt)
                n += 1
            break
    return n


def stats_of_array(values: Any, weight_type: str | None) -> dict[str, Any]:
    """``weight_stats`` of an in-memory array (numpy or nested lists) - the flow's trained model."""
    try:
        import numpy as np

        flat = np.asarray(values, dtype=float).ravel().tolist()
    except (TypeError, ValueError):
        return {}
    return weight_stats(flat, weight_type)
