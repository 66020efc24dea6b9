"""chainrule's benchmark suite: workloads written once per engine, timed interleaved, reported as ratios.

Run ``python -m bench --help``. Engines live in ``bench/engines`` (one module each, a builder per
workload), workloads in ``bench/workloads``, the timing logic in ``bench/harness.py``.
"""
