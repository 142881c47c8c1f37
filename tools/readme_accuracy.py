"""Regenerate the README's per-runtime accuracy table from the validation harness (the block between
<!-- accuracy-by-runtime:start --> and <!-- accuracy-by-runtime:end -->), which a test keeps in step.

run: PYTHONPATH=src python tools/readme_accuracy.py
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- accuracy-by-runtime:start -->\n", "<!-- accuracy-by-runtime:end -->"


def main() -> None:
    from mlsysim.validation import main as harness

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        harness(["--markdown"])
    text = README.read_text()
    a, b = text.index(START) + len(START), text.index(END)
    README.write_text(text[:a] + out.getvalue().rstrip("\n") + "\n" + text[b:])
    print(f"README accuracy table regenerated ({out.getvalue().count(chr(10))} lines)")


if __name__ == "__main__":
    main()
