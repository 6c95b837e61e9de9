"""Compare two eval reports question by question: `python eval/diff_answers.py BASE NEW`.

For a change that must not alter behaviour (a refactor, a rules-file edit meant as a no-op) and to see exactly
which answers a rule change moves. BASE and NEW are report JSON files written by `assistant eval`, or folders:
the newest `*.json` in the folder, or, for a folder of folders (one per gold set, e.g. gold/ heldout/ holdout2/),
each sub-folder against the one of the same name. Compares every question's answer text, grounded flag,
citations and retrieved passages; exits 1 when any differ.

    assistant eval --no-gate --reports-dir /tmp/base/gold --gold eval/gold   # before the change
    assistant eval --no-gate --reports-dir /tmp/new/gold --gold eval/gold    # after it
    python eval/diff_answers.py /tmp/base /tmp/new
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIELDS = ("answer", "grounded", "citations", "retrieved")


def _report(path: Path) -> Path:
    if path.is_file():
        return path
    reports = sorted(path.glob("*.json"))
    if not reports:
        raise SystemExit(f"no report JSON in {path}")
    return reports[-1]


def _rows(path: Path) -> dict[str, dict]:
    report = json.loads(_report(path).read_text(encoding="utf-8"))
    system = next(s for s in report["systems"] if s["name"] == "project")
    return {row["id"]: row for row in system["rows"]}


def diff(base: Path, new: Path, label: str = "") -> int:
    a, b = _rows(base), _rows(new)
    differences = 0
    for qid in sorted(a.keys() | b.keys()):
        if qid not in a or qid not in b:
            differences += 1
            print(f"{label}{qid}: only in {'base' if qid in a else 'new'}")
            continue
        for field in FIELDS:
            if a[qid].get(field) != b[qid].get(field):
                differences += 1
                print(f"{label}{qid} {field} differs\n  base: {str(a[qid].get(field))[:300]}\n  new:  {str(b[qid].get(field))[:300]}")
    print(f"{label}{len(a)} questions compared, {differences} differences")
    return differences


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    base, new = Path(argv[0]), Path(argv[1])
    subdirs = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    if subdirs:
        total = sum(diff(base / name, new / name, f"{name} ") for name in subdirs)
    else:
        total = diff(base, new)
    print("IDENTICAL" if not total else f"DIFFERENT: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
