"""Carrying out the disclosure rules' verdict: refuse what they forbid, unless an administrator
overrides the overridable rules with a reason — an event on the case's timeline."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.disclosure.rules import Unmet
from vulnops.errors import Conflict, Forbidden, Invalid


async def enforce(
    session: AsyncSession,
    *,
    case_id: int,
    unmet: list[Unmet],
    doing: str,
    actor: str,
    is_admin: bool,
    override_reason: str | None,
) -> None:
    """Return when ``unmet`` is empty or overridden; otherwise raise, naming every rule."""
    if override_reason is not None and not override_reason.strip():
        raise Invalid("override_reason: an override needs a reason, kept on the case's timeline")
    if not unmet:
        return
    names = [u.rule.value for u in unmet]
    fixed = [u for u in unmet if not u.overridable]
    if fixed or override_reason is None:
        hint = "" if fixed else " (an administrator may override with a reason)"
        raise Conflict(
            f"cannot {doing}: " + "; ".join(u.message for u in unmet) + hint, unmet=names
        )
    if not is_admin:
        raise Forbidden(f"only an administrator overrides the rules ({', '.join(names)})")
    await audit.record(
        session,
        subject=f"case:{case_id}",
        kind="disclosure.rule_overridden",
        actor=actor,
        data={"rules": names, "doing": doing, "reason": override_reason.strip()},
    )
