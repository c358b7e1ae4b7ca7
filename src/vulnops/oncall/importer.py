"""Importing the on-call document (``schemas.OncallDocument``) — all or nothing, like the fleet.

Everything is checked before anything is written: the shapes (Pydantic), then what needs the
database (users by email, services, the schedules and layers a target names, in the file or
stored) and the schedule's arithmetic (time zones, RRULEs). Every problem is listed.

A schedule in the file replaces the stored one of that key, except that a layer whose start and
rotation did not change keeps its rotation's turn: new members come in through a membership
from now (:func:`~vulnops.oncall.schedule.rebased`), so nobody's turn is reset. Schedules and
policies not in the file are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.errors import Invalid
from vulnops.fleet.models import Service
from vulnops.oncall import schedule as pure
from vulnops.oncall import service
from vulnops.oncall.models import (
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    OncallLayer,
    OncallMember,
    OncallMembership,
    OncallOverride,
    OncallSchedule,
    ServicePolicy,
)
from vulnops.oncall.schemas import WEEKDAYS, LayerIn, OncallDocument, PolicyIn, ScheduleIn
from vulnops.parsing_limits import MAX_YAML_BYTES, load_yaml

MAX_LISTED = 50


@dataclass(frozen=True)
class ImportSummary:
    schedules: int
    layers: int
    overrides: int
    policies: int
    steps: int


def parse(text_: str, *, source: str) -> OncallDocument:
    document, _ = load_yaml(text_, max_bytes=MAX_YAML_BYTES, source=source)
    try:
        return OncallDocument.model_validate(document or {})
    except ValidationError as error:
        problems = [
            {"loc": ".".join(map(str, item["loc"])), "msg": item["msg"]}
            for item in error.errors()[:MAX_LISTED]
        ]
        first = problems[0]
        raise Invalid(
            f"{source}: {first['loc']}: {first['msg']} ({error.error_count()} problem(s))",
            errors=problems,
        ) from None


def _pure_layer(layer: LayerIn, users: tuple[str, ...]) -> pure.Layer:
    return pure.Layer(
        name=layer.name,
        start=layer.start,
        rotation=layer.rotation,
        memberships=(pure.Membership(users),),
        restrictions=tuple(
            pure.Restriction(frozenset(WEEKDAYS.index(d) for d in r.days), r.start, r.end)
            for r in layer.restrictions
        ),
        time_zone=layer.time_zone,
    )


def _emails(document: OncallDocument) -> set[str]:
    found = {e for s in document.schedules for layer in s.layers for e in layer.users}
    found |= {o.user for s in document.schedules for o in s.overrides}
    for policy in document.escalation_policies:
        for step in policy.steps:
            found |= {t.split(":", 1)[1] for t in step.targets if t.startswith("user:")}
    return found


async def _known_layers(session: AsyncSession) -> set[tuple[str, str]]:
    rows = await session.execute(
        text(
            "SELECT s.key, l.name FROM oncall_layers l "
            "JOIN oncall_schedules s ON s.id = l.schedule_id"
        )
    )
    return {(key, name) for key, name in rows.all()}


async def check(session: AsyncSession, document: OncallDocument, *, source: str) -> dict[str, int]:
    """Every problem the document has against the database and the arithmetic (an Invalid
    listing them), else the users' ids by email."""
    emails = _emails(document)
    users: dict[str, int] = dict(
        (await session.execute(select(User.email, User.id).where(User.email.in_(emails)))).all()
    )
    problems = [{"loc": "users", "msg": f"no user {e!r}"} for e in sorted(emails - set(users))]
    problems += _schedule_problems(document)
    problems += await _policy_problems(session, document)
    if problems:
        first = problems[0]
        raise Invalid(
            f"{source}: {first['loc']}: {first['msg']} ({len(problems)} problem(s)); nothing was "
            "imported",
            errors=problems[:MAX_LISTED],
        )
    return users


def _schedule_problems(document: OncallDocument) -> list[dict[str, str]]:
    problems = []
    for index, item in enumerate(document.schedules):
        try:
            pure.zone(item.time_zone)
        except pure.ScheduleError as error:
            message = str(error).split(": ", 1)[1]
            problems.append({"loc": f"schedules.{index}.time_zone", "msg": message})
        for number, layer in enumerate(item.layers):
            where = f"schedules.{index}.layers.{number}"
            if layer.time_zone is not None:
                try:
                    pure.zone(layer.time_zone)
                except pure.ScheduleError as error:
                    message = str(error).split(": ", 1)[1]
                    problems.append({"loc": f"{where}.time_zone", "msg": message})
            try:
                pure.rule(_pure_layer(layer, tuple(layer.users)))
            except pure.ScheduleError as error:
                problems.append({"loc": f"{where}.rotation", "msg": str(error)})
    return problems


async def _policy_problems(session: AsyncSession, document: OncallDocument) -> list[dict[str, str]]:
    """Services that do not exist, targets naming a schedule or layer that does not (in the file
    or stored: a schedule the file replaces has only the file's layers)."""
    replaced = {s.key for s in document.schedules}
    schedules = replaced | set(await session.scalars(select(OncallSchedule.key)))
    layers = {(s.key, layer.name) for s in document.schedules for layer in s.layers}
    layers |= {pair for pair in await _known_layers(session) if pair[0] not in replaced}
    wanted = {key for policy in document.escalation_policies for key in policy.services}
    services = set(await session.scalars(select(Service.key).where(Service.key.in_(wanted))))
    problems = []
    for index, policy in enumerate(document.escalation_policies):
        where = f"escalation_policies.{index}"
        for key in sorted(set(policy.services) - services):
            problems.append({"loc": f"{where}.services", "msg": f"no service {key!r}"})
        for number, step in enumerate(policy.steps):
            for target in step.targets:
                kind, ref = target.split(":", 1)
                if (kind == "schedule" and ref not in schedules) or (
                    kind == "layer" and tuple(ref.split("/", 1)) not in layers
                ):
                    problems.append(
                        {
                            "loc": f"{where}.steps.{number}.targets",
                            "msg": f"{target!r} does not exist",
                        }
                    )
    return problems


async def import_document(
    session: AsyncSession, *, text_: str, source: str, actor: str, now: datetime
) -> ImportSummary:
    """Check the whole document, then write it (in the caller's transaction)."""
    document = parse(text_, source=source)
    users = await check(session, document, source=source)
    for item in document.schedules:
        await _write_schedule(session, item, users=users, actor=actor, now=now)
    for policy in document.escalation_policies:
        await _write_policy(session, policy, users=users)
    summary = ImportSummary(
        schedules=len(document.schedules),
        layers=sum(len(s.layers) for s in document.schedules),
        overrides=sum(len(s.overrides) for s in document.schedules),
        policies=len(document.escalation_policies),
        steps=sum(len(p.steps) for p in document.escalation_policies),
    )
    await audit.record(
        session, subject="oncall", kind="oncall.imported", actor=actor, data=summary.__dict__
    )
    return summary


async def _membership(
    session: AsyncSession, layer_id: int, users: list[int], *, since: datetime | None, offset: int
) -> None:
    membership = OncallMembership(layer_id=layer_id, since=since, offset=offset)
    session.add(membership)
    await session.flush()
    session.add_all(
        OncallMember(membership_id=membership.id, position=position, user_id=user_id)
        for position, user_id in enumerate(users)
    )


async def _write_schedule(
    session: AsyncSession, item: ScheduleIn, *, users: dict[str, int], actor: str, now: datetime
) -> None:
    row = await session.scalar(select(OncallSchedule).where(OncallSchedule.key == item.key))
    stored = None
    if row is None:
        row = OncallSchedule(key=item.key, name=item.name, time_zone=item.time_zone)
        session.add(row)
        await session.flush()
    else:
        stored = await service.load(session, key=item.key)
        row.name, row.time_zone = item.name, item.time_zone
    kept = {layer.name: layer for layer in stored.schedule.layers} if stored else {}
    existing = {
        layer.name: layer
        for layer in await session.scalars(
            select(OncallLayer).where(OncallLayer.schedule_id == row.id)
        )
    }
    for name in set(existing) - {layer.name for layer in item.layers}:
        await session.delete(existing[name])
    for position, layer in enumerate(item.layers):
        restrictions = [
            {
                "days": [WEEKDAYS.index(d) for d in r.days],
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
            }
            for r in layer.restrictions
        ]
        previous = kept.get(layer.name)
        zone_name = layer.time_zone or item.time_zone
        if (
            previous is not None
            and stored is not None
            and (previous.start, previous.rotation) == (layer.start, layer.rotation)
            and (previous.time_zone or stored.schedule.time_zone) == zone_name
        ):
            found = existing[layer.name]
            found.position, found.restrictions = position, restrictions
            found.time_zone = layer.time_zone
            if previous.memberships[-1].users != tuple(layer.users):
                tz = pure.zone(zone_name)
                change = pure.rebased(previous, tz, tuple(layer.users), now)
                await _membership(
                    session,
                    found.id,
                    [users[e] for e in layer.users],
                    since=change.since,
                    offset=change.offset,
                )
            continue
        if layer.name in existing:
            await session.delete(existing[layer.name])
            await session.flush()
        created = OncallLayer(
            schedule_id=row.id,
            position=position,
            name=layer.name,
            start_local=layer.start,
            rotation=layer.rotation,
            time_zone=layer.time_zone,
            restrictions=restrictions,
        )
        session.add(created)
        await session.flush()
        await _membership(
            session, created.id, [users[e] for e in layer.users], since=None, offset=0
        )
    await session.execute(delete(OncallOverride).where(OncallOverride.schedule_id == row.id))
    tz = pure.zone(item.time_zone)
    session.add_all(
        OncallOverride(
            schedule_id=row.id,
            user_id=users[o.user],
            starts_at=o.start if o.start.tzinfo else o.start.replace(tzinfo=tz),
            ends_at=o.end if o.end.tzinfo else o.end.replace(tzinfo=tz),
            created_by=actor,
        )
        for o in item.overrides
    )
    await session.flush()


async def _write_policy(session: AsyncSession, policy: PolicyIn, *, users: dict[str, int]) -> None:
    row = await session.scalar(select(EscalationPolicy).where(EscalationPolicy.key == policy.key))
    if policy.default:
        await session.execute(
            text("UPDATE escalation_policies SET is_default = false WHERE key <> :key"),
            {"key": policy.key},
        )
    if row is None:
        row = EscalationPolicy(key=policy.key)
        session.add(row)
    row.name, row.repeat, row.is_default = policy.name, policy.repeat, policy.default
    await session.flush()
    await session.execute(delete(EscalationStep).where(EscalationStep.policy_id == row.id))
    schedules: dict[str, int] = dict(
        (await session.execute(select(OncallSchedule.key, OncallSchedule.id))).all()
    )
    for position, step in enumerate(policy.steps):
        created = EscalationStep(
            policy_id=row.id, position=position, delay_minutes=step.delay_minutes
        )
        session.add(created)
        await session.flush()
        session.add_all(
            EscalationTarget(
                step_id=created.id, position=number, **_target(target, users, schedules)
            )
            for number, target in enumerate(step.targets)
        )
    if policy.services:
        ids = list(
            await session.scalars(select(Service.id).where(Service.key.in_(policy.services)))
        )
        await session.execute(delete(ServicePolicy).where(ServicePolicy.service_id.in_(ids)))
        session.add_all(ServicePolicy(service_id=i, policy_id=row.id) for i in ids)
    await session.flush()


def _target(target: str, users: dict[str, int], schedules: dict[str, int]) -> dict[str, Any]:
    kind, ref = target.split(":", 1)
    if kind == "user":
        return {"user_id": users[ref]}
    if kind == "schedule":
        return {"schedule_id": schedules[ref]}
    key, layer = ref.split("/", 1)
    return {"schedule_id": schedules[key], "layer": layer}
