"""The ``simulated`` health source: what the simulated units served in a window, from the
traffic model, the versions they ran (the backend's records) and the faults of those versions.
Traffic is ``sim_requests_per_second`` per service — raise it to accelerate the demo's time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from vulnops.fleet import deployment
from vulnops.rollout.interfaces import Context, Target
from vulnops.rollout.samples import UnitSample
from vulnops.sim import model, service
from vulnops.sim.backend import database_of

NOISY_EVERY = 97  # one unit in this many is noisy


class SimulatedHealth:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.seed = context.settings.sim_seed
        self.rate = context.settings.sim_requests_per_second

    async def observe(
        self, targets: Sequence[Target], start: datetime, end: datetime
    ) -> Mapping[int, UnitSample]:
        if not targets:
            return {}
        ids = [t.unit_id for t in targets]
        async with database_of(self.context).session() as session:
            placements = await deployment.placements(session, unit_ids=ids)
            history = await service.histories(session, unit_ids=ids, start=start, end=end)
            faults = await service.faults(session, service_key=targets[0].service)
        samples = {}
        for unit_id, placement in placements.items():
            changes = history.get(unit_id) or [(placement.version, start - service.LONG_AGO)]
            segments = []
            for index, (version, since) in enumerate(changes):
                until = changes[index + 1][1] if index + 1 < len(changes) else end
                segments.append(
                    model.Segment(
                        version=version,
                        start=max(since, start),
                        end=min(until, end),
                        running_since=since,
                    )
                )
            profile = model.unit_profile(
                unit_id,
                seed=self.seed,
                traffic=placement.traffic,
                geography=placement.geography,
                tags=placement.tags,
                noisy=unit_id % NOISY_EVERY == 0,
            )
            samples[unit_id] = model.sample(
                profile, segments, faults, seed=self.seed, requests_per_second=self.rate
            )
        return samples


def factory(context: Context) -> SimulatedHealth:
    return SimulatedHealth(context)
