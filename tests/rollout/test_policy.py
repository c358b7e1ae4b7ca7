"""Rollout policies are data: the shipped file loads, and a bad file says where it is wrong."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from vulnops.rollout.policy import GateMode, PolicyError, load_policies, parse_policies

BASE = {
    "canary": {"bake": "30m"},
    "pilot": {"bake": "30m"},
    "waves": {"bake": "15m"},
    "wave_shares": [0.5, 1.0],
}


def test_the_shipped_policies_load() -> None:
    policies = load_policies()
    assert {"standard", "expedited", "emergency", "demo"} <= set(policies)
    assert policies["expedited"].approval_required
    assert not policies["standard"].approval_required
    assert policies["emergency"].canary.gate is GateMode.REQUIRED
    assert policies["emergency"].waves.gate is GateMode.WATCH
    assert policies["standard"].canary.bake == timedelta(minutes=30)
    assert policies["expedited"].waves.bake < policies["standard"].waves.bake
    assert len(policies["expedited"].wave_shares) < len(policies["standard"].wave_shares)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"canry": {"bake": "1m"}}, r"fast\.canry: unknown key"),
        ({"canary": {"bake": "-5m"}}, r"fast\.canary\.bake: a duration must be zero or positive"),
        ({"pilot": {"bake": "soon"}}, r"fast\.pilot\.bake: 'soon' is not a duration"),
        ({"gates": {"alpha": 0.7}}, r"fast\.gates\.alpha"),
        ({"gates": {"interval": "0s"}}, r"interval must be positive"),
        ({"wave_shares": [0.6, 0.3, 1.0]}, r"wave_shares must increase and end at 1"),
        ({"wave_shares": [0.5]}, r"wave_shares must increase and end at 1"),
        ({"max_parallel_units": 0}, r"fast\.max_parallel_units"),
    ],
)
def test_a_bad_policy_names_what_is_wrong(change: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policies({"fast": {**BASE, **change}}, source="policies.yaml")


def test_a_policy_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policies.yaml"
    path.write_text("standard: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policies(path)
    path.write_text("- a list\n")
    with pytest.raises(PolicyError, match="expected a mapping of policy names"):
        load_policies(path)
