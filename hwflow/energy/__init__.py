"""Energy per inference a board would really show (issue 15).

``datamove`` (per-call data movement with cited DMA/driver figures), ``power`` (idle + dynamic
power: vendor report or per-resource model, ``coefficients`` / ``vendor_power``), ``bases``
(batch-1 system, batched system, accelerator only; batch sweep), ``design`` (the block of one
design on one board), ``flow`` (results.json keys), ``compare`` (the report's like-for-like table),
``cpu`` / ``hostbench`` / ``counters`` / ``baseline_run`` (the CPU/GPU baseline of every run).
"""
