"""False-alarm rate of the drift step on undrifted windows of the synthetic model of tests/unit/drift (20 numeric
features of varied shapes, 5 categorical, the score), measured over more windows than the test suite scores.
Prints figures; never fails.

    .venv/bin/python bench/false_alarm_sweep.py [--windows 2000] [--sizes 50,200,1000,10000]

The suite (tests/unit/drift/test_engine.py) checks at most 2 alerting windows of 200 per size, which catches a
rate of 3 % or more; this prints the rate itself, with its 95 % Clopper-Pearson upper bound, so that a drift of
the rate towards the 1 % budget shows before the suite's bound trips. Same reference (20000 rows, seed 2026) and
the same generator per size (seeded with the size) as the suite: its windows are the first 200 of these.
The last line is `RESULT windows=<n> alerting=<k per size>`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import numpy as np
    from scipy.stats import beta

    from include.monitoring.drift.engine import compute_drift
    from include.monitoring.reference import fit_reference
    from include.monitoring.types import Severity
    from tests.unit.drift import synthetic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--sizes", default="50,200,1000,10000")
    args = parser.parse_args()

    config = synthetic.config()
    reference = fit_reference(config, synthetic.frame(np.random.default_rng(2026), 20_000))
    counts = []
    for n in (int(size) for size in args.sizes.split(",")):
        rng, alerting, started = np.random.default_rng(n), 0, time.perf_counter()
        for _ in range(args.windows):
            rows = compute_drift(config, reference, synthetic.observation(config, reference, synthetic.frame(rng, n)))
            alerting += any(row.severity >= Severity.WARNING for row in rows)
        upper = float(beta.ppf(0.95, alerting + 1, args.windows - alerting)) if alerting < args.windows else 1.0
        print(f"{n:>6} rows: {alerting} of {args.windows} windows alert ({alerting / args.windows:.2%}, "
              f"95 % upper bound {upper:.2%}), {time.perf_counter() - started:.1f} s", flush=True)
        counts.append(str(alerting))
    print(f"RESULT windows={args.windows} alerting={','.join(counts)}")


if __name__ == "__main__":
    main()
