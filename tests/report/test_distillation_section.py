"""The report compares a distilled student with the same student trained without the teacher."""

from __future__ import annotations

from hwflow.report.render import render_report
from hwflow.results import empty_results


def test_distillation_and_pruning_are_shown(tmp_path):
    r = empty_results("d", "pynq-z2")
    r["accuracy"].update({"float": 0.96, "quantized": 0.95, "quantized_no_distillation": 0.97})
    r["distillation"] = {"temperature": 4.0, "alpha": 0.5, "teacher_accuracy": 0.96, "accuracy_with": 0.95,
                         "accuracy_without": 0.97, "gain": -0.02}
    r["pruning"] = {"target_sparsity": 0.5, "achieved": {"overall": 0.5012, "reached": True}}
    paths = render_report(r, tmp_path)
    html = paths["html"].read_text()
    assert "knowledge distillation" in html
    assert "-2.00 pt" in html
    assert "achieved on the quantized weights" in html


def test_no_distillation_table_without_distillation(tmp_path):
    html = render_report(empty_results("d", "pynq-z2"), tmp_path)["html"].read_text()
    assert "knowledge distillation" not in html
