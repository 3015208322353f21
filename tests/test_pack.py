"""Loading and validating knowledge packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import PackError, QuoteNotFoundError, UnknownUnitError, load_pack
from router.pack import Pack

UNIT_IDS = {
    "regulation_compliance",
    "ai_safety",
    "excellence_ai_robotics",
    "ai_societal_good",
    "innovation_policy_coordination",
    "about_office",
}


def test_bundled_pack_has_the_fixed_unit_ids() -> None:
    pack = load_pack()
    assert {u.id for u in pack.units} == UNIT_IDS
    assert pack.out_of_scope_unit == "out_of_scope"


def test_every_bundled_mandate_is_verbatim_in_its_source() -> None:
    pack = load_pack()
    sources = {s.id: s for s in pack.sources}
    for unit in pack.units:
        assert unit.mandate and unit.citation
        assert unit.mandate in sources[unit.citation.source_id].text


def test_bundled_source_is_the_seed_without_its_metadata_line() -> None:
    seed = Path(__file__).resolve().parents[2] / "shared/seed/000_eafe9d1442d8e345.txt"
    if not seed.is_file():
        pytest.skip("the shared seed is not beside this checkout")
    stored = load_pack().sources[0]
    lines = seed.read_text(encoding="utf-8").split("\n", 1)
    assert stored.text == lines[1]
    assert not stored.text.startswith("AI Office 169")


def test_citation_has_title_date_and_url() -> None:
    citation = load_pack().unit("ai_safety").citation
    assert citation is not None
    assert citation.title.startswith("Commission establishes AI Office")
    assert citation.date == "2024-05-29"
    assert citation.url and citation.url.startswith("https://")
    assert "2024-05-29" in str(citation)


def test_about_office_is_answered_with_the_office_passage() -> None:
    unit = load_pack().unit("about_office")
    assert unit.mandate is not None
    assert unit.mandate.startswith("The AI Office aims at enabling")


def test_unknown_unit_lookup_names_the_known_ones() -> None:
    with pytest.raises(UnknownUnitError, match="regulation_compliance"):
        load_pack().unit("nope")


def test_tiny_pack_loads(make_pack) -> None:
    pack = load_pack(make_pack())
    assert isinstance(pack, Pack)
    assert [u.id for u in pack.units] == ["billing", "support"]
    assert pack.unit("support").mandate is None  # units without quotes are allowed
    assert pack.calibration is None


def test_quote_not_in_source_names_file_line_and_unit(make_pack) -> None:
    units = Path(make_pack()).joinpath("corpus/units.yaml").read_text()
    root = make_pack({"corpus/units.yaml": units.replace("invoices and refunds", "refunds only")})
    with pytest.raises(QuoteNotFoundError) as info:
        load_pack(root)
    err = info.value
    assert err.unit == "billing"
    assert err.path and err.path.endswith("units.yaml")
    assert err.line == 6
    assert "billing" in str(err) and "units.yaml, line 6" in str(err)


def test_invalid_yaml_names_file_and_line(make_pack) -> None:
    root = make_pack({"intents/support.yaml": "unit: support\nexamples:\n  - ok\n  - [broken\n"})
    with pytest.raises(PackError) as info:
        load_pack(root)
    assert info.value.path and info.value.path.endswith("support.yaml")
    assert info.value.line is not None and info.value.line >= 4
    assert "invalid YAML" in str(info.value)


def test_broken_utf8_in_pack_names_the_line(make_pack, tmp_path: Path) -> None:
    root = make_pack()
    (root / "intents/support.yaml").write_bytes(
        b"unit: support\nexamples:\n  - fine\n  - caf\xe9\n"
    )
    with pytest.raises(PackError, match=r"support\.yaml, line 4: is not valid UTF-8"):
        load_pack(root)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"intents/support.yaml": "examples: [a, b]\n"}, "missing required key 'unit'"),
        ({"intents/support.yaml": "unit: nobody\nexamples: [a]\n"}, "'nobody' is not defined"),
        ({"intents/support.yaml": "unit: support\nexamples: [a, '  ']\n"}, "non-empty text"),
        ({"intents/support.yaml": None}, "no intent file for unit"),
        ({"corpus/units.yaml": "units: []\n"}, "defines no units"),
        (
            {"corpus/sources.yaml": "sources:\n  - id: charter\n    file: sources/charter.txt\n"},
            "missing required key 'title'",
        ),
        (
            {"corpus/sources.yaml": "sources:\n  - id: charter\n    file: sources/gone.txt\n"},
            "cannot read",
        ),
    ],
)
def test_malformed_packs_fail_with_a_specific_message(make_pack, files, message) -> None:
    with pytest.raises(PackError, match=message):
        load_pack(make_pack(files))


def test_missing_pack_folder(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="not a pack folder"):
        load_pack(tmp_path / "nowhere")
    (tmp_path / "half" / "corpus").mkdir(parents=True)
    with pytest.raises(PackError, match="intents"):
        load_pack(tmp_path / "half")


def test_fingerprint_changes_with_training_data(pack_copy: Path) -> None:
    before = load_pack(pack_copy).fingerprint()
    path = pack_copy / "intents/ai_safety.yaml"
    path.write_text(path.read_text() + "\n# comment only\n", encoding="utf-8")
    assert load_pack(pack_copy).fingerprint() == before
    extra = '  en:\n    - "one more red-teaming question"\n'
    path.write_text(path.read_text().replace("  en:\n", extra, 1), encoding="utf-8")
    assert load_pack(pack_copy).fingerprint() != before


def test_pack_can_set_spelling_correction(make_pack) -> None:
    from router import Router

    plain = load_pack(make_pack({"corpus/pack.yaml": "name: Tiny\n"})).fingerprint()
    settings = (
        "name: Tiny\nmatcher:\n  score_cutoff: 70\n  min_length: 4\n"
        "  max_edits: 0\n  edit_min_count: 5\n"
    )
    root = make_pack({"corpus/pack.yaml": settings})  # rewrites the same folder
    pack = load_pack(root)
    assert pack.matcher_settings == {
        "score_cutoff": 70.0,
        "min_length": 4,
        "max_edits": 0,
        "edit_min_count": 5,
    }
    assert pack.fingerprint() != plain
    router = Router.load(root)
    assert router.matcher_.score_cutoff == 70.0 and router.matcher_.min_length == 4
    assert router.matcher_.max_edits == 0 and router.matcher_.edit_min_count == 5


def test_unknown_matcher_setting_is_refused(make_pack) -> None:
    root = make_pack({"corpus/pack.yaml": "matcher:\n  cutoff: 70\n"})
    with pytest.raises(PackError, match=r"pack\.yaml, line 2: matcher setting 'cutoff'"):
        load_pack(root)
