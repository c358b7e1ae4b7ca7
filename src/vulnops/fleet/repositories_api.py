"""The services' source repositories: read them, set them (JSON API and the service page's
form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Input, Text
from vulnops.db.deps import SessionDep
from vulnops.fleet import repositories
from vulnops.fleet.api import MANAGE, READ
from vulnops.ui.forms import form_action

api = APIRouter(prefix="/api/fleet", tags=["fleet"])
pages = APIRouter(include_in_schema=False)


class RepositoriesIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    locations: list[Text] = Field(max_length=100)


class RepositoriesOut(BaseModel):
    service: str
    locations: list[str]


@api.get("/services/{key}/repositories", dependencies=[require(READ)])
async def get_repositories(key: Text, session: SessionDep) -> RepositoriesOut:
    found = await repositories.of_services(session, keys=[key])
    return RepositoriesOut(service=key, locations=[r.location for r in found])


@api.put("/services/{key}/repositories")
async def put_repositories(
    key: Text,
    body: RepositoriesIn,
    session: SessionDep,
    principal: Principal = require(MANAGE),
) -> RepositoriesOut:
    """Where the service's source is (absolute paths on the machines that run hunts)."""
    locations = await repositories.replace(
        session, service_key=key, locations=body.locations, actor=principal.actor
    )
    await session.commit()
    return RepositoriesOut(service=key, locations=locations)


@pages.post("/fleet/services/{key}/repositories")
async def set_repositories(
    request: Request,
    key: Text,
    session: SessionDep,
    locations: Annotated[Text, Form(max_length=100_000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> list[str]:
        return await repositories.replace(
            session,
            service_key=key,
            locations=[line.strip() for line in locations.splitlines() if line.strip()],
            actor=principal.actor,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda found: f"{len(found)} repository location(s) for {key}.",
        back=f"/fleet/services/{key}",
    )
