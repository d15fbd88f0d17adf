"""The load benchmark (``bench/run.py``) and its parts; see docs/performance.md."""
