"""Write docs/examples/responses.json, the batch the README's quickstart posts: 40 customers
and 9 vendor staff answering the built-in instruments, drawn like the demo survey's data.

    .venv/bin/python scripts/make_example_responses.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.instruments import builtin_instruments  # noqa: E402
from survey_api.demo import demo_items  # noqa: E402

TARGET = ROOT / "docs" / "examples" / "responses.json"


def main() -> None:
    by_id = {i.id: i for i in builtin_instruments()}
    instruments = {"customer": by_id["how-you-buy"], "vendor": by_id["how-we-sell"]}
    items = demo_items(instruments, customers=40, seed=14, prefix="example")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    # One response per line: readable, and a regenerated file diffs line by line.
    lines = ",\n".join(json.dumps(item, separators=(",", ":")) for item in items)
    TARGET.write_text('{"responses": [\n' + lines + "\n]}\n")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(items)} responses, "
          f"{TARGET.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
