"""``python -m benchmarks.migration_model``: the benchmark's result as JSON."""

import json

from benchmarks.migration_model import run

print(json.dumps(run(), indent=2, ensure_ascii=False))
