"""Every feature an explanation can name has words an analyst can read."""

from __future__ import annotations

import pytest

from features.pipeline import FEATURE_NAMES
from models.summary import _PHRASES, summarize


@pytest.mark.parametrize("feature", FEATURE_NAMES)
def test_every_feature_has_a_plain_words_phrase(feature: str) -> None:
    assert feature in _PHRASES
    text = summarize(
        "mei",
        "get",
        "secrets",
        "shop",
        [{"feature": feature, "value": 4.0, "typical": 0.0, "contribution": 1.0}],
    )
    assert feature not in text
    assert "typical" not in text


def test_rarity_reads_as_odds() -> None:
    text = summarize(
        "mei",
        "get",
        "secrets",
        "shop",
        [
            {"feature": "hour_surprise", "value": 5.0, "typical": 0.3, "contribution": 0.6},
            {"feature": "action_surprise_env", "value": 30.0, "typical": 0.2, "contribution": 0.4},
        ],
    )
    assert text == (
        "mei get secrets in shop: at an hour rare (about 1 in 148) for this identity; "
        "an action unseen (rarer than 1 in a million) in this environment."
    )
