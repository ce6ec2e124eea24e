"""Issue 12 item 5: a vendor C-synthesis run is stored for the estimator's recalibration.

The fake Vivado HLS drops a public project's real csynth report; the synth step stores the pair
(the project's LayerSpecs, the HLS core's vendor figures, tool, version, part) in the calibration
store (here a tmp folder, see conftest), and `hwflow estimate --recalibrate` can refit on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hwflow.cli import main
from hwflow.estimate import store

# the fixture project whose reports the fake Vivado HLS drops (the same one as conftest.PYNQ_FULL;
# not imported from conftest, whose module name is shared by every test folder)
PYNQ_FULL = "19_Hector-Plata_hls4ml-tutorial_tutorial_mlp_pynq"


def synth(w: dict, *extra: str) -> int:
    return main(["synth", w["design"], "--board", w["board"], "--build-dir", w["build"], *extra])


def test_vendor_run_is_recorded_in_the_calibration_store(workdir, fake_tools) -> None:
    fake_tools(["vivado_hls", "vivado"], fixtures=[PYNQ_FULL])
    w = workdir("pynq-z2")
    assert synth(w, "--quiet") == 0
    runs_dir = Path(os.environ["HWFLOW_CALIBRATION_STORE"]) / "runs"
    files = sorted(runs_dir.glob("*.json"))
    assert len(files) == 1
    entry = json.loads(files[0].read_text())
    s = json.loads((w["work"] / "synth" / "synth.json").read_text())
    assert entry["user"] is True and entry["repo"] == store.USER_REPO
    assert entry["tool"] == "vivado_hls" and entry["part"] == "xc7z020clg400-1"
    assert entry["truth"]["lut"] == s["hls"]["resources"]["lut"] and entry["truth"]["latency"] == 52
    assert [layer["kind"] for layer in entry["layers"]][:2] == ["dense", "activation"]
    assert entry["folder"].startswith("user-tiny_synth-pynq-z2-")
    # the same run again is the same entry (idempotent), and it is what --recalibrate would read
    assert synth(w, "--quiet", "--from", "synth") == 0
    assert len(list(runs_dir.glob("*.json"))) == 1
    assert [d.folder for d in store.stored_runs()] == [entry["folder"]]
