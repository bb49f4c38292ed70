"""`python -m include.monitoring.demo --url sqlite:///.data/warehouse.db [--days 14] [--peak-rows 2000] [--end ISO]`."""

from __future__ import annotations

import argparse
from datetime import datetime

import sqlalchemy as sa

from include.monitoring.demo.generator import write_demo_warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the demo prediction warehouse.")
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the warehouse database")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--peak-rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=datetime.fromisoformat, default=None,
                        help="end of the period, a whole hour with its time zone (default: the current hour)")
    args = parser.parse_args()
    counts = write_demo_warehouse(sa.create_engine(args.url), end=args.end, days=args.days, peak_rows=args.peak_rows,
                                  seed=args.seed)
    print(", ".join(f"{name}: {count:,} rows" for name, count in counts.items()))


if __name__ == "__main__":
    main()
