"""``hwflow sweep X --promote N``: turn point N of a finished sweep into a design file.

The design written is the point's own design dict (base, the board's overrides, the sweep's
overrides and values), so ``hwflow run <sweep>_p<N> --board <board>`` rebuilds exactly the
point that was ranked. It is validated by loading it back like any design before the command
reports success; a file that would not load is not left behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..config import load_design
from ..errors import BadInput, HwflowError
from ..fileio import atomic_write_text
from ..paths import designs_dir
from .spec import Sweep, expand_points

KEY_ORDER = ("name", "description", "dataset", "model", "quantization", "pruning", "distillation", "training", "hls")


def promote(sweep: Sweep, doc: dict[str, Any], index: int, out_dir: Path | None = None) -> dict[str, Any]:
    """Write designs/<sweep>_p<index>.yaml; return {"design", "path", "board", "values"}."""
    points = doc.get("points") or []
    if not 0 <= index < len(points):
        raise BadInput(f"--promote {index}: sweep '{sweep.name}' has points 0..{len(points) - 1}")
    entry = points[index]
    if entry.get("status") != "ok":
        why = (entry.get("error") or "").strip().splitlines()
        raise BadInput(f"--promote {index}: point {index} did not finish ({entry.get('status')}"
                       + (f": {why[0]}" if why else "") + "); promote a finished point")
    expanded = {p.index: p for p in expand_points(sweep)}
    point = expanded.get(index)
    if point is None or point.id != entry.get("id"):
        raise BadInput(f"--promote {index}: {sweep.path} changed since the sweep ran (point {index} is not the "
                       "same design any more); run the sweep again, then promote")
    name = f"{sweep.name}_p{index}"[:64]
    data = dict(point.design_data)
    data["name"] = name
    values = ", ".join(f"{k}={v}" for k, v in point.values.items())
    data["description"] = f"point {index} of sweep {sweep.name} on {point.board}" + (f" ({values})" if values else "")
    ordered = {k: data[k] for k in KEY_ORDER if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    metrics = entry.get("metrics") or {}
    header = [f"# Promoted from sweep '{sweep.name}' ({sweep.path}), point {index} on board {point.board}.",
              f"# Run it with: hwflow run {name} --board {point.board}"]
    if metrics:
        header.append("# Sweep figures: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                      for k, v in metrics.items()))
    text = "\n".join(header) + "\n" + yaml.safe_dump(ordered, sort_keys=False, default_flow_style=None, width=110)
    target_dir = out_dir or designs_dir()
    path = target_dir / f"{name}.yaml"
    tmp = target_dir / f".{name}.yaml.check"
    atomic_write_text(tmp, text)
    try:
        load_design(tmp, point.board)
    except HwflowError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"--promote {index}: the promoted design does not validate: {exc.message}") from None
    tmp.replace(path)
    return {"design": name, "path": str(path), "board": point.board, "values": point.values}
