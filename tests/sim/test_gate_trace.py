"""The vectorized gates say what the per-unit gates said: on fixed seeds, every look of six
rollouts (good and bad fixes, both fleets) gives the same verdict, the same reason and the same
evidence (to 1e-9: numpy sums in another order than Python did), and the same outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gate_trace import RUNS, trace  # type: ignore[import-not-found]

RECORDED: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "gate_trace.json").read_text()
)


def test_the_recording_covers_every_run() -> None:
    assert [tuple(r["run"]) for r in RECORDED] == list(RUNS)
    assert sum(len(r["looks"]) for r in RECORDED) == 490


@pytest.mark.parametrize("recorded", RECORDED, ids=[" ".join(map(str, r["run"])) for r in RECORDED])
def test_the_gates_say_what_they_said_before(recorded: dict[str, Any]) -> None:
    found = trace(*recorded["run"])
    assert len(found["looks"]) == len(recorded["looks"])
    for now, before in zip(found["looks"], recorded["looks"], strict=True):
        assert (now["kind"], now["reason"]) == (before["kind"], before["reason"])
        for name, value in before.items():
            if name not in ("kind", "reason"):
                assert now[name] == pytest.approx(value, rel=1e-9, abs=1e-300), name
    for name, value in recorded["outcome"].items():
        if isinstance(value, float):
            assert found["outcome"][name] == pytest.approx(value, rel=1e-9), name
        else:
            assert found["outcome"][name] == value, name
