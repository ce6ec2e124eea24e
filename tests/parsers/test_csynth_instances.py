"""Per-instance tables of a C-synthesis text report (the estimator's per-layer fit rows)."""

from __future__ import annotations

from hwflow.parsers.csynth import csynth_instances

RPT = """
================================================================
== Vivado HLS Report for 'myproject'
================================================================
================================================================
== Performance Estimates
================================================================
    + Detail:
        * Instance:
        +-----------------------+----------------------------+---------+---------+-----------+-----------+------+------+---------+
        |                       |                            |  Latency (cycles) |   Latency (absolute)  |   Interval  | Pipeline|
        |        Instance       |           Module           |   min   |   max   |    min    |    max    |  min |  max |   Type  |
        +-----------------------+----------------------------+---------+---------+-----------+-----------+------+------+---------+
        |conv_2d_cl_config2_U0  |conv_2d_cl_config2_s        |     4704|    14112| 47.040 us |  0.141 ms |  4704| 14112|   none  |
        |relu_relu_config3_U0   |relu_relu_config3_s         |      679|      679|  6.790 us |  6.790 us |   679|   679|   none  |
        +-----------------------+----------------------------+---------+---------+-----------+-----------+------+------+---------+

        * Loop:
        N/A

================================================================
== Utilization Estimates
================================================================
+ Detail:
    * Instance:
    +-----------------------+----------------------------+---------+-------+------+------+-----+
    |        Instance       |           Module           | BRAM_18K| DSP48E|  FF  |  LUT | URAM|
    +-----------------------+----------------------------+---------+-------+------+------+-----+
    |conv_2d_cl_config2_U0  |conv_2d_cl_config2_s        |        0|      4|  1062|  1099|    0|
    |relu_relu_config3_U0   |relu_relu_config3_s         |        0|      0|    84|   297|    0|
    +-----------------------+----------------------------+---------+-------+------+------+-----+
    |Total                  |                            |        0|      4|  1146|  1396|    0|
    +-----------------------+----------------------------+---------+-------+------+------+-----+

    * DSP48E:
    N/A
"""


def test_instances_carry_resources_and_worst_case_latency():
    inst = csynth_instances(RPT)
    assert set(inst) == {"conv_2d_cl_config2_s", "relu_relu_config3_s"}  # no Total row
    assert inst["conv_2d_cl_config2_s"] == {"latency": 14112.0, "bram_18k": 0.0, "dsp": 4.0, "ff": 1062.0,
                                            "lut": 1099.0}
    assert inst["relu_relu_config3_s"]["lut"] == 297.0


def test_no_instance_table_or_not_a_report_gives_nothing():
    assert csynth_instances("== Vitis HLS Report for 'myproject'\n* Version: 2024.1\n") == {}
    assert csynth_instances("<profile></profile>") == {}
    truncated = RPT[: RPT.index("relu_relu_config3_U0   |relu_relu_config3_s         |      679")]
    assert set(csynth_instances(truncated)) == {"conv_2d_cl_config2_s"}  # partial, never an exception
