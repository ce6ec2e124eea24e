"""Front-end (b): an hls4ml project directory as written by ``ModelGraph.write()``.

Reads whatever of these exists (hls4ml versions differ in what they write):

* ``firmware/parameters.h`` - one ``struct configN : nnet::xxx_config`` per layer with
  ``static const`` fields (``n_in``, ``reuse_factor``, ``multiplier_limit``, ...),
  member typedefs (``weight_t``, ``accum_t``) and template aliases;
* ``firmware/defines.h`` - ``#define`` sizes and the file-scope typedefs of every tensor;
* ``firmware/<project>.cpp`` - the ``nnet::`` calls of the top function, in order, with
  the Keras layer name in the trailing comment and the weight arrays they use;
* ``firmware/weights/w*.txt`` or ``w*.h`` - to count nonzero weights (pruning);
* ``hls4ml_config.yml`` - IOType, Strategy, ReuseFactor, Part, ClockPeriod, Backend;
* ``project.tcl`` (hls4ml >= 0.8: ``set part``, ``set clock_period``) or ``build_prj.tcl``
  (older: ``set_part``, ``create_clock -period``, and ``config_op mul -impl``).

The result is the same "document" the fixture front-end reads from ``layers.json``
(see :mod:`hwflow.estimate.structs`), so both give identical LayerSpecs for the same project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .cexpr import eval_c_expr
from .layerspec import LayerSpec, type_bits
from .structs import layers_from_document
from .weights import attach_weight_stats, read_values


class ProjectParseError(ValueError):
    """The directory is not an hls4ml project this front-end can read."""


# ------------------------------------------------------------------------ C text helpers

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"//[^\n]*")


def _strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def _split_top(s: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside <>, (), [] and {}."""
    out, depth, cur = [], 0, []
    for ch in s:
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


# ------------------------------------------------------------------------ file parsers

# [ \t] not \s: a value-less ``#define GUARD_H_`` must not take the next line as its value
_DEFINE_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.+?)[ \t]*$", re.MULTILINE)
_TYPEDEF_RE = re.compile(r"\btypedef\s+([^;{}]+?)\s+(\w+)\s*;")
# the base class is optional: hls4ml writes e.g. ``struct hard_tanh_config4 {`` with none
_STRUCT_RE = re.compile(r"\bstruct\s+(\w+)\s*(?::\s*(?:public\s+)?(?:nnet::)?(\w+)\s*)?\{")


def parse_defines(text: str) -> dict[str, int]:
    """``#define NAME <constant>`` of defines.h, evaluated where they are constants."""
    out: dict[str, int] = {}
    for name, val in _DEFINE_RE.findall(_BLOCK_COMMENT.sub("", text)):
        val = _LINE_COMMENT.sub("", val).strip()
        try:
            v = eval_c_expr(val, out)
        except (ValueError, ZeroDivisionError, TypeError):
            continue
        if isinstance(v, int) and not isinstance(v, bool):
            out[name] = v
    return out


def parse_typedefs(text: str) -> dict[str, str]:
    """File-scope ``typedef T name;`` (struct bodies removed first)."""
    clean = _strip_comments(text)
    # drop struct bodies so member typedefs (accum_t...) are not taken as file scope
    out_text, i = [], 0
    for m in _STRUCT_RE.finditer(clean):
        if m.start() < i:
            continue
        out_text.append(clean[i:m.start()])
        j = _match_brace(clean, m.end() - 1)
        i = j + 1
    out_text.append(clean[i:])
    return {name: t.strip() for t, name in _TYPEDEF_RE.findall("".join(out_text))}


def _match_brace(text: str, open_idx: int) -> int:
    depth = 0
    for k in range(open_idx, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(text) - 1


def resolve_type(name: str, typedefs: dict[str, str], depth: int = 0) -> str:
    """Follow typedef chains (``weight2_t`` -> ``ap_fixed<6,1>``), inside ``nnet::array<>`` too."""
    if depth > 20:
        return name
    t = typedefs.get(name.strip())
    if t is None:
        m = re.match(r"nnet::array<\s*(\w+)\s*,(.*)>$", name.strip())
        if m and m.group(1) in typedefs:
            return f"nnet::array<{resolve_type(m.group(1), typedefs, depth + 1)},{m.group(2)}>"
        return name.strip()
    return resolve_type(t, typedefs, depth + 1)


def parse_structs(text: str, defines: dict[str, int], typedefs: dict[str, str]) -> list[dict[str, Any]]:
    """The config structs of parameters.h in the same shape as ``layers.json`` ``layers``."""
    clean = _strip_comments(text)
    raw = text
    structs: list[dict[str, Any]] = []
    names = {m.group(1) for m in _STRUCT_RE.finditer(clean)}
    for m in _STRUCT_RE.finditer(clean):
        name, base = m.group(1), m.group(2)
        end = _match_brace(clean, m.end() - 1)
        body = clean[m.end():end]
        fields: dict[str, Any] = {}
        exprs: dict[str, str] = {}
        unresolved: list[str] = []
        tdefs: dict[str, str] = {}
        templates: dict[str, str] = {}
        for stmt in _split_top(body, ";"):
            st = " ".join(stmt.split())
            if not st:
                continue
            tm = re.match(r"template\s*<.*?>\s*using\s+(\w+)\s*=\s*(.+)$", st)
            if tm:
                templates[tm.group(1)] = tm.group(2).strip()
                continue
            td = re.match(r"typedef\s+(.+)\s+(\w+)$", st)
            if td:
                tdefs[td.group(2)] = td.group(1).strip()
                continue
            fm = re.match(r"static\s+(?:const|constexpr)\s+(?:const\s+)?([\w:<>, ]+?)\s+(\w+)\s*=\s*(.+)$", st)
            if fm:
                fname, expr = fm.group(2), fm.group(3).strip()
                scope = {**defines, **fields}
                try:
                    val = eval_c_expr(expr, scope)
                    fields[fname] = val
                    if not re.fullmatch(r"-?\d+[uUlL]*|true|false", expr):
                        exprs[fname] = expr
                except (ValueError, ZeroDivisionError, TypeError, KeyError):
                    unresolved.append(fname)
                    exprs[fname] = expr
        resolved = {k: resolve_type(v, typedefs) for k, v in tdefs.items() if v not in names}
        refs = {k: v for k, v in tdefs.items() if v in names}
        structs.append({
            "name": name, "base": base, "fields": fields, "exprs": exprs, "unresolved": unresolved,
            "typedefs": tdefs, "typedefs_resolved": resolved, "config_refs": refs, "templates": templates,
            "comment": _struct_comment(raw, name),
        })
    return structs


def _struct_comment(raw: str, name: str) -> str | None:
    """hls4ml writes ``// <keras layer name>`` on the line above each config struct."""
    m = re.search(r"//\s*([^\n]+?)\s*\n\s*struct\s+" + re.escape(name) + r"\b", raw)
    return m.group(1).strip() if m else None


_CALL_RE = re.compile(r"nnet::(\w+)\s*<")


_HELPERS = ("load_", "save_", "print_", "fill_", "copy_data", "convert_data", "trace")


def parse_calls(cpp: str, struct_names: set[str]) -> list[dict[str, Any]]:
    """The ``nnet::`` layer calls of the top function, in order (with their config struct, or
    ``config: None`` for generated kernels that take none)."""
    calls: list[dict[str, Any]] = []
    text = _BLOCK_COMMENT.sub("", cpp)
    for m in _CALL_RE.finditer(text):
        # template argument list with nesting
        i, depth = m.end() - 1, 0
        for k in range(i, len(text)):
            if text[k] == "<":
                depth += 1
            elif text[k] == ">":
                depth -= 1
                if depth == 0:
                    break
        else:
            continue
        targs = _split_top(text[i + 1:k])
        rest = text[k + 1:]
        am = re.match(r"\s*\((.*?)\)\s*;([^\n]*)", rest, re.DOTALL)
        if not am:
            continue
        cfg = next((a for a in reversed(targs) if a in struct_names), None)
        if cfg is None and (m.group(1).startswith(_HELPERS) or len(_split_top(am.group(1))) < 2):
            continue  # weight loading, tracing, data conversion: not a layer
        # A layer call without a config struct (hls4ml 1.3's generated dense_da_<i> kernels, or
        # a function this parser does not know) is kept, so it is estimated or said to be missing.
        comment = None
        cm = re.match(r"\s*//\s*(.+?)\s*$", am.group(2))
        if cm:
            comment = cm.group(1)
        calls.append({"func": "nnet::" + m.group(1), "template_args": targs, "config": cfg,
                      "comment": comment, "args": _split_top(am.group(1))})
    return calls


_DA_FUNC_RE = re.compile(r"void\s+(dense_da_\d+|einsum_\d+_da_\d+_of_\d+)\s*\(\s*\w+\s+\w+\[(\d+)\]\s*,\s*\w+\s+\w+\[(\d+)\]\s*\)")
_DA_ADD_RE = re.compile(r"ap_u?fixed<\s*(\d+)\s*,\s*-?\d+\s*>\s+v\d+\s*=\s*([^;]*?[+-][^;]*);\s*//\s*([\d.]+)")
_DA_SHIFT_RE = re.compile(r"bit_shift<\s*(-?\d+)\s*>")


def parse_da_kernels(text: str) -> dict[str, dict[str, Any]]:
    """hls4ml 1.3 distributed-arithmetic kernels (``nnet_code_gen.h``): per ``dense_da_<i>`` the
    explicit adder graph - how many adders, their summed carry-chain width (LUTs) and the adder
    depth hls4ml notes on each line."""
    out: dict[str, dict[str, Any]] = {}
    matches = list(_DA_FUNC_RE.finditer(text))
    for k, m in enumerate(matches):
        body = text[m.end(): matches[k + 1].start() if k + 1 < len(matches) else len(text)]
        adders = []
        for w, expr, d in _DA_ADD_RE.findall(body):
            # bits that only one operand covers (below or above the other's shifted range) are
            # wires: the carry chain spans the result width less the shift
            shift = max((abs(int(x)) for x in _DA_SHIFT_RE.findall(expr)), default=0)
            adders.append((max(1, int(w) - shift), float(d)))
        out[m.group(1)] = {"n_in": int(m.group(2)), "n_out": int(m.group(3)), "adders": len(adders),
                           "adder_bits": sum(w for w, _ in adders),
                           "depth": max((d for _, d in adders), default=0.0)}
    return out


def count_weights(path: Path) -> tuple[int, int] | None:
    """(number of values, nonzero values) of a ``w*.txt`` / ``w*.h`` weights file."""
    vals = read_values(path)
    if vals is None:
        return None
    return len(vals), sum(1 for v in vals if v != 0.0)


# ------------------------------------------------------------------------ config + tcl

def _yaml_load(text: str) -> dict[str, Any]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def _any(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    _Loader.add_multi_constructor("!", _any)
    _Loader.add_multi_constructor("tag:", _any)
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def normalise_hls4ml_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The few keys the estimator needs, in the shape of ``layers.json`` ``hls4ml_config``."""
    hls = cfg.get("HLSConfig") or {}
    model = hls.get("Model") or cfg.get("Model") or {}
    return {
        "Backend": cfg.get("Backend"),
        "Part": cfg.get("Part") or cfg.get("XilinxPart"),
        "ClockPeriod": cfg.get("ClockPeriod"),
        "IOType": cfg.get("IOType"),
        "ProjectName": cfg.get("ProjectName"),
        "Model": {"ReuseFactor": model.get("ReuseFactor"), "Strategy": model.get("Strategy"),
                  "Precision": model.get("Precision")},
    }


def parse_tcl(text: str) -> dict[str, Any]:
    """Part, clock period, backend and ``config_op mul -impl`` from project.tcl / build_prj.tcl."""
    out: dict[str, Any] = {}
    m = re.search(r'^\s*set\s+part\s+"?\{?([\w\-.]+)', text, re.MULTILINE)
    if m:
        out["part"] = m.group(1)
    m = re.search(r"set_part\s+\{?\"?([\w\-.]+)", text)
    if m and "part" not in out and not m.group(1).startswith("$"):
        out["part"] = m.group(1)
    m = re.search(r'^\s*set\s+clock_period\s+"?([\d.]+)', text, re.MULTILINE)
    if m:
        out["clock_ns"] = float(m.group(1))
    m = re.search(r"create_clock\s+-period\s+([\d.]+)", text)
    if m and "clock_ns" not in out:
        out["clock_ns"] = float(m.group(1))
    m = re.search(r'^\s*set\s+backend\s+"?(\w+)', text, re.MULTILINE)
    if m:
        out["backend"] = m.group(1)
    m = re.search(r"config_op\s+mul\s+.*?-impl\s+(\w+)", text)
    if m:
        out["mul_impl"] = "fabric" if m.group(1) in ("fabric", "auto_fabric") else (
            "dsp" if "dsp" in m.group(1) else "auto")
    if re.search(r"\bvitis_hls\b|open_component", text):
        out.setdefault("backend", "vitis")
    return out


# ------------------------------------------------------------------------ the tool that ran

_TOOL_RE = re.compile(r"\b(Vitis|Vivado)(?:\(TM\))? HLS\b")
_VERSION_RE = re.compile(r"\bv?(20\d\d\.\d)(?:\.\d)?\b")


def _head(path: Path, limit: int = 8192) -> str:
    try:
        with path.open("r", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return ""


def tool_of_run(root: Path) -> dict[str, Any] | None:
    """Which HLS tool (and version, part, target clock) already ran on this project, from what
    it left behind: ``vitis_hls.log`` / ``vivado_hls.log`` and the header of a C-synthesis
    report in ``<name>_prj/solution*/syn/report/`` (or a Vitis unified workspace's hls component,
    or a v++ kernel compile's ``reports/<kernel>/hls_reports/``). Only the run's settings are read - never
    a figure it reports. hls4ml's ``Vivado`` backend is often synthesised with Vitis HLS, so what ran says
    more than the backend's name. None when nothing ran here."""
    cands = [root / "vitis_hls.log", root / "vivado_hls.log"]
    # report folders: <name>_prj/solution*/ (Vivado / Vitis backends) or an hls component of a
    # Vitis unified workspace (<workspace>/<name>/<project>/hls/, hls4ml's VitisUnified backend)
    reports = [(prj.name[: -len("_prj")], sol / "syn" / "report")
               for prj in sorted(root.glob("*_prj"))[:4] for sol in sorted(prj.glob("solution*"))[:4]]
    for pattern in ("*/hls/syn/report", "*/*/hls/syn/report", "*/*/*/hls/syn/report"):
        reports += [(None, rep) for rep in sorted(root.glob(pattern))[:4]]
    # a v++ kernel compile (hls4ml's VitisAccelerator backend): <build>/[xo/]reports/<kernel>/
    # hls_reports/, whose top is the accelerator's kernel_wrapper
    for pattern in ("*/reports/*/hls_reports", "*/*/reports/*/hls_reports"):
        reports += [("kernel_wrapper", rep) for rep in sorted(root.glob(pattern))[:4]]
    tops = [p.stem for p in sorted((root / "firmware").glob("*.cpp"))][:4]
    for top, rep in reports:
        if rep.is_dir():
            # the top function's report first (a run also leaves one per sub-module, whose
            # header is the same but whose name would be shown as the source)
            for name in ([top] if top else tops):
                cands += [rep / f"{name}_csynth.rpt", rep / f"{name}_csynth.xml"]
            cands += [rep / "csynth.rpt", rep / "csynth.xml"]
            cands += sorted(rep.glob("*_csynth.rpt"))[:2] + sorted(rep.glob("*_csynth.xml"))[:1]
    for path in cands:
        if not path.is_file():
            continue
        text = _head(path)
        # the header only: the settings of the run, never a figure it reports
        for stop in ("</UserAssignments>", "== Performance Estimates"):
            if stop in text:
                text = text[: text.index(stop)]
        found = {"source": path.relative_to(root).as_posix(), "part": None, "clock_ns": None}
        pm = re.search(r"<Part>\s*([\w-]+)\s*</Part>", text) or re.search(r"\* Target device:\s*([\w-]+)", text)
        if pm:
            found["part"] = pm.group(1)
        cm = re.search(r"<TargetClockPeriod>\s*([\d.]+)\s*<", text)
        if cm:
            found["clock_ns"] = float(cm.group(1))
        m = _TOOL_RE.search(text)
        if path.suffix == ".xml" and not m:
            # a csynth XML names the tool only through its version: Vitis HLS from 2020.2 on
            v = re.search(r"<Version>\s*(20\d\d\.\d)", text)
            if v:
                year = float(v.group(1))
                return {**found, "tool": "vitis_hls" if year >= 2020.2 else "vivado_hls", "tool_version": v.group(1)}
            continue
        if not m:
            continue
        v = _VERSION_RE.search(text[m.end(): m.end() + 2000]) or _VERSION_RE.search(text)
        return {**found, "tool": f"{m.group(1).lower()}_hls", "tool_version": v.group(1) if v else None}
    return None


# ------------------------------------------------------------------------ the front-end

def read_project(project_dir: str | Path) -> dict[str, Any]:
    """Parse an hls4ml project directory into the estimator's document form (plus ``project``)."""
    root = Path(project_dir)
    fw = root / "firmware"
    params_p = fw / "parameters.h"
    if not params_p.is_file():
        raise ProjectParseError(f"{root}: no firmware/parameters.h (is this an hls4ml project directory?)")
    params = params_p.read_text(errors="replace")
    defines_p = fw / "defines.h"
    defines_txt = defines_p.read_text(errors="replace") if defines_p.is_file() else ""
    defines = parse_defines(defines_txt + "\n" + params)
    typedefs = {**parse_typedefs(defines_txt), **parse_typedefs(params)}
    structs = parse_structs(params, defines, typedefs)
    cfg_yml = root / "hls4ml_config.yml"
    raw_cfg = _yaml_load(cfg_yml.read_text(errors="replace")) if cfg_yml.is_file() else {}
    hcfg = normalise_hls4ml_config(raw_cfg) if raw_cfg else None
    pname = (hcfg or {}).get("ProjectName") or "myproject"
    cpp_p = fw / f"{pname}.cpp"
    if not cpp_p.is_file():
        cands = [p for p in fw.glob("*.cpp") if "nnet::" in p.read_text(errors="replace")]
        cpp_p = cands[0] if cands else cpp_p
    cpp_txt = cpp_p.read_text(errors="replace") if cpp_p.is_file() else ""
    caveats = []
    if not cpp_txt:
        caveats.append(f"no top function (firmware/{pname}.cpp): layer order, io type and the calls "
                       "without a config struct guessed from parameters.h alone")
    calls = parse_calls(cpp_txt, {s["name"] for s in structs}) if cpp_txt else []
    # io_stream FIFO depths the project asks for (hls4ml sizes them; FIFO-depth optimisation shrinks them)
    depths = {v: int(d) for v, d in re.findall(r"#pragma\s+HLS\s+STREAM\s+variable=(\w+)\s+depth=(\d+)", cpp_txt)}
    for call in calls:
        args = call.get("args") or []
        if len(args) >= 2 and args[1] in depths:
            call["fifo_depth"] = depths[args[1]]

    tcl: dict[str, Any] = {}
    for name in ("build_prj.tcl", "project.tcl"):  # project.tcl (newer) wins
        p = root / name
        if p.is_file():
            tcl.update(parse_tcl(p.read_text(errors="replace")))
    backend = str((hcfg or {}).get("Backend") or tcl.get("backend") or "").lower()
    tool = "vitis_hls" if "vitis" in backend else "vivado_hls"
    tool_version, tool_source = None, "backend" if backend else "default"
    ran = tool_of_run(root) or {}
    if ran:
        tool, tool_version, tool_source = ran["tool"], ran["tool_version"], ran["source"]
    # the build script's part / clock, else those of a run already made here, else the config's
    part = tcl.get("part") or ran.get("part") or (hcfg or {}).get("Part")
    clock = tcl.get("clock_ns") or ran.get("clock_ns") or (hcfg or {}).get("ClockPeriod")

    # nonzero weights per weight array (w2 -> config of the call that passes w2)
    weight_counts: dict[str, tuple[int, int]] = {}
    wdir = fw / "weights"
    if wdir.is_dir():
        for call in calls:
            for arg in call.get("args", []):
                if re.fullmatch(r"[wsd]\w*\d+", arg) or re.fullmatch(r"w\d+", arg):
                    for ext in (".txt", ".h"):
                        p = wdir / f"{arg}{ext}"
                        if p.is_file():
                            c = count_weights(p)
                            if c:
                                weight_counts[call["config"]] = c
                            break
                    if call["config"] in weight_counts:
                        break
    for s in structs:
        wc = weight_counts.get(s["name"])
        if wc and "n_nonzeros" not in s["fields"] and "n_zeros" not in s["fields"]:
            s["fields"]["n_zeros"] = wc[0] - wc[1]
        if wc:
            s["weights_file_nonzero"] = wc[1]

    da_path = fw / "nnet_utils" / "nnet_code_gen.h"
    da = parse_da_kernels(da_path.read_text(errors="replace")) if da_path.is_file() else {}
    doc = {
        "status": "ok",
        "da_kernels": da,
        "layers": structs,
        "calls": calls,
        "typedefs": {k: {"type": v, "resolved": resolve_type(k, typedefs)} for k, v in typedefs.items()},
        "defines": defines,
        "hls4ml_config": hcfg,
        "top_pragmas": sorted({p.upper() for p in re.findall(r"#pragma\s+HLS\s+(\w+)", _strip_comments(cpp_txt), re.I)})
        if cpp_txt else None,
        # arrays the top function packs into one wide word (its io_parallel input port)
        "top_reshaped": sorted(set(re.findall(r"#pragma\s+HLS\s+ARRAY_RESHAPE\s+variable\s*=\s*(\w+)",
                                              _strip_comments(cpp_txt), re.I))) if cpp_txt else None,
        "project": {"name": pname, "part": part, "clock_ns": float(clock) if clock else None,
                    "tool": tool, "tool_version": tool_version, "tool_source": tool_source,
                    "mul_impl": tcl.get("mul_impl", "auto"), "dir": str(root), "caveats": caveats},
    }
    doc["project"]["layers_with_weight_values"] = attach_weight_stats(doc, wdir)
    return doc


def layers_from_project(project_dir: str | Path) -> tuple[list[LayerSpec], dict[str, Any]]:
    """LayerSpecs of an hls4ml project and its project facts (part, clock, tool, mul_impl)."""
    doc = read_project(project_dir)
    # (weighted layers without values: said by estimate_layers, which also picks their interval)
    return layers_from_document(doc), doc["project"]


__all__ = ["ProjectParseError", "eval_c_expr", "layers_from_project", "read_project", "type_bits"]
