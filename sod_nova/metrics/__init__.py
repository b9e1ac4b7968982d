"""Prometheus metrics of sod-nova's services (``[sod_metrics]``).

Counts the services already keep (the monitor's counters) and counts the
database answers (hosts by state, relocation tasks) are read at scrape time;
only timings are observed as they happen. See doc/source/admin/metrics.rst.
"""
