"""Fit the follow-up thresholds of router.Conversation on the tuning dialogues.

Reads only tests/data/dialogues_tune.yaml (the held-out dialogues.yaml and
dialogues_heldout2.yaml are never read here). For each threshold setting on a small grid it
replays every dialogue and counts the turns answered by the right unit. It prints a 5-fold
estimate (the best setting on four folds of dialogues, scored on the fifth) and the best
setting on all of them; put that one under ``fitted:`` in router/conversation.yaml. Ties
go to the setting nearest the shipped one, so a flat stretch of the grid changes nothing.

    python benchmarks/fit_conversation.py
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from pathlib import Path
from typing import Any

import yaml

from router import Conversation, Router
from router.conversation import FollowUpRules

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FOLDS = 5
GRID = {
    "sure": (0.7, 0.8, 0.85, 0.9, 0.95, 1.01),
    "follow_up_words": (4, 5, 6, 7, 8),
    "cued_words": (8, 10, 12, 14, 16, 20),
    "routed_below": (0.0, 0.7, 0.8, 0.85, 0.9, 0.95),
}


class _Cached:
    """The router with its decisions kept: the grid replays the same texts many times."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._seen: dict[str, Any] = {}
        self.answers_ = router.answers_

    def route(self, text: str) -> Any:
        if text not in self._seen:
            self._seen[text] = self._router.route(text)
        return self._seen[text]


def _rights(router: Any, rules: FollowUpRules, dialogues: list[dict]) -> list[int]:
    """For each dialogue, how many of its turns get the right unit."""
    rights = []
    for dialogue in dialogues:
        talk = Conversation(router, rules=rules)
        right = 0
        for turn in dialogue["turns"]:
            d = talk.ask(turn["text"])
            right += (d.unit.id if d.unit else d.decision) == turn["unit"]
        rights.append(right)
    return rights


def _distance(setting: dict, shipped: FollowUpRules) -> float:
    return sum(
        abs(value - getattr(shipped, key)) / (max(GRID[key]) - min(GRID[key]))
        for key, value in setting.items()
    )


def main() -> None:
    warnings.simplefilter("ignore")
    dialogues = yaml.safe_load((DATA / "dialogues_tune.yaml").read_text(encoding="utf-8"))
    turns = [len(d["turns"]) for d in dialogues]
    router = _Cached(Router.load())
    shipped = FollowUpRules.load()
    grid = itertools.product(*GRID.values())
    settings = [dict(zip(GRID, values, strict=True)) for values in grid]
    table = [_rights(router, dataclasses.replace(shipped, **s), dialogues) for s in settings]

    def best(indices: list[int]) -> int:
        return max(
            range(len(settings)),
            key=lambda k: (sum(table[k][i] for i in indices), -_distance(settings[k], shipped)),
        )

    folds = [list(range(f, len(dialogues), FOLDS)) for f in range(FOLDS)]
    held_right = held_total = 0
    for f, fold in enumerate(folds):
        train = [i for i in range(len(dialogues)) if i not in fold]
        k = best(train)
        right, total = sum(table[k][i] for i in fold), sum(turns[i] for i in fold)
        held_right, held_total = held_right + right, held_total + total
        print(f"fold {f}: {settings[k]} -> held-out fold {right}/{total}")
    print(f"5-fold held-out turn accuracy: {held_right / held_total:.3f}")
    everything = list(range(len(dialogues)))
    k = best(everything)
    right = sum(table[k][i] for i in everything)
    print(f"best on all {len(dialogues)} dialogues: {settings[k]} ({right}/{sum(turns)} turns)")
    ties = [s for j, s in enumerate(settings) if sum(table[j]) == right]
    spans = {key: (min(s[key] for s in ties), max(s[key] for s in ties)) for key in GRID}
    print(f"{len(ties)} of {len(settings)} settings score as well; their ranges: {spans}")


if __name__ == "__main__":
    main()
