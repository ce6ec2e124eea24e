"""Step deploy: run the bundle on the board (local, ssh) or on the emulated board.

``emulated`` runs the very same runtime code path (driver -> DMA -> overlay) on this PC,
with the bit-exact emulator of the firmware behind an emulated overlay and a simulated
power sensor fed by the board's power model. Every figure it produces is labelled
``emulated``. Its energy per inference is the modelled board power times the
accelerator's modelled time per inference (II x clock, from synthesis or the estimate):
the PC's own wall-clock time says nothing about the FPGA, so it is kept only as a
harness figure.

``ssh://user@host[:port]/dir`` copies the tarball with scp, runs the runner there with
ssh (keys only: BatchMode, never a password in a file) and fetches deploy.json and
power.csv back. Every command is an argument list; the remote command line is built from
validated, shell-quoted parts.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..context import Context
from ..energy.design import fmt_uj
from ..errors import BadInput, StepFailed, ToolMissing, Unreachable
from ..fileio import atomic_write_json, read_json
from ..registry import StepSpec, register
from ..runtime.runner import BundleError, RunFailed, run_bundle
from .emulate import firmware_predictor

SAFE_REMOTE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
SAFE_DIR = re.compile(r"^[A-Za-z0-9_./~-]+$")


@dataclass
class Target:
    kind: str  # emulated | local | ssh
    user: str | None = None
    host: str | None = None
    port: int = 22
    dir: str | None = None

    def describe(self) -> str:
        if self.kind == "ssh":
            return f"ssh://{self.user}@{self.host}:{self.port}{self.dir}"
        return self.kind


def parse_target(spec: str) -> Target:
    if spec in ("emulated", "local"):
        return Target(spec)
    if not spec.startswith("ssh://"):
        raise BadInput(f"--deploy {spec!r}: use emulated, local or ssh://user@host[:port]/dir")
    u = urlparse(spec)
    try:
        port = u.port or 22
    except ValueError:
        raise BadInput(f"--deploy {spec!r}: the port is not a number in 1..65535") from None
    user, host, path = u.username, u.hostname, u.path or ""
    if not user or not host or not path or path == "/":
        raise BadInput(f"--deploy {spec!r}: needs user, host and a folder, e.g. ssh://xilinx@192.168.2.99/home/xilinx/hwflow")
    if u.password:
        raise BadInput("--deploy: never put a password in the target; use an ssh key (ssh-copy-id)")
    for what, v in (("user", user), ("host", host)):
        if not SAFE_REMOTE.match(v):
            raise BadInput(f"--deploy: {what} {v!r} has characters that are not allowed")
    if not SAFE_DIR.match(path) or ".." in path.split("/"):
        raise BadInput(f"--deploy: folder {path!r} has characters that are not allowed (letters, digits, _ . / - ~)")
    return Target("ssh", user, host, port, path.rstrip("/"))


def _settings(ctx: Context) -> dict[str, Any]:
    return {"target": ctx.options.deploy}


def _preflight(ctx: Context) -> None:
    t = parse_target(ctx.options.deploy)
    if t.kind == "ssh":
        for exe in ("ssh", "scp"):
            if shutil.which(exe) is None:
                raise ToolMissing(f"deploy over ssh needs '{exe}', not found on PATH",
                                  hint="install openssh-client, or use --deploy emulated")


def get_predict(ctx: Context):
    """The firmware's bit-exact emulator (fast when supported, else batched C-sim)."""
    return firmware_predictor(ctx)


def run(ctx: Context) -> dict[str, Any]:
    t = parse_target(ctx.options.deploy)
    pkg = ctx.path("package")
    bundle = read_json(pkg / "bundle.json")
    if t.kind != "emulated" and not bundle.get("bitfile"):
        raise ToolMissing(
            f"no bitstream for {ctx.design.name} on {ctx.board.name}: a board run needs the .bit and .hwh",
            hint=f"run `hwflow synth {ctx.design.name} --board {ctx.board.name} --level bitfile` where Vivado is "
                 "installed, then deploy again; `--deploy emulated` runs the same code path without a board")
    out = ctx.path("deploy")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if t.kind == "emulated":
        raw = _run_emulated(ctx, pkg, out)
    elif t.kind == "local":
        raw = _run_local(ctx, pkg, out)
    else:
        raw = _run_ssh(ctx, t, out)
    res = normalise(ctx, raw, bundle, t)
    res["accuracy_csim_on_vectors"] = _csim_accuracy_on_vectors(pkg)
    if (out / "power.csv").exists():
        shutil.copyfile(out / "power.csv", ctx.path("power.csv"))
    atomic_write_json(ctx.path("deploy.json"), res)
    cmp_ = res.get("comparison") or {}
    basis, how = (("accelerator", "II x clock x modelled power") if t.kind == "emulated" else
                  ("batched_system", "batches through the DMA, run-phase energy / inferences"))
    ctx.log(f"{t.describe()}: board accuracy {_fmt_acc(res.get('accuracy_board'))} (C-sim on the same "
            f"{cmp_.get('samples')} vectors: {_fmt_acc(res.get('accuracy_csim_on_vectors'))}), outputs equal C-sim "
            f"on {cmp_.get('exact_equal')}/{cmp_.get('samples')} test vectors; energy/inference [{basis}]: "
            f"{_fmt_uj((res.get('energy') or {}).get('uj_per_inference'))} ({res.get('source')}: {how})")
    if res.get("outputs_match_csim") is False:
        d = cmp_.get("max_abs_diff")
        raise StepFailed(f"board outputs differ from the C-simulation on {cmp_.get('samples', 0) - cmp_.get('exact_equal', 0)} "
                         f"of {cmp_.get('samples')} test vectors"
                         + (f" (max |diff| {d:.3g})" if isinstance(d, (int, float)) else ""),
                         log=str(ctx.path("deploy.json")),
                         hint="check that the bitfile was built from this HLS project (package/manifest.json)")
    return {"accuracy_board": res.get("accuracy_board"), "source": res.get("source")}


def _run_emulated(ctx: Context, pkg: Path, out: Path) -> dict[str, Any]:
    predict = get_predict(ctx)
    try:
        return run_bundle(pkg, out, emulated=True, predict=predict, quick=True)
    except BundleError as exc:
        raise BadInput(f"deployment bundle {pkg}: {exc}") from None
    except RunFailed as exc:
        raise StepFailed(f"emulated deployment failed: {exc}", log=str(out / "deploy.json")) from None


def _run_local(ctx: Context, pkg: Path, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(pkg / "runtime" / "runner.py"), "--bundle", str(pkg), "--out", str(out)]
    ctx.log("running on this machine as the board: " + " ".join(shlex.quote(c) for c in cmd))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.options.timeout_s or 900)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"the runner did not finish within {ctx.options.timeout_s or 900} s",
                         log=str(ctx.log_path())) from None
    ctx.log(p.stdout + p.stderr, console=False)
    if p.returncode == 3:
        raise ToolMissing("this machine is not a usable board: " + _last_line(p.stderr or p.stdout),
                          hint="run `hwflow deploy` on the board (PYNQ image) itself, use --deploy ssh://..., "
                               "or --deploy emulated on a PC")
    if p.returncode != 0:
        raise StepFailed(f"runner exited {p.returncode}", log=str(ctx.log_path()), tail=(p.stderr or p.stdout)[-2000:])
    return read_json(out / "deploy.json")


def ssh_base(t: Target) -> list[str]:
    return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4", "-p", str(t.port), f"{t.user}@{t.host}"]


def scp_base(t: Target) -> list[str]:
    return ["scp", "-q", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-P", str(t.port)]


def _call(ctx: Context, cmd: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
    ctx.log("$ " + " ".join(shlex.quote(c) for c in cmd), console=False)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Unreachable(f"{what}: no answer within {timeout:.0f} s (board unreachable or hung)",
                           hint="check the board is powered, on the network and reachable with `ssh`") from None
    ctx.log(f"exit {p.returncode}\n{p.stdout}{p.stderr}", console=False)
    return p


def _run_ssh(ctx: Context, t: Target, out: Path) -> dict[str, Any]:
    tar = ctx.path("package.tar.gz")
    name = f"{ctx.design.name}-{ctx.board.name}"
    rdir = t.dir
    remote_bundle = f"{rdir}/{name}"
    timeout = ctx.options.timeout_s or 900
    p = _call(ctx, ssh_base(t) + ["--", f"mkdir -p {shlex.quote(rdir)}"], "ssh", 30)
    if p.returncode == 255:
        raise Unreachable(f"board unreachable: ssh {t.user}@{t.host} -p {t.port}: {_last_line(p.stderr)}",
                           hint="check the address, that an ssh key is installed (ssh-copy-id) and the board is up; "
                                "`hwflow run ... --deploy emulated` works without a board")
    if p.returncode != 0:
        raise StepFailed(f"could not create {rdir} on {t.host}", log=str(ctx.log_path()), tail=p.stderr)
    p = _call(ctx, scp_base(t) + [str(tar), f"{t.user}@{t.host}:{rdir}/"], "scp", 300)
    if p.returncode != 0:
        _ssh_fail(ctx, t, p, "copying the bundle")
    remote = (f"cd {shlex.quote(rdir)} && rm -rf {shlex.quote(name)} && tar xzf {shlex.quote(tar.name)} && "
              f"cd {shlex.quote(name)} && python3 runtime/runner.py --bundle . --out out")
    p = _call(ctx, ssh_base(t) + ["--", remote], "running the bundle", timeout)
    if p.returncode == 255:
        _ssh_fail(ctx, t, p, "running the bundle (connection dropped)")
    got = _call(ctx, scp_base(t) + [f"{t.user}@{t.host}:{remote_bundle}/out/deploy.json", str(out / "deploy.json")],
                "fetching deploy.json", 120)
    _call(ctx, scp_base(t) + [f"{t.user}@{t.host}:{remote_bundle}/out/power.csv", str(out / "power.csv")],
          "fetching power.csv", 120)
    if got.returncode != 0 or not (out / "deploy.json").exists():
        raise StepFailed(f"the run on {t.host} left no deploy.json (runner exit {p.returncode})",
                         log=str(ctx.log_path()), tail=(p.stderr or p.stdout)[-2000:])
    if p.returncode == 3:
        raise ToolMissing(f"the board {t.host} could not run the bundle: {_last_line(p.stderr)}",
                          hint="is this a PYNQ image with the overlay's bitfile in the bundle (hwflow synth --level bitfile)?")
    if p.returncode != 0:
        raise StepFailed(f"the run on {t.host} failed (exit {p.returncode})", log=str(out / "deploy.json"),
                         tail=(p.stderr or p.stdout)[-2000:])
    return read_json(out / "deploy.json")


def _ssh_fail(ctx: Context, t: Target, p: subprocess.CompletedProcess, what: str) -> None:
    if p.returncode == 255:
        raise Unreachable(f"board {t.host} unreachable while {what}: {_last_line(p.stderr)}",
                           hint="the connection was refused or dropped; check the board and retry")
    raise StepFailed(f"{what} on {t.host} failed (exit {p.returncode})", log=str(ctx.log_path()), tail=p.stderr[-2000:])


def _csim_accuracy_on_vectors(pkg: Path) -> float | None:
    """C-sim accuracy on exactly the vectors the board ran (board accuracy must equal it)."""
    import numpy as np

    try:
        y_csim = np.load(pkg / "vectors" / "y_csim.npy", allow_pickle=False)
        labels = np.load(pkg / "vectors" / "y_true.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    y_csim = y_csim.reshape(len(y_csim), -1)
    if y_csim.shape[1] < 2 or len(labels) != len(y_csim):
        return None
    return float(np.mean(np.argmax(y_csim, axis=1) == labels))


def _fmt_acc(v: Any) -> str:
    """An accuracy fraction for people (0.9371, not 0.9370629370629371)."""
    return f"{v:.4f}" if isinstance(v, (int, float)) else "not measured"


def _fmt_uj(v: Any) -> str:
    return fmt_uj(v if isinstance(v, (int, float)) else None)


def _last_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no message)"


def normalise(ctx: Context, raw: dict[str, Any], bundle: dict[str, Any], t: Target) -> dict[str, Any]:
    """deploy.json for results.json: one shape whatever the transport."""
    m = raw.get("measurement") or {}
    cmp_ = raw.get("comparison") or {}
    acc = (raw.get("accuracy") or {}).get("board")
    emulated = t.kind == "emulated"
    res: dict[str, Any] = {
        "transport": t.describe(), "status": raw.get("status"), "accuracy_board": acc, "comparison": cmp_,
        "outputs_match_csim": (cmp_.get("exact_fraction") == 1.0) if cmp_.get("samples") else None,
        "exact_fraction": cmp_.get("exact_fraction"), "n_inferences": m.get("n_inferences"),
        "sensor": m.get("sensor"), "runner": raw,
    }
    if emulated:
        emu = bundle.get("emulation") or {}
        sps = emu.get("seconds_per_sample") or None
        pw = emu.get("power")
        active = m.get("power_active_w")
        idle = m.get("power_idle_w")
        if sps and pw and active is not None:
            e_total = active * sps * 1e6
            e_dyn = max(0.0, active - (idle or 0.0)) * sps * 1e6
            ipj = 1.0 / (active * sps)
            res["energy"] = {"uj_per_inference": e_total, "dynamic_uj_per_inference": e_dyn,
                             "inferences_per_joule": ipj,
                             "accuracy_per_joule": (acc * ipj) if acc is not None else None,
                             "model": f"simulated board power {active:.3g} W x modelled {sps:.3g} s/inference "
                                      f"({emu.get('seconds_per_sample_source')})",
                             "mode": "streaming: II x clock (modelled), batches through the DMA",
                             "power_source": (emu.get("power_model") or {}).get("source"),
                             "note": (emu.get("power_model") or {}).get("note")}
            res["power"] = {"active_w": active, "idle_w": idle}
            res["source"] = "emulated"
        else:
            why = ("the board file has no power figure (power.idle_w/active_w)" if not pw else
                   "no latency/II figure for the accelerator (run the estimate step or synthesis)")
            res["energy"] = None
            res["energy_note"] = f"energy not emulated: {why}"
            res["source"] = "emulated"
        res["harness"] = {"host_latency_s_per_inference": m.get("latency_s_per_inference"),
                          "note": "wall-clock time of the emulation on this PC, not the FPGA's"}
    else:
        e = m.get("energy_uj_per_inference")
        src = m.get("source")
        if e is not None:
            ipj = m.get("inferences_per_joule")
            res["energy"] = {"uj_per_inference": e, "uncertainty_uj": m.get("energy_uj_per_inference_uncertainty"),
                             "mode": "measured: batches through the DMA, run-phase energy / inferences",
                             "dynamic_uj_per_inference": m.get("energy_dynamic_uj_per_inference"),
                             "inferences_per_joule": ipj,
                             "accuracy_per_joule": (acc * ipj) if (acc is not None and ipj) else None}
            res["power"] = {"active_w": m.get("power_active_w"), "idle_w": m.get("power_idle_w")}
        else:
            res["energy"] = None
            res["energy_note"] = "; ".join(m.get("notes") or []) or "power not measured on this board"
        res["source"] = src
    return res


register(StepSpec(name="deploy", run=run, settings=_settings, needs=("package",), preflight=_preflight,
                  outputs=("deploy.json",), result_file="deploy.json", version=1,
                  code=("hwflow/runtime",)))
