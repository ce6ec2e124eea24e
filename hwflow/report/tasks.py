"""Which task a run solves, so a comparison never ranks different tasks on one Pareto front.

Accuracy on the digits (10 classes) and on the jets (5 classes) says nothing about which design
is better: ``hwflow report --compare`` groups runs by task (results.json ``task``: dataset name,
the .npz file for user data, output classes) and draws one Pareto front per task, saying so on
the page (issue 16, item 10). A results.json from before ``task`` existed is "task not recorded".
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

UNKNOWN = "task not recorded"


def task_of(results: Mapping[str, Any]) -> dict[str, Any]:
    """``{"key", "label"}`` of a results dict; key None when the run does not record its task."""
    t = results.get("task") if isinstance(results, Mapping) else None
    if not isinstance(t, Mapping) or not t.get("dataset"):
        return {"key": None, "label": UNKNOWN}
    ds, f, n = str(t["dataset"]), t.get("dataset_file"), t.get("classes")
    key = f"{ds}|{f or ''}|{n if n is not None else '?'}"
    label = ds + (f" ({f})" if f else "") + (f", {n} classes" if n is not None else "")
    return {"key": key, "label": label}


def _has_accuracy(r: Mapping[str, Any]) -> bool:
    acc = r.get("accuracy") if isinstance(r, Mapping) else None
    return isinstance(acc, Mapping) and any(isinstance(v, (int, float)) for v in acc.values())


def group_by_task(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Runs grouped by task, in order of first appearance: ``[{"key", "label", "indices"}]``.

    A run that records no task and has no accuracy either (a failed sweep point) cannot be on any
    front: it joins the first group instead of making a "task not recorded" group of its own."""
    groups: dict[Any, dict[str, Any]] = {}
    orphans = []
    for i, r in enumerate(results):
        t = task_of(r)
        if t["key"] is None and not _has_accuracy(r):
            orphans.append(i)
            continue
        g = groups.setdefault(t["key"], {**t, "indices": []})
        g["indices"].append(i)
    out = list(groups.values())
    if not out:
        return [{"key": None, "label": UNKNOWN, "indices": orphans}] if orphans else []
    out[0]["indices"] = sorted(out[0]["indices"] + orphans)
    return out


def task_note(groups: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str | None:
    """The sentence the page (and the console) shows about tasks; None for one recorded task."""
    if len(groups) == 1 and groups[0]["key"] is not None:
        return None
    if len(groups) == 1:
        return ("These results do not record which task they solve (dataset, output classes): they come "
                "from an older hwflow. The Pareto fronts assume one task; re-run the report step to record it.")
    parts = [f"{g['label']}: {', '.join(labels[i] for i in g['indices'])}" for g in groups]
    return (f"These {len(labels)} runs solve {len(groups)} different tasks ({'; '.join(parts)}). Accuracy on "
            "different tasks is not comparable, so each task has its own Pareto front; the table marks the "
            "front of each run's own task.")
