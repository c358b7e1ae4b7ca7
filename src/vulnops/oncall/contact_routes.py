"""Your contact rules — how you are told of a page — over the API (read and replace) and from
the on-call page (add one, remove one). Each person sets their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, Input, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid, NotFound
from vulnops.oncall import contacts
from vulnops.oncall.api import READ
from vulnops.ui.templating import flash, redirect

api = APIRouter(prefix="/api", tags=["oncall"])
pages = APIRouter(include_in_schema=False)


class RuleOut(BaseModel):
    id: int | None
    channel: str
    delay_minutes: int
    urgency: str
    # A chat webhook is a credential: shown only as where it goes.
    address_host: str | None


class RulesIn(Input):
    rules: list[contacts.RuleIn]


class RulesOut(BaseModel):
    rules: list[RuleOut]
    default: bool


def _out(rules: tuple[contacts.Rule, ...]) -> RulesOut:
    return RulesOut(
        rules=[
            RuleOut(
                id=rule.id,
                channel=rule.channel,
                delay_minutes=rule.delay_minutes,
                urgency=rule.urgency,
                address_host=contacts.host_of(rule.address),
            )
            for rule in rules
        ],
        default=rules == contacts.DEFAULT,
    )


async def _mine(session: SessionDep, principal: Principal) -> tuple[contacts.Rule, ...]:
    return (await contacts.of_users(session, user_ids=[principal.user_id]))[principal.user_id]


@api.get("/oncall/me/contact-rules")
async def my_rules(session: SessionDep, principal: Principal = require(READ)) -> RulesOut:
    """How you are told of a page (``default``: you set none, so email at once)."""
    return _out(await _mine(session, principal))


@api.put("/oncall/me/contact-rules")
async def replace_my_rules(
    body: RulesIn, request: Request, session: SessionDep, principal: Principal = require(READ)
) -> RulesOut:
    """Replace your rules, all or nothing (an empty list: back to the default)."""
    found = await contacts.replace(
        session,
        user_id=principal.user_id,
        rules=body.rules,
        actor=principal.actor,
        allow_private=request.app.state.settings.notify_webhook_allow_private,
    )
    await session.commit()
    return _out(found)


def _kept(rules: tuple[contacts.Rule, ...]) -> list[contacts.RuleIn]:
    return [
        contacts.RuleIn.model_validate(
            {
                "channel": rule.channel,
                "delay_minutes": rule.delay_minutes,
                "urgency": rule.urgency,
                "address": rule.address,
            }
        )
        for rule in rules
        if rule.id is not None
    ]


@pages.post("/oncall/contact-rules")
async def add_rule(
    request: Request,
    session: SessionDep,
    channel: Annotated[Text, Form()],
    delay_minutes: Annotated[int, Form(ge=0, le=contacts.MAX_DELAY_MINUTES)] = 0,
    urgency: Annotated[Text, Form()] = "any",
    address: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(READ),
) -> Response:
    try:
        added = contacts.RuleIn.model_validate(
            {
                "channel": channel,
                "delay_minutes": delay_minutes,
                "urgency": urgency,
                "address": address or None,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise Invalid(str(first["msg"]).removeprefix("Value error, ")) from None
    rules = [*_kept(await _mine(session, principal)), added]
    await contacts.replace(
        session,
        user_id=principal.user_id,
        rules=rules,
        actor=principal.actor,
        allow_private=request.app.state.settings.notify_webhook_allow_private,
    )
    await session.commit()
    flash(request, "Rule added.", "success")
    return redirect("/oncall#contact-rules")


@pages.post("/oncall/contact-rules/{rule_id:int}/remove")
async def remove_rule(
    rule_id: Id, request: Request, session: SessionDep, principal: Principal = require(READ)
) -> Response:
    mine = await _mine(session, principal)
    if all(rule.id != rule_id for rule in mine):
        raise NotFound(f"you have no rule {rule_id}")
    kept = [rule for rule in mine if rule.id != rule_id]
    await contacts.replace(
        session,
        user_id=principal.user_id,
        rules=_kept(tuple(kept)),
        actor=principal.actor,
        allow_private=request.app.state.settings.notify_webhook_allow_private,
    )
    await session.commit()
    flash(request, "Rule removed.", "success")
    return redirect("/oncall#contact-rules")
