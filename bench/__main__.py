"""``make bench``: every benchmark in turn, each printing its figures (nothing is asserted).

``python -m bench [NAME ...]`` runs only the named ones; ``python -m bench NAME -- ARG ...``
runs one with its own arguments (``python -m bench chaos -- --seconds 240``).
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

args = sys.argv[1:]
extra: list[str] = []
if "--" in args:
    args, extra = args[:args.index("--")], args[args.index("--") + 1:]
names = args or list(BENCHES)
unknown = [n for n in names if n not in BENCHES]
if unknown or (extra and len(names) != 1):
    sys.exit(f"usage: python -m bench [NAME ...] | NAME -- ARG ...; names: {', '.join(BENCHES)}"
             + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
failed = []
for name in names:
    print(f"== {name}", flush=True)
    if subprocess.run([sys.executable, *BENCHES[name], *extra]).returncode != 0:
        failed.append(name)
sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
