"""Results files: ``<name>.json`` (every number, with the machine's record) and ``<name>.md``
(a title, the table, the machine in one sentence). Every benchmark and command writes through here.
"""
import json
from pathlib import Path

from . import machine


def markdown_table(rows, columns):
    """A markdown table of dict rows (missing cells empty), floats to 4 significant digits."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write(out_dir, name, payload, table, title):
    """Write <out_dir>/<name>.json (`payload` with its ``machine``: the payload's own record, if
    it took one while the run's settings were in force, else ``machine.record()`` now) and
    <name>.md (`title`, `table`, the machine); print the table; return the two paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = dict(payload, machine=payload.get("machine") or machine.record())
    paths = out_dir / f"{name}.json", out_dir / f"{name}.md"
    paths[0].write_text(json.dumps(payload, indent=1, default=str) + "\n")
    paths[1].write_text(f"# {title}\n\n{table}\n\n{machine.describe(payload['machine'])}\n")
    print(f"\n{title}\n{table}\n-> {out_dir / name}.json, .md")
    return paths
