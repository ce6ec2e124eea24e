"""Property-based fuzzing of design and board files.

Goal (issue: robustness): >= 1,000 generated cases per run, zero uncaught exceptions,
every rejection is exit 2 with the file named and, for schema errors, a key path.
The default budget runs in `make test`; `-m fuzz_large` multiplies it.
"""

from __future__ import annotations

import copy
import io
import os
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwflow.cli import main
from hwflow.config import Design, load_board, load_design
from hwflow.errors import BadInput
from hwflow.flow import Options, make_context
from hwflow.paths import designs_dir

BASE = yaml.safe_load((designs_dir() / "digits_mlp.yaml").read_text())
BASE_BOARD = yaml.safe_load((designs_dir().parent / "boards" / "zcu104.yaml").read_text())
BUDGET = int(os.environ.get("HWFLOW_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=BUDGET, deadline=None, suppress_health_check=list(HealthCheck), database=None)
STATS = {"cases": 0, "accepted": 0, "rejected": 0}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["../../etc/passwd", "a/b", "$(rm -rf /)", "; ls", "x" * 300, "dense", "io_stream",
                     "zcu104", "-1", "1e309", "\x00", "über"]),
)
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                   st.dictionaries(st.text(max_size=12), c, max_size=4)),
                      max_leaves=12)


def _paths(obj, prefix=()):
    """Every (path) to a value in a nested dict/list."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    if not path:
        return value
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return obj


@st.composite
def mutated(draw, base):
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "add_key", "delete", "nest"]))
        try:
            if action == "replace":
                doc = _set(doc, path, draw(values))
            elif action == "add_key":
                target = doc
                for p in path:
                    target = target[p]
                if isinstance(target, dict):
                    target[draw(st.text(min_size=1, max_size=10))] = draw(values)
            elif action == "delete" and path:
                parent = doc
                for p in path[:-1]:
                    parent = parent[p]
                del parent[path[-1]]
            elif action == "nest":
                inner = draw(values)
                for _ in range(draw(st.integers(1, 60))):
                    inner = {"a": inner}
                doc = _set(doc, path, inner)
        except (KeyError, IndexError, TypeError):
            pass
    return doc


def _check_file(tmp: Path, data: bytes, kind: str) -> None:
    p = tmp / f"case.{kind}.yaml"
    p.write_bytes(data)
    STATS["cases"] += 1
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        if kind == "design":
            rc = main(["check", str(p), "--board", "zcu104"])
        else:
            rc = main(["check", "digits_mlp", "--board", str(p)])
    msg = err.getvalue()
    assert rc in (0, 2), (rc, msg)
    assert "Traceback" not in msg
    if rc == 2:
        STATS["rejected"] += 1
        assert str(p) in msg or "board" in msg, msg
        assert msg.strip(), "a rejection must say why"
    else:
        STATS["accepted"] += 1


def _dump(doc) -> bytes:
    try:
        return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, UnicodeEncodeError, RecursionError):
        return b"x: 1\n"


@FUZZ
@given(doc=mutated(BASE))
def test_mutated_designs_never_crash(tmp_path_factory, doc):
    _check_file(tmp_path_factory.mktemp("fz", numbered=True), _dump(doc), "design")


@FUZZ
@given(doc=mutated(BASE_BOARD))
def test_mutated_boards_never_crash(tmp_path_factory, doc):
    _check_file(tmp_path_factory.mktemp("fz", numbered=True), _dump(doc), "board")


@FUZZ
@given(data=st.one_of(st.binary(max_size=300),
                      st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
                      st.sampled_from([b"!!python/object/apply:os.system ['true']", b"a: !!binary |\n  AAAA",
                                       b"&a [*a]", b"{" * 200, b"- " * 200, b"a: b: c",
                                       b"\xef\xbb\xbfname: x", b"model: {layers: 1e400}"])))
def test_random_bytes_never_crash(tmp_path_factory, data):
    _check_file(tmp_path_factory.mktemp("fz", numbered=True), data, "design")


@FUZZ
@given(doc=mutated(BASE))
def test_schema_errors_name_a_key_path(doc):
    """Straight through the schema (no file): a rejection is BadInput whose lines carry 'path: reason'."""
    STATS["cases"] += 1
    from pydantic import ValidationError

    from hwflow.config import _check_layer_semantics, validation_message

    if not isinstance(doc, dict):
        return
    doc.setdefault("name", "x")
    try:
        d = Design.model_validate(doc)
        _check_layer_semantics(d, "fuzz.yaml")
    except ValidationError as exc:
        msg = validation_message(exc, Design, "fuzz.yaml")
        lines = msg.splitlines()[1:]
        assert lines and all(re.match(r"^  \S.*: ", ln) for ln in lines), msg
    except BadInput as exc:
        assert "fuzz.yaml" in str(exc)


safe_names = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=70)


@FUZZ
@given(name=safe_names)
def test_accepted_names_stay_inside_build_and_reports(tmp_path_factory, name):
    STATS["cases"] += 1
    doc = copy.deepcopy(BASE)
    doc["name"] = name
    try:
        d = Design.model_validate(doc)
    except Exception:
        return
    board = load_board("pynq-z2")
    build = tmp_path_factory.getbasetemp() / "b"
    ctx = make_context(d, board, Options(), build_dir=build, reports=build / "r")
    assert build.resolve() in ctx.workdir.resolve().parents
    assert (build / "r").resolve() in ctx.reports_dir.resolve().parents


LARGE = settings(max_examples=int(os.environ.get("HWFLOW_FUZZ_LARGE_EXAMPLES", "5000")), deadline=None,
                 suppress_health_check=list(HealthCheck), database=None)


@pytest.mark.fuzz_large
@LARGE
@given(doc=mutated(BASE))
def test_large_budget_mutated_designs(tmp_path_factory, doc):
    """`pytest -m fuzz_large`: the design fuzzing with a 5,000-case budget."""
    _check_file(tmp_path_factory.mktemp("fzl", numbered=True), _dump(doc), "design")


@pytest.mark.fuzz_large
@LARGE
@given(doc=mutated(BASE_BOARD))
def test_large_budget_mutated_boards(tmp_path_factory, doc):
    _check_file(tmp_path_factory.mktemp("fzl", numbered=True), _dump(doc), "board")


@pytest.mark.parametrize("key", ["function-after[x]", "literal['a']", "function-", "literal[", "list[int]"])
@pytest.mark.parametrize("kind", ["design", "board"])
def test_pydantic_like_keys_found_by_the_large_budget(tmp_path, key, kind):
    """Regression of what `-m fuzz_large` found: such a key crashed the message formatter (IndexError)."""
    doc = copy.deepcopy(BASE if kind == "design" else BASE_BOARD)
    doc[key] = 1
    (doc.setdefault("hls", {}) if kind == "design" else doc["resources"])[key] = 2
    _check_file(tmp_path, _dump(doc), kind)


def test_fuzz_budget_reached():
    # runs last in this module (pytest keeps file order): the property tests above ran their cases
    assert STATS["cases"] >= 1000, STATS
    print(f"fuzz: {STATS}")


def test_no_shell_anywhere_in_the_package():
    """No user string can reach a shell if no code uses one."""
    root = Path(__file__).resolve().parents[2] / "hwflow"
    offenders = []
    for p in root.rglob("*.py"):
        text = p.read_text()
        for pat in ("shell=True", "os.system(", "os.popen(", "subprocess.getoutput", "subprocess.getstatusoutput"):
            if pat in text:
                offenders.append(f"{p.relative_to(root)}: {pat}")
    assert not offenders, offenders


def test_yaml_python_tags_are_refused(tmp_path):
    p = tmp_path / "evil.yaml"
    marker = tmp_path / "pwned"
    p.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(BadInput):
        load_design(p)
    assert not marker.exists()
