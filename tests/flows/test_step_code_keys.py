"""A step's cache key covers the code it depends on (registry.StepSpec.code), and only that code."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwflow import registry
from hwflow.flow import STEPS, _load_steps
from hwflow.registry import StepSpec, code_hash


def _noop(ctx):  # the "step module" of the specs below is this test file
    return {}


@pytest.fixture
def fake_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "hwflow"
    for rel, text in {
        "emu/fast/engine.py": "X = 1\n",
        "emu/csim.py": "Y = 1\n",
        "synth/templates/hls.tcl.j2": "set clock {{ clock_ns }}\n",
        "synth/plan.py": "Z = 1\n",
        "estimate/model.py": "W = 1\n",
        "estimate/calibration.json": "{}\n",
    }.items():
        p = pkg / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    monkeypatch.setattr(registry, "PACKAGE_DIR", pkg)
    return pkg


def _specs() -> dict[str, StepSpec]:
    return {
        "train": StepSpec("train", _noop, lambda c: {}),
        "emulate": StepSpec("emulate", _noop, lambda c: {}, code=("hwflow/emu",)),
        "estimate": StepSpec("estimate", _noop, lambda c: {}, code=("hwflow/estimate",)),
        "synth": StepSpec("synth", _noop, lambda c: {}, code=("hwflow/synth",)),
    }


@pytest.mark.parametrize(
    "edited, invalidated",
    [
        ("emu/fast/engine.py", {"emulate"}),
        ("synth/templates/hls.tcl.j2", {"synth"}),
        ("estimate/calibration.json", {"estimate"}),
        ("estimate/model.py", {"estimate"}),
    ],
)
def test_editing_a_file_invalidates_exactly_the_steps_using_it(fake_tree: Path, edited: str, invalidated: set) -> None:
    specs = _specs()
    before = {n: code_hash(s) for n, s in specs.items()}
    p = fake_tree / edited
    p.write_text(p.read_text() + "# edited\n")
    after = {n: code_hash(s) for n, s in specs.items()}
    assert {n for n in specs if before[n] != after[n]} == invalidated


def test_a_new_file_in_a_declared_folder_counts(fake_tree: Path) -> None:
    spec = _specs()["emulate"]
    before = code_hash(spec)
    (fake_tree / "emu" / "fast" / "extra.py").write_text("pass\n")
    assert code_hash(spec) != before
    (fake_tree / "emu" / "fast" / "__pycache__").mkdir()
    after_new = code_hash(spec)
    (fake_tree / "emu" / "fast" / "__pycache__" / "engine.cpython-311.pyc").write_bytes(b"\0")
    assert code_hash(spec) == after_new  # compiled caches are not code


def test_registering_unknown_code_or_late_needs_is_refused(fake_tree: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        registry.register(StepSpec("emulate", _noop, lambda c: {}, code=("hwflow/nope",)))
    with pytest.raises(ValueError, match="do not come before"):
        registry.register(StepSpec("convert", _noop, lambda c: {}, needs=("emulate",)))


def test_real_steps_declare_the_code_they_use() -> None:
    _load_steps()
    files = {n: {str(f.relative_to(registry.PACKAGE_DIR.parent)) for f in registry._code_files(s)}
             for n, s in STEPS.items()}
    assert any(f.startswith("hwflow/emu/") for f in files["emulate"])
    assert any(f.startswith("hwflow/synth/templates/") for f in files["synth"])
    assert "hwflow/estimate/calibration.json" in files["estimate"]
    assert not any(f.startswith(("hwflow/emu/", "hwflow/synth/")) for f in files["train"])
    assert not any(f.startswith("hwflow/synth/") for f in files["emulate"])
    # engine special cases are StepSpec fields, not step names
    assert STEPS["synth"].optional_tool and STEPS["train"].board_independent == "model"
    assert [n for n in registry.STEP_ORDER if n in STEPS] == list(registry.STEP_ORDER)
