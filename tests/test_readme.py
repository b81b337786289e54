"""The README's tour runs as written (so the README keeps telling the truth)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs():
    code = re.search(r"## A tour\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope = {}
    exec(compile(code, "README tour", "exec"), scope)
    assert abs(scope["jv"].item() - 0.91821) < 1e-4          # sin(0.5) + 0.5 cos(0.5)
    assert scope["H"].shape == (3, 3)
    assert scope["per_example"]["w"].shape == (2, 3, 1) and scope["J"].shape == (3, 3)
    assert scope["loss"].item() < 2.3                        # trained one epoch
