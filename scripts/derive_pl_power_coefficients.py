"""Derive hwflow/energy/pl_power_coefficients.json from the Vivado power reports in ../shared/fixtures.

    python scripts/derive_pl_power_coefficients.py [FIXTURES_DIR]

Every fixture folder with a ``report_power`` file whose device family is known contributes one
point; the JSON keeps each point's provenance (fixture folder, report file, tool version) and the
per-family summary (geometric mean, min, max). See hwflow/energy/coefficients.py for the method.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwflow.energy.coefficients import TABLE, point_from_report, summarise  # noqa: E402

FAMILY_BY_PART_PREFIX = (("xc7z", "zynq7000"), ("xczu", "zynqmp"), ("xck26", "zynqmp"), ("xcu", "alveo"))


def family_of(device: str) -> str | None:
    d = device.lower()
    for prefix, fam in FAMILY_BY_PART_PREFIX:
        if d.startswith(prefix):
            return fam
    return None


def derive(fixtures: Path) -> dict:
    points = []
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        truth = folder / "truth.json"
        if not truth.exists():
            continue
        t = json.loads(truth.read_text())
        for fname, info in (t.get("power") or {}).items():
            fam = family_of(str(info.get("device", "")))
            if fam is None:
                continue
            pt = point_from_report((folder / fname).read_text(errors="replace"))
            pt.update({"fixture": folder.name, "file": fname, "device": info.get("device"),
                       "tool_version": info.get("tool_version"), "design_state": info.get("design_state"),
                       "confidence": info.get("confidence"), "family": fam})
            points.append(pt)
    families = {}
    for fam in sorted({p["family"] for p in points}):
        families[fam] = summarise([p for p in points if p["family"] == fam])
    return {
        "method": "per-resource dynamic power per MHz at Vivado's vectorless default activity "
                  "(toggle 12.5 %, AMD UG440); derived from public hls4ml vendor power reports",
        "toggle_rate": 0.125,
        "families": families,
        "points": points,
    }


def main(argv: list[str]) -> int:
    fixtures = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "fixtures"
    if not fixtures.is_dir():
        print(f"fixtures folder not found: {fixtures}", file=sys.stderr)
        return 3
    table = derive(fixtures)
    TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"{len(table['points'])} reports -> {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
