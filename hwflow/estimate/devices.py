"""FPGA part number -> family facts the cost model needs (DSP slice geometry, BRAM).

Only what changes the mapping of arithmetic: the DSP multiplier port widths
(DSP48E1 25x18 on 7-series and Zynq-7000; DSP48E2 27x18 on UltraScale and
UltraScale+, Zynq UltraScale+, Alveo; DSP58 27x24 on Versal). Part numbers are
data here only because they are how Xilinx names the silicon; boards and
designs never hard-code them (they come from boards/*.yaml or the project).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceFamily:
    """Arithmetic facts of one FPGA family."""

    name: str  # series7 | ultrascale | ultrascale_plus | versal | unknown
    dsp: str  # DSP48E1 | DSP48E2 | DSP58
    dsp_a_bits: int  # wider multiplier port (signed)
    dsp_b_bits: int  # narrower multiplier port (signed)
    bram_kbits: int = 18  # one BRAM_18K


SERIES7 = DeviceFamily("series7", "DSP48E1", 25, 18)
ULTRASCALE = DeviceFamily("ultrascale", "DSP48E2", 27, 18)
ULTRASCALE_PLUS = DeviceFamily("ultrascale_plus", "DSP48E2", 27, 18)
VERSAL = DeviceFamily("versal", "DSP58", 27, 24)
UNKNOWN = DeviceFamily("unknown", "DSP48E2", 27, 18)

_FAMILY_NAMES = {
    "zynq7000": SERIES7, "series7": SERIES7, "7series": SERIES7, "artix7": SERIES7, "kintex7": SERIES7,
    "virtex7": SERIES7, "spartan7": SERIES7, "zynqmp": ULTRASCALE_PLUS, "ultrascale_plus": ULTRASCALE_PLUS,
    "alveo": ULTRASCALE_PLUS, "rfsoc": ULTRASCALE_PLUS, "kria": ULTRASCALE_PLUS, "ultrascale": ULTRASCALE,
    "versal": VERSAL,
}


def family_of(part: str | None, family: str | None = None) -> DeviceFamily:
    """The family of a Xilinx/AMD part number (``xc7z020clg400-1``, ``xcu250-figd2104-2L-e``).

    ``family`` (a board file's ``family:`` key) wins when given.
    """
    if family and family.lower() in _FAMILY_NAMES:
        return _FAMILY_NAMES[family.lower()]
    if not part:
        return UNKNOWN
    p = part.lower().strip()
    if re.match(r"^xc7[azksv]", p):
        return SERIES7
    if p.startswith(("xcvc", "xcve", "xcvm", "xcvp", "xcvh", "xcv70", "xcv80")):
        return VERSAL
    if re.match(r"^xc(zu|u\d|vu\d+p|ku\d+p|au\d)", p) or re.match(r"^xck26", p):
        return ULTRASCALE_PLUS
    if re.match(r"^xc(ku|vu)\d", p):
        return ULTRASCALE
    return UNKNOWN


#: DSP delay of a speed grade relative to the -1 grade of the same family (data sheets DS182 /
#: DS183 7-series, DS922 / DS925 UltraScale(+): DSP Fmax of -1 : -2 : -3 about 1 : 1.17 : 1.35);
#: the 0.72 V grades ("-2LV", "-1LV") run at about -1 speed, "-2L" / "-2LE" (0.85 V) like -2.
_GRADE_DELAY = {"1": 1.0, "2": 0.86, "3": 0.75}


def speed_grade_delay(part: str | None) -> float:
    """DSP delay factor of a part's speed grade against -1 (``xc7z020clg400-1`` -> 1.0,
    ``xc7vx690tffg1927-2`` -> 0.86); 1.0 when the part names no grade."""
    m = re.search(r"-(\d)(l[a-z]?|[a-z]?)(?:-[a-z])?$", (part or "").lower().strip())
    if not m:
        return 1.0
    return 1.0 if m.group(2) == "lv" else _GRADE_DELAY.get(m.group(1), 1.0)


def dsps_per_multiplier(a_bits: int, b_bits: int, fam: DeviceFamily) -> int:
    """DSP slices one a x b multiplier needs when HLS maps it to DSPs (cascades for wide ones)."""
    wide, narrow = max(a_bits, b_bits), min(a_bits, b_bits)
    if wide <= fam.dsp_a_bits and narrow <= fam.dsp_b_bits:
        return 1
    # Split the wider operand across the A port, the narrower across B; HLS
    # builds partial products and adds them (e.g. 32x32 -> 3-4 DSP48E2).
    na = -(-wide // (fam.dsp_a_bits - 1))
    nb = -(-narrow // (fam.dsp_b_bits - 1))
    return max(1, na * nb)
