"""``make bench``: every benchmark in turn, each printing its figures (nothing is asserted).

``python -m bench [NAME ...]`` runs only the named ones.
"""

import subprocess
import sys

BENCHES = {
    "core": ["-m", "bench.core.bench"],
    "kill-loop": ["-m", "bench.core.kill_loop"],
    "scaleout": ["-m", "bench.core.scaleout", "--kill"],
    "chaos": ["-m", "bench.chaos"],
    "nacha": ["bench/nacha/bench.py"],
    "ach": ["bench/ach/bench.py"],
    "pbs": ["bench/pbs/bench_inbound.py"],
    "bills": ["bench/bills/measure.py"],
    "logs": ["-m", "bench.logs.bench"],
    "web": ["-W", "ignore::DeprecationWarning", "-m", "bench.web.bench"],
    "recurring": ["bench/recurring/bench.py"],
}

names = sys.argv[1:] or list(BENCHES)
failed = []
for name in names:
    print(f"== {name}", flush=True)
    if subprocess.run([sys.executable, *BENCHES[name]]).returncode != 0:
        failed.append(name)
sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
