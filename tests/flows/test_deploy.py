"""Package and deploy: bundle contents, emulated board, ssh transport failures, target parsing."""

from __future__ import annotations

import json
import os
import stat
import tarfile
from pathlib import Path

import pytest
from _tiny import tiny_design_yaml

from hwflow.cli import main
from hwflow.errors import BadInput
from hwflow.steps.deploy import parse_target

TINY = tiny_design_yaml("tiny_dep", hls=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dep")
    design = root / "tiny_dep.yaml"
    design.write_text(TINY)
    build = root / "build"
    rc = main(["run", str(design), "--board", "zcu104", "--build-dir", str(build), "--to", "deploy", "--quiet"])
    assert rc == 0
    return {"design": design, "build": build, "work": build / "tiny_dep" / "zcu104", "root": root}


def test_bundle_is_self_contained_with_hashes(run):
    pkg = run["work"] / "package"
    bundle = json.loads((pkg / "bundle.json").read_text())
    assert bundle["io"]["input"] == "float"  # the AXI-stream wrappers carry 32-bit floats
    assert bundle["notes"]["network_io"]["input"].startswith("ap_fixed<8,2")
    man = json.loads((pkg / "manifest.json").read_text())
    for rel in ("runtime/runner.py", "runtime/driver.py", "vectors/x.npy", "vectors/y_csim.npy", "board.yaml",
                "bundle.json"):
        assert rel in man["files"], rel
    import hashlib

    for rel, h in man["files"].items():
        assert hashlib.sha256((pkg / rel).read_bytes()).hexdigest() == h
    with tarfile.open(run["work"] / "package.tar.gz") as t:
        names = t.getnames()
    assert "tiny_dep-zcu104/runtime/runner.py" in names


def test_runtime_in_bundle_imports_nothing_from_hwflow(run):
    for p in (run["work"] / "package" / "runtime").glob("*.py"):
        text = p.read_text()
        assert "from hwflow" not in text and "import hwflow" not in text, p


def test_emulated_deploy_matches_csim_and_is_labelled(run):
    res = json.loads((run["work"] / "results.json").read_text())
    dep = json.loads((run["work"] / "deploy.json").read_text())
    assert dep["outputs_match_csim"] is True
    assert dep["comparison"]["exact_fraction"] == 1.0
    assert res["accuracy"]["board"] == pytest.approx(dep["accuracy_csim_on_vectors"])
    assert res["deploy"]["test_vectors"] == 100  # the whole (small) test split
    assert res["energy"]["source"] == "emulated"
    assert res["power"]["source"] == "emulated"
    assert res["energy"]["uj_per_inference"] > 0
    # ZCU104 power model: the PMBus 12V idle figure from the board file, quantised to the sensor's 1/8 W;
    # while running, idle + this design's modelled PL dynamic power (issue 15: the phases differ)
    pm = res["energy_model"]["power_model"]
    assert res["power"]["idle_w"] == pytest.approx(14.0, abs=0.125)
    assert res["power"]["active_w"] == pytest.approx(pm["full_w"], abs=0.125)
    assert res["power"]["active_w"] > res["power"]["idle_w"] and pm["dynamic_w"] > 0
    assert (run["work"] / "power.csv").read_text().startswith("t_s,watts,phase")


@pytest.mark.parametrize("spec, kind", [("emulated", "emulated"), ("local", "local"),
                                        ("ssh://xilinx@192.168.2.99/home/xilinx/hw", "ssh"),
                                        ("ssh://xilinx@board:2222/tmp/x", "ssh")])
def test_parse_target_ok(spec, kind):
    t = parse_target(spec)
    assert t.kind == kind
    if spec.endswith(":2222/tmp/x"):
        assert t.port == 2222 and t.dir == "/tmp/x"


@pytest.mark.parametrize("spec", ["ftp://x", "ssh://host/dir", "ssh://u@h", "ssh://u:pw@h/d", "ssh://u@h:99999/d",
                                  "ssh://-oProxyCommand=x@h/d", "ssh://u@h/d;rm -rf", "ssh://u@h/../../etc"])
def test_parse_target_rejects(spec):
    with pytest.raises(BadInput):
        parse_target(spec)


def _fake(bin_dir: Path, name: str, body: str) -> None:
    p = bin_dir / name
    p.write_text("#!/usr/bin/env bash\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IEXEC)


def _deploy(run, target, capsys):
    rc = main(["deploy", str(run["design"]), "--board", "zcu104", "--build-dir", str(run["build"]),
               "--deploy", target])
    return rc, capsys.readouterr()


def test_ssh_refused_exits_3(run, tmp_path, monkeypatch, capsys):
    _give_bundle_a_bitfile(run)
    _fake(tmp_path, "ssh", 'echo "ssh: connect to host board port 22: Connection refused" >&2; exit 255\n')
    _fake(tmp_path, "scp", "exit 255\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    before = (run["work"] / "results.json").read_text()
    rc, out = _deploy(run, "ssh://xilinx@board/home/xilinx/hw", capsys)
    assert rc == 3
    assert "board unreachable" in out.err and "Connection refused" in out.err
    assert "Traceback" not in out.err
    # the earlier (emulated) results are not corrupted
    assert json.loads((run["work"] / "results.json").read_text())["design"] == json.loads(before)["design"]


def test_ssh_dropped_mid_run_exits_3(run, tmp_path, monkeypatch, capsys):
    _give_bundle_a_bitfile(run)
    log = tmp_path / "calls.log"
    # mkdir works, copy works, the run drops the connection
    _fake(tmp_path, "ssh", f'echo "$@" >> {log}; case "$*" in *runner.py*) '
                           'echo "Connection to board closed by remote host." >&2; exit 255;; esac; exit 0\n')
    _fake(tmp_path, "scp", f'echo "scp $@" >> {log}; exit 0\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    rc, out = _deploy(run, "ssh://xilinx@board/home/xilinx/hw", capsys)
    assert rc == 3
    assert "connection was refused or dropped" in out.err
    calls = log.read_text()
    assert "BatchMode=yes" in calls  # keys only, never a password prompt
    assert "package.tar.gz" in calls


def test_ssh_full_path_on_a_machine_without_pynq_exits_3(run, tmp_path, monkeypatch, capsys):
    """A fake 'board' that is this machine: scp copies locally, ssh runs the command here.

    The runner then finds no pynq and no bitfile: the deploy.json it writes is fetched back,
    and the step ends with exit 3 naming the problem.
    """
    remote = tmp_path / "remote"
    remote.mkdir()
    _give_bundle_a_bitfile(run)
    _fake(tmp_path, "ssh", 'while [ "$1" != "--" ]; do shift; done; shift; bash -c "$1"\n')
    _fake(tmp_path, "scp", 'args=(); for a in "$@"; do case "$a" in -q|-o|BatchMode=yes|ConnectTimeout=10|-P) ;; '
                           '[0-9]*) ;; *) args+=("${a#*@board:}");; esac; done; cp "${args[@]}"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    rc, out = _deploy(run, f"ssh://xilinx@board{remote}", capsys)
    assert rc == 3, out.err
    assert "could not run the bundle" in out.err
    fetched = run["work"] / "deploy" / "deploy.json"
    assert json.loads(fetched.read_text())["status"] == "failed"
    assert (remote / "tiny_dep-zcu104" / "runtime" / "runner.py").exists()


def _give_bundle_a_bitfile(run):
    """As if synthesis had produced a bitstream: the bundle names one (the content does not matter here)."""
    pkg = run["work"] / "package"
    (pkg / "tiny_dep.bit").write_bytes(b"not a real bitstream")
    (pkg / "tiny_dep.hwh").write_text("<hwh/>")
    b = json.loads((pkg / "bundle.json").read_text())
    b["bitfile"] = "tiny_dep.bit"
    (pkg / "bundle.json").write_text(json.dumps(b))
    with tarfile.open(run["work"] / "package.tar.gz", "w:gz") as t:
        for p in sorted(pkg.rglob("*")):
            if p.is_file():
                t.add(p, arcname=f"tiny_dep-zcu104/{p.relative_to(pkg)}")


def test_board_run_without_bitfile_exits_3_before_connecting(run, tmp_path, capsys):
    pkg = run["work"] / "package"
    b = json.loads((pkg / "bundle.json").read_text())
    saved = b.get("bitfile")
    b["bitfile"] = None
    (pkg / "bundle.json").write_text(json.dumps(b))
    try:
        rc, out = _deploy(run, "ssh://xilinx@board/home/xilinx/hw", capsys)
    finally:
        b["bitfile"] = saved
        (pkg / "bundle.json").write_text(json.dumps(b))
    assert rc == 3
    assert "no bitstream" in out.err and "--level bitfile" in out.err


def test_real_ssh_to_a_closed_port_exits_3(run, capsys):
    _give_bundle_a_bitfile(run)
    import shutil

    if shutil.which("ssh") is None:
        pytest.skip("no ssh client on this machine")
    rc, out = _deploy(run, "ssh://nobody@127.0.0.1:1/tmp/hwflow", capsys)
    assert rc == 3
    assert "unreachable" in out.err


def test_local_deploy_on_a_pc_exits_3(run, capsys):
    _give_bundle_a_bitfile(run)
    rc, out = _deploy(run, "local", capsys)
    assert rc == 3
    assert "not a usable board" in out.err


def test_run_json_has_paths_and_report_keeps_deploy(run, capsys):
    """Issue 16 (9): `run --json` names the work folder and report; (1): `hwflow report` after a full
    run (synth skipped: no vendor tool) keeps the deploy results instead of calling them stale."""
    args = [str(run["design"]), "--board", "zcu104", "--build-dir", str(run["build"])]
    capsys.readouterr()
    assert main(["run", *args, "--deploy", "emulated", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["paths"]["workdir"] == str(run["work"])
    assert doc["paths"]["results"] == str(run["work"] / "results.json")
    assert doc["paths"]["report_html"] and Path(doc["paths"]["report_html"]).is_file()
    assert doc["steps"]["synth"] == "skipped" and doc["results"]["deploy"]
    uj = doc["results"]["energy"]["uj_per_inference"]

    assert main(["report", *args, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["deploy"] and r["deploy"]["transport"] == "emulated"
    assert r["provenance"]["steps"]["deploy"]["status"] == "complete"
    assert r["energy"]["uj_per_inference"] == uj
