"""The bundled training data meets the brief: enough, varied, multilingual examples."""

from __future__ import annotations

from collections import Counter

import pytest

from router import load_pack

PACK = load_pack()
UNITS = [u.id for u in PACK.units]


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_has_60_examples_and_10_per_language(unit: str) -> None:
    intent = next(i for i in PACK.intents if i.unit == unit)
    assert len(intent.examples) >= 60
    langs = Counter(e.lang for e in intent.examples)
    for lang in ("fr", "de", "it", "es"):
        assert langs[lang] >= 10, (unit, lang, langs[lang])
    assert intent.terms, f"{unit} has no key terms for fuzzy matching"


def test_out_of_scope_set_is_large() -> None:
    oos = next(i for i in PACK.intents if i.unit == "out_of_scope")
    assert len(oos.examples) >= 250


def test_no_duplicate_examples_across_units() -> None:
    from router.text import normalise

    seen: dict[str, str] = {}
    clashes = []
    for intent in PACK.intents:
        for example in intent.examples:
            key = normalise(example.text)
            if key and key in seen and seen[key] != intent.unit:
                clashes.append((example.text, seen[key], intent.unit))
            seen.setdefault(key, intent.unit)
    assert clashes == []


def test_examples_do_not_copy_the_mandates() -> None:
    from router.text import normalise

    mandates = [normalise(u.mandate or "") for u in PACK.units]
    texts = [normalise(e.text) for i in PACK.intents for e in i.examples]
    copied = [t for t in texts if len(t) > 40 and any(t in m for m in mandates)]
    assert copied == []
