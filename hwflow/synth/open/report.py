"""The report's "Open synthesis" section: Yosys counts of da4ml's architecture beside hwflow's HLS
estimate of the same design, the RTL simulation check and the logic-only delay, each labelled."""

from __future__ import annotations

from typing import Any

ROWS = (("lut", "LUT"), ("ff", "FF"), ("carry", "CARRY"), ("dsp", "DSP"), ("bram_18k", "BRAM_18K"))


def _fmt(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.3g}"


def open_section(r: dict[str, Any]) -> Any:
    """A report Section, or None when the open path did not run."""
    from hwflow.report.doc import Para, Section, Table, V

    o = r.get("open_synth") if isinstance(r, dict) else None
    if not isinstance(o, dict):
        return None
    src = o.get("source")
    est = (r.get("estimate") or {})
    est_res = est.get("resources") or {}
    est_src = est.get("source")
    da = o.get("da4ml_estimate") or {}
    res = o.get("resources") or {}
    s = Section("open-synth", "Open synthesis (da4ml + Yosys, no vendor tool)")
    arch = (o.get("architecture") or "da4ml's architecture").rstrip(". ")
    s.blocks.append(Para([f"{arch}. Counts are pre-placement netlist cells; the delay is logic only (no "
                          "routing); there is no bitstream from this path."]))
    same_arch = str((r.get("hls") or {}).get("strategy") or "").lower() == "distributed_arithmetic"
    if same_arch:
        s.blocks.append(Para(["Same architecture on both sides: the design selects hls.strategy: "
                              "distributed_arithmetic, so hls4ml also builds its Dense/Conv layers as da4ml adder "
                              "graphs of the same constants (0 DSP); the columns differ in the tool that counts, "
                              "not in the circuit's kind."]))
    rows = []
    for k, label in ROWS:
        rows.append([label, V(_fmt(res.get(k)), src),
                     V(_fmt(da.get(k)), da.get("source")) if k in ("lut", "ff") else "-",
                     V(_fmt(est_res.get(k)), est_src) if k in est_res else "-"])
    est_head = ("hwflow estimate (hls4ml distributed_arithmetic, reuse factor 1)" if same_arch
                else "hwflow estimate (hls4ml HLS architecture, the design's reuse factor)")
    caption = ("One architecture counted two ways: Yosys on da4ml's RTL, hwflow's estimate of hls4ml's DA "
               "kernels (HLS adds its own scheduling and registers)." if same_arch else
               "Two implementations of the same network: the HLS estimate is not a "
               "prediction of the Yosys counts, nor the reverse.")
    s.blocks.append(Table(["resource", "Yosys (da4ml architecture)", "da4ml's own estimate", est_head], rows,
                          numeric=(1, 2, 3), caption=caption))
    t = o.get("timing") or {}
    v = o.get("verilog") or {}
    sim = r.get("rtl_sim") or {}
    lines: list[Any] = []
    if t.get("logic_delay_ns") is not None:
        lines += ["Logic-only delay: ", V(f"{t['logic_delay_ns']:.2f} ns", src), f" ({t.get('over')}); clock "
                  f"{t.get('clock_period_ns')} ns. "]
    if v.get("pipelined"):
        lines.append(f"Pipelined: {v.get('pipeline_stages')} stages, latency {v.get('latency_cycles')} cycles, one "
                     "result per clock. ")
    if sim:
        lines += ["RTL simulation: ", V(f"{sim.get('exact_fraction', 0):.4f} exact", "emulated"),
                  f" on {sim.get('samples')} test vectors against {sim.get('reference')} "
                  f"({sim.get('outputs_compared')} values, engine {sim.get('engine')})."]
    if lines:
        s.blocks.append(Para(lines))
    return s
