"""Every language alike: the same question in five languages gets the same decision."""

from __future__ import annotations

from pathlib import Path

import yaml

from router import Router

DATA = Path(__file__).parent / "data"
LANGUAGES = ("fr", "de", "it", "es")


def test_parallel_set_is_big_enough() -> None:
    items = yaml.safe_load((DATA / "parallel.yaml").read_text(encoding="utf-8"))
    assert len(items) >= 60
    assert all(item[lang] for item in items for lang in ("en", *LANGUAGES))


def test_other_languages_agree_with_english(router: Router) -> None:
    # Held out (a separate writer). The target is 0.95; today 0.932
    # (docs/chat.md): this floor holds what is there.
    items = yaml.safe_load((DATA / "parallel.yaml").read_text(encoding="utf-8"))

    def got(text: str) -> str:
        d = router.route(text)
        return d.unit.id if d.unit is not None else d.decision

    agree = total = 0
    for item in items:
        english = got(item["en"])
        for lang in LANGUAGES:
            agree += got(item[lang]) == english
            total += 1
    assert agree / total >= 0.91
