"""The content of a per-design report, section by section, as a :class:`doc.Document`.

Rules every section follows (docs/contract.md, "never invented"):

* a figure is shown with its source; its kind decides its style (sources.py);
* a figure nobody produced is "not run" (a step did not run) or "not measured" (no board /
  sensor); it is never replaced by a zero, a default or a figure of another source;
* when the vendor tool and hwflow's estimate both give a figure, both are shown side by side;
* reference figures (ANCHORS.md) are labelled "reference" and drawn hollow/hatched.

One module per section (summary, accuracy, resources, latency, power, energy, layers,
provenance); helpers they share are in ``common``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...synth.open.report import open_section
from ..doc import Document
from ..extras import Extras, board_capacity
from .accuracy import accuracy_section, accuracy_stages, best_accuracy, board_accuracy_source
from .common import RES_KEYS, RES_LABEL, STEP_ORDER, missing_word
from .energy import energy_section
from .latency import latency_section, throughput
from .layers import layers_section
from .power import power_section
from .provenance import provenance_section
from .resources import fits, resource_views, resources_section
from .summary import header, summary

__all__ = [
    "RES_KEYS", "RES_LABEL", "STEP_ORDER", "accuracy_stages", "best_accuracy", "board_accuracy_source",
    "build_document", "fits", "missing_word", "resource_views", "throughput",
]


def _open_synthesis(r: dict[str, Any]) -> list[Any]:
    """The open path's section (hwflow/synth/open/report.py) when it ran, else nothing."""
    s = open_section(r)
    return [s] if s is not None else []


def build_document(results: dict[str, Any], out: Path, extras: Extras) -> Document:
    """All sections of a per-design report. Writes the plots into ``out`` as a side effect."""
    r = results if isinstance(results, dict) else {}
    caps = board_capacity(r, extras.board)
    title, sub = header(r)
    secs = [
        summary(r, extras, caps),
        accuracy_section(r, extras, out),
        resources_section(r, extras, caps, out),
        *_open_synthesis(r),
        latency_section(r, extras, out),
        power_section(r, extras, out),
        energy_section(r, extras, out),
        layers_section(r, extras),
        provenance_section(r, extras),
    ]
    return Document(title=title, subtitle=sub, sections=secs)
