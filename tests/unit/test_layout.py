"""The layout stays readable: small modules (the import contracts run as `lint-imports`)."""

from __future__ import annotations

from pathlib import Path

import carebird

MAX_LINES = 400


def test_every_module_is_at_most_400_lines() -> None:
    root = Path(carebird.__file__).parent
    sizes = {
        p.relative_to(root).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in root.rglob("*.py")
    }
    assert len(sizes) > 150  # the package was found
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
