"""Property tests: any text routes without a crash, with sane scores and known units."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import InputError, Router
from router.text import clean_for_display

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_routes_or_is_an_input_error(router: Router, text: str) -> None:
    try:
        d = router.route(text)
    except InputError:
        # Refused exactly when nothing printable is left of the question.
        assert clean_for_display(text) == ""
        return
    assert d.decision in {"routed", "clarify", "out_of_scope"}
    assert 0.0 <= d.confidence <= 1.0
    assert all(0.0 <= a.score <= 1.0 for a in d.alternatives)
    known = {u.id for u in router.units}
    assert d.unit is None or d.unit.id in known
    assert (d.unit is not None) == (d.decision == "routed")
    for field in (d.text, str(d.answer)):
        assert not any(ord(c) < 32 and c != "\n" for c in field)
        assert "\x7f" not in field and "\x1b" not in field


@SETTINGS
@given(
    text=st.text(
        alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "Cc", "So"]),
        min_size=1,
        max_size=80,
    ).filter(lambda s: any(c.isalnum() for c in s))
)
def test_texts_with_words_always_route(router: Router, text: str) -> None:
    d = router.route(text)
    assert d.text and d.decision in {"routed", "clarify", "out_of_scope"}


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(categories=["L", "N", "P"]), min_size=1, max_size=40),
        min_size=1,
        max_size=12,
    )
)
def test_route_many_matches_route(texts: list[str]) -> None:
    router = _shared()
    assert list(router.route_many(texts, chunk_size=5)) == [router.route(t) for t in texts]


_ROUTER: list[Router] = []


def _shared() -> Router:
    if not _ROUTER:
        _ROUTER.append(Router.load())
    return _ROUTER[0]
