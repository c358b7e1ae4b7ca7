"""The ``command`` backend: runs a configured command per unit — a kubectl or ansible call, a
script — with the unit and version substituted into each argument. There is no shell, so nothing
in a value can run as a command; the same values are also in the environment (``VULNOPS_UNIT``…).

Exit status 0 is success. A command that outlives ``command_timeout_seconds`` is killed with
its process group. On Linux the command also dies with the controller (``PR_SET_PDEATHSIG``), so
a controller killed mid-deployment leaves no orphan that could finish the change later behind
the back of the next controller, which asks the status command what the unit runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Sequence

from vulnops.errors import Invalid
from vulnops.rollout.interfaces import Context, DeployError, Target

PR_SET_PDEATHSIG = 1
OUTPUT_KEPT = 2000


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def substitute(template: Sequence[str], values: dict[str, str]) -> list[str]:
    """Each argument with ``{name}`` replaced; an unknown name is an error, not left as is."""
    try:
        return [part.format_map(values) for part in template]
    except (KeyError, ValueError, IndexError) as error:
        raise DeployError(f"the command template {list(template)} is wrong: {error!r}") from None


def _values(target: Target, version: str, key: str) -> dict[str, str]:
    return {
        "service": target.service,
        "region": target.region,
        "scale_unit": target.scale_unit,
        "unit": target.name,
        "unit_id": str(target.unit_id),
        "version": version,
        "key": key,
    }


class CommandBackend:
    def __init__(self, context: Context) -> None:
        settings = context.settings
        if not settings.command_deploy:
            raise Invalid("the command backend needs VULNOPS_COMMAND_DEPLOY")
        self.deploy_template = list(settings.command_deploy)
        self.status_template = list(settings.command_status)
        self.timeout = settings.command_timeout_seconds

    async def _run(self, argv: list[str], values: dict[str, str]) -> tuple[int, str, str]:
        env = {**os.environ, **{f"VULNOPS_{k.upper()}": v for k, v in values.items()}}
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as error:
            raise DeployError(f"could not run {argv[0]!r}: {error}") from None
        try:
            out, err = await asyncio.wait_for(process.communicate(), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise DeployError(f"{argv[0]} timed out after {self.timeout:g} s") from None
        code = process.returncode if process.returncode is not None else -1
        return code, out.decode(errors="replace"), err.decode(errors="replace")

    async def deploy(self, target: Target, version: str, *, key: str) -> None:
        values = _values(target, version, key)
        code, _, err = await self._run(substitute(self.deploy_template, values), values)
        if code != 0:
            raise DeployError(f"exit status {code}: {err.strip()[-OUTPUT_KEPT:]}")

    async def current_version(self, target: Target) -> str | None:
        if not self.status_template:
            return None
        values = _values(target, "", "")
        code, out, err = await self._run(substitute(self.status_template, values), values)
        if code != 0:
            raise DeployError(f"status: exit status {code}: {err.strip()[-OUTPUT_KEPT:]}")
        first = out.strip().splitlines()
        return first[0].strip() if first else None


def factory(context: Context) -> CommandBackend:
    return CommandBackend(context)
