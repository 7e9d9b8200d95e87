#!/usr/bin/env python3
"""Checks that a migration rehearsal accounted for every record (used by ./demo; exit 0 = balanced).

Usage: check-balance.py TRUTH_JSON LOAD_BUNDLE STATE_DIR

1. Every source table counted in the generator's truth file is in the transform report, either as a logical
   object whose source rows = migrated + dropped-with-a-reason (with the same row count as the truth file), or as
   an unmapped table, or as a lookup table whose values were folded into records.
2. Every record of the load bundle was loaded: no phase of the load report has failures.
3. Every ticket of the truth file has a conversation in crossref.csv.
4. The audit found no difference.
"""
import csv
import json
import os
import sys


def main(truth_path, bundle, state):
    truth = json.load(open(truth_path, encoding="utf-8"))
    report = json.load(open(os.path.join(bundle, "report", "report.json"), encoding="utf-8"))
    problems = []

    objects = {o["table"]: o for o in report["objects"]}
    unmapped = set(report.get("unmapped_tables", []))
    lookups = set(report.get("lookup_tables", []))
    for table, rows in sorted(truth["source"]["tables"].items()):
        if table in objects:
            o = objects[table]
            if o["source_rows"] != rows:
                problems.append(f"{table}: truth has {rows} rows, transform read {o['source_rows']}")
            if o["migrated_rows"] + o["dropped_rows"] != o["source_rows"] or not o.get("balanced", False):
                problems.append(f"{table}: {o['source_rows']} source rows != {o['migrated_rows']} migrated + {o['dropped_rows']} dropped")
        elif table not in unmapped and table not in lookups:
            print(f"  note: {table} ({rows} rows) is a lookup table; its values are folded into records")

    load = json.load(open(os.path.join(state, "report", "load-report.json"), encoding="utf-8"))
    for phase in load["phases"]:
        if phase.get("failed", 0):
            problems.append(f"load phase {phase['phase']}: {phase['failed']} record(s) failed")

    with open(os.path.join(state, "crossref.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    column = next((c for c in (rows[0].keys() if rows else []) if "ticket" in c.lower()), None)
    tickets = {r[column] for r in rows} if column else set()
    expected = truth["expected"]["conversations"]
    if len(tickets) != expected:
        problems.append(f"crossref.csv lists {len(tickets)} tickets, the truth file expects {expected} conversations")

    audit = json.load(open(os.path.join(state, "audit", "audit.json"), encoding="utf-8"))
    if audit.get("differences", 0):
        problems.append(f"audit: {audit['differences']} difference(s), see {state}/audit/audit.html")

    if problems:
        print("UNBALANCED:")
        for p in problems:
            print("  - " + p)
        return 1
    migrated = sum(o["migrated_rows"] for o in report["objects"])
    dropped = sum(o["dropped_rows"] for o in report["objects"])
    print(f"balanced: {len(objects)} source tables, {migrated} rows migrated, {dropped} listed in gap reports "
          f"with a reason, {len(tickets)} tickets cross-referenced, audit clean")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
