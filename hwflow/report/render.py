"""Render results.json into a self-contained HTML page and a Markdown page.

Figures carry their source; estimates and emulated figures are styled differently
from measured and vendor figures, and a figure no step produced shows "not run".
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text
from . import plots

KIND_LABEL = {"measured": "measured", "vendor": "vendor tool", "emulated": "emulated", "estimate": "estimate"}


def fmt(v: Any, unit: str = "", digits: int = 4) -> str:
    if v is None:
        return "not run"
    if isinstance(v, float):
        if abs(v) >= 1e5 or (0 < abs(v) < 1e-3):
            return f"{v:.3e}{unit}"
        return f"{v:.{digits}g}{unit}"
    return f"{v}{unit}"


def summary_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    fits = None
    util = r.get("utilization") or {}
    if any(v is not None for v in util.values()):
        fits = all(v is None or v <= 1.0 for v in util.values())
    lat = r["latency"]
    en = r["energy"]
    return [
        {"name": "Accuracy (C-sim)", "value": fmt(r["accuracy"]["csim"]), "source": "emulated" if r["accuracy"]["csim"] is not None else None,
         "note": "hls4ml C-simulation of the firmware on the test split"},
        {"name": "Accuracy (board)", "value": fmt(r["accuracy"]["board"]), "source": (r.get("deploy") or {}).get("source"), "note": ""},
        {"name": "Fits on the board", "value": {None: "not known", True: "yes", False: "NO"}[fits],
         "source": r["resources"]["source"], "note": r["resources"].get("error") or ""},
        {"name": "Latency", "value": fmt(lat["seconds"] * 1e6 if lat["seconds"] else None, " µs"),
         "source": lat["source"], "note": f"{lat['cycles']} cycles, II {lat['ii_cycles']}" if lat["cycles"] is not None else ""},
        {"name": "Energy / inference", "value": fmt(en["uj_per_inference"], " µJ"), "source": en["source"], "note": ""},
        {"name": "Efficiency", "value": fmt(en["accuracy_per_joule"], " accuracy/J"), "source": en["source"],
         "note": f"{fmt(en['inferences_per_joule'])} inferences/J" if en["inferences_per_joule"] else ""},
    ]


def _img(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em} td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
th{background:#f4f4f4} .card{display:grid;grid-template-columns:repeat(3,1fr);gap:.8em}
.fig{border:1px solid #ddd;border-radius:6px;padding:.6em .8em}
.fig .v{font-size:1.4em;font-weight:600} .fig .n{color:#555;font-size:.85em}
.src{font-size:.75em;padding:.1em .45em;border-radius:3px;color:#fff;white-space:nowrap}
.src-measured{background:#1b7837}.src-vendor{background:#2166ac}.src-emulated{background:#b35806}
.src-estimate{background:#8e0152;font-style:italic}.src-none{background:#999}
.estimate .v{font-style:italic} .muted{color:#777} img{max-width:100%}
"""


def badge(source: str | None) -> str:
    kind = plots.source_kind(source)
    from html import escape

    if kind is None:
        return '<span class="src src-none">not run</span>'
    return f'<span class="src src-{kind}" title="{escape(source or "")}">{KIND_LABEL[kind]}: {escape(source or "")}</span>'


def render_report(results: dict[str, Any], out: Path, *, workdir: Path | None = None,
                  board: dict[str, Any] | None = None) -> dict[str, Path]:
    from html import escape

    out.mkdir(parents=True, exist_ok=True)
    if board:
        results = dict(results)
        results["board_resources"] = board.get("resources")
    png_acc = plots.accuracy_chain(results, out / "accuracy_chain.png")
    png_util = plots.utilization(results, out / "utilization.png")
    rows = summary_rows(results)

    h: list[str] = []
    h.append(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>hwflow report: "
             f"{escape(results['design'])} on {escape(results['board'])}</title><style>{CSS}</style></head><body>")
    h.append(f"<h1>{escape(results['design'])} on {escape(results['board'])}</h1>")
    h.append(f"<p class='muted'>part {escape(str(results.get('part')))}, clock {results.get('clock_ns')} ns · "
             f"hwflow {escape(results['provenance']['hwflow'])}</p>")
    h.append("<h2>Summary</h2><div class='card'>")
    for row in rows:
        cls = "fig estimate" if plots.source_kind(row["source"]) == "estimate" else "fig"
        h.append(f"<div class='{cls}'><div class='n'>{escape(row['name'])}</div><div class='v'>{escape(row['value'])}</div>"
                 f"<div>{badge(row['source'])}</div><div class='n'>{escape(row['note'])}</div></div>")
    h.append("</div>")
    h.append("<h2>Accuracy chain</h2>")
    h.append(f"<img alt='accuracy chain' src='{_img(png_acc)}'>")
    cs = results["csim"]
    h.append("<table><tr><th>C-sim vs QKeras</th><th>value</th></tr>")
    for k in ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff", "samples_per_s", "engine",
              "first_divergent_layer"):
        h.append(f"<tr><td>{k}</td><td>{escape(fmt(cs.get(k)))}</td></tr>")
    h.append("</table>")
    h.append("<h2>Resources</h2>")
    h.append(f"<img alt='utilization' src='{_img(png_util)}'>")
    res = results["resources"]
    h.append("<table><tr><th>resource</th><th>used</th><th>board</th><th>utilization</th></tr>")
    caps = results.get("board_resources") or {}
    for k in ("lut", "ff", "dsp", "bram_18k", "uram"):
        u = (results.get("utilization") or {}).get(k)
        h.append(f"<tr><td>{k.upper()}</td><td>{fmt(res.get(k))}</td><td>{fmt(caps.get(k))}</td>"
                 f"<td>{fmt(100 * u if u is not None else None, ' %', 3)}</td></tr>")
    h.append(f"</table><p>{badge(res.get('source'))} {escape(res.get('error') or '')}</p>")
    lat = results["latency"]
    h.append("<h2>Latency and throughput</h2><table>")
    h.append(f"<tr><td>latency</td><td>{fmt(lat['cycles'])} cycles = {fmt(lat['seconds'] * 1e6 if lat['seconds'] else None, ' µs')}</td></tr>")
    h.append(f"<tr><td>initiation interval</td><td>{fmt(lat['ii_cycles'])} cycles</td></tr>")
    h.append(f"</table><p>{badge(lat['source'])}</p>")
    h.append("<h2>Power and energy</h2><table>")
    p, e = results["power"], results["energy"]
    h.append(f"<tr><td>active power</td><td>{fmt(p['active_w'], ' W')}</td></tr><tr><td>idle power</td><td>{fmt(p['idle_w'], ' W')}</td></tr>")
    h.append(f"<tr><td>energy per inference</td><td>{fmt(e['uj_per_inference'], ' µJ')}</td></tr>")
    h.append(f"<tr><td>inferences per joule</td><td>{fmt(e['inferences_per_joule'])}</td></tr>")
    h.append(f"<tr><td>accuracy per joule</td><td>{fmt(e['accuracy_per_joule'])}</td></tr>")
    h.append(f"</table><p>{badge(e['source'])}</p>")
    h.append("<h2>Layers</h2><table><tr><th>layer</th><th>class</th><th>result</th><th>weight</th><th>bias</th>"
             "<th>accum</th><th>reuse</th><th>parameters</th><th>sparsity</th></tr>")
    tl = results.get("layers") or {}
    for ly in (results.get("hls") or {}).get("layers") or []:
        t = tl.get(ly["name"], {})
        h.append("<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in (
            ly["name"], ly.get("class"), ly.get("result", ""), ly.get("weight", ""), ly.get("bias", ""),
            ly.get("accum", ""), ly.get("reuse_factor", ""), t.get("parameters", ""),
            f"{t['sparsity']:.1%}" if "sparsity" in t else "")) + "</tr>")
    h.append("</table>")
    prov = results["provenance"]
    h.append("<h2>Provenance</h2><table>")
    h.append(f"<tr><td>git commit</td><td>{escape(str(prov.get('git_commit')))}</td></tr>")
    for k, v in (prov.get("packages") or {}).items():
        h.append(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>")
    for k, v in (prov.get("steps") or {}).items():
        h.append(f"<tr><td>step {escape(k)}</td><td>{escape(str(v.get('status')))}, {fmt(v.get('duration_s'), ' s')}</td></tr>")
    h.append("</table></body></html>")
    html_path = out / "report.html"
    atomic_write_text(html_path, "\n".join(h))

    md = [f"# {results['design']} on {results['board']}", "",
          f"part {results.get('part')}, clock {results.get('clock_ns')} ns, hwflow {prov['hwflow']}", "",
          "| figure | value | source |", "|---|---|---|"]
    for row in rows:
        md.append(f"| {row['name']} | {row['value']} | {row['source'] or 'not run'} |")
    md += ["", "![accuracy chain](accuracy_chain.png)", "", "![utilization](utilization.png)", ""]
    md_path = out / "report.md"
    atomic_write_text(md_path, "\n".join(md) + "\n")
    return {"html": html_path, "md": md_path, "plots": [png_acc, png_util]}
