"""The benchmark suite behind bench/run_bench.py: one module per section
(its measurement, its targets, its part of docs/performance.md), the
harness that runs programs, and the page."""
