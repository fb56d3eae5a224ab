"""The error catalog: the documented steps of each card, the cause's own step first."""

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    ERROR_1001,
    ERROR_1003,
    CatalogEntry,
    ordered_steps,
)


@pytest.mark.parametrize("entry", [ERROR_1001, ERROR_1003], ids=["1001", "1003"])
def test_the_causes_steps_come_first_and_the_rest_keep_the_documented_order(
    entry: CatalogEntry,
) -> None:
    for step in entry.steps:
        rest = [other for other in entry.steps if other != step]
        assert ordered_steps(entry, step) == (step, *rest)
    last, before = entry.steps[-1], entry.steps[-2]
    assert ordered_steps(entry, last, before)[:2] == (last, before)
    # A step the card does not document is left out; nothing asked keeps the order.
    assert ordered_steps(entry, "not_a_step") == entry.steps
    assert ordered_steps(entry) == entry.steps
