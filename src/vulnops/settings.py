"""Configuration: ``VULNOPS_*`` environment variables, then an optional TOML file, then defaults.

The file is named by ``VULNOPS_CONFIG_FILE`` (or ``vulnops --config FILE``); its keys are the field
names below without the prefix (``database_url = "postgresql://..."``). Environment variables win
over the file so that a deployment can override one value without editing it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vulnops import CONFIG_FILE_ENV
from vulnops.bounty_config import BountyConfig
from vulnops.customers_config import CustomersConfig
from vulnops.disclosure_config import DisclosureConfig
from vulnops.limits import Limits
from vulnops.oncall_config import OncallConfig
from vulnops.review_config import ReviewConfig
from vulnops.variants_config import VariantsConfig

DEFAULT_PROMETHEUS_QUERIES = {
    "requests": 'sum by (unit) (increase(http_requests_total{service="$service",unit=~"$units"}'
    "[$window]))",
    "errors": 'sum by (unit) (increase(http_requests_total{service="$service",unit=~"$units",'
    'code=~"5.."}[$window]))',
    "crashes": 'sum by (unit) (increase(process_crashes_total{service="$service",'
    'unit=~"$units"}[$window]))',
    "latency_ms": "1000 * sum by (unit) (rate(http_request_duration_seconds_sum{"
    'service="$service",unit=~"$units"}[$window])) / sum by (unit) (rate('
    'http_request_duration_seconds_count{service="$service",unit=~"$units"}[$window]))',
}


def default_data_dir() -> Path:
    """The platform's user data directory (``$XDG_DATA_HOME/vulnops`` on Linux)."""
    return Path(platformdirs.user_data_dir("vulnops", appauthor=False))


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the platform has one (what
    Python 3.13's ``os.process_cpu_count`` returns; a container pinned to 2 CPUs of a 64-CPU
    host gets 2), else every CPU of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# The steps the four-eyes mechanism (vulnops.approvals) can require a second person for.
FourEyesStep = Literal[
    "advisory", "public_text", "disclosure", "expedited_rollout", "bounty_award", "review"
]


class Settings(
    Limits,
    DisclosureConfig,
    OncallConfig,
    BountyConfig,
    VariantsConfig,
    ReviewConfig,
    CustomersConfig,
):
    model_config = SettingsConfigDict(env_prefix="VULNOPS_", extra="forbid")

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; unset starts an embedded PostgreSQL in the data directory.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Embedded database, attachments, generated secret key.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs session cookies and CSRF tokens; generated and kept in the data "
        "directory when unset (set it to the same value on every web node).",
    )
    host: str = Field(default="127.0.0.1", description="Address `vulnops serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `vulnops serve` listens on.")
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL used in links sent to people."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark cookies Secure and send Strict-Transport-Security (set when served "
        "over HTTPS).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses (or networks) of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto count; none by default, so a client cannot name its own address.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, gt=0, description="How long a login session lasts."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect provider's issuer URL (its "
        "/.well-known/openid-configuration is read); unset, there is no single sign-on.",
    )
    oidc_client_id: str = Field(default="vulnops", description="This app's client id there.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="Its client secret.")
    oidc_scopes: str = Field(default="openid email profile groups", description="Scopes asked.")
    oidc_roles_claim: str = Field(
        default="groups", description="The claim (a list of names) the roles are read from."
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='Claim value to vulnops role, e.g. {"sec-responders": "responder"}; the '
        "first listed role a user's claim names wins; none: no access.",
    )
    oidc_required_for_staff: bool = Field(
        default=False,
        description="Staff may sign in only through single sign-on (researchers, partners and "
        "customers keep passwords).",
    )
    second_factor_roles: list[str] = Field(
        default_factory=lambda: [
            "admin",
            "communications",
            "engineer",
            "release_manager",
            "responder",
        ],
        description="Roles that must sign in with a second factor (TOTP or a passkey); by "
        "default every staff role. Others may add one.",
    )
    restrict_critical_cases: bool = Field(
        default=True,
        description="A case rated critical is restricted to its team unless someone chose.",
    )
    token_max_days: int = Field(
        default=90, ge=1, le=3650, description="The longest an API token may live, in days."
    )
    db_pool_size: int = Field(
        default=10,
        gt=0,
        description="Connections per process (and as many again in a burst); `vulnops serve` "
        "lowers it, unless it is set, so that its web processes fit the database's "
        "max_connections.",
    )
    web_workers: int = Field(
        default_factory=usable_cpus,
        gt=0,
        description="Web server processes `vulnops serve` starts; by default one per CPU this "
        "process may use.",
    )
    serve_runs_worker: bool = Field(
        default=True, description="`vulnops serve` also runs a job worker in each web process."
    )
    serve_worker_concurrency: int = Field(
        default=2,
        gt=0,
        description="Jobs the worker in each web process runs at once (N web processes run N "
        "times as many); `vulnops worker` runs VULNOPS_WORKER_CONCURRENCY.",
    )
    worker_concurrency: int = Field(default=4, gt=0, description="Jobs a worker runs at once.")
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="How often a worker tells the database it is alive."
    )
    worker_stalled_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A worker silent this long is dead; its running jobs are retried.",
    )
    log_level: str = Field(default="info", description="Log level of `serve` and `worker`.")
    smtp_host: str | None = Field(
        default=None, description="SMTP server for outgoing email; unset sends no email."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user, if it needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    smtp_tls: bool = Field(default=False, description="Connect to SMTP over TLS (port 465 style).")
    mail_from: str = Field(
        default="vulnops <security@localhost>", description="From: of the email vulnops sends."
    )
    triage_email: str | None = Field(
        default=None, description="Where to tell the triage team about researchers' replies."
    )
    sla_policy_file: Path | None = Field(
        default=None, description="YAML with response deadlines per severity (defaults shipped)."
    )

    rollout_policy_file: Path | None = Field(
        default=None, description="YAML with rollout policies (defaults shipped)."
    )
    rollout_backend: str = Field(
        default="simulated", description="Deployment backend: simulated, command or http."
    )
    health_source: str = Field(
        default="simulated", description="Health source of the gates: simulated or prometheus."
    )
    rollout_tick_seconds: float = Field(
        default=5, gt=0, description="Longest a rollout's controller waits between looks."
    )
    command_deploy: list[str] = Field(
        default_factory=list,
        description="argv run to deploy one unit; {service} {region} {scale_unit} {unit} "
        "{unit_id} {version} {key} are substituted in each argument (no shell).",
    )
    command_status: list[str] = Field(
        default_factory=list,
        description="argv that prints the version a unit runs (same substitutions).",
    )
    command_timeout_seconds: float = Field(
        default=600, gt=0, description="A deploy command running longer is killed and failed."
    )
    http_deploy_url: str | None = Field(
        default=None, description="URL the http backend POSTs a deployment to."
    )
    http_status_url: str | None = Field(
        default=None,
        description="URL (with {service} {region} {scale_unit} {unit_id}) answering "
        '{"version": …, "state": "in_progress"|"succeeded"|"failed"}.',
    )
    http_token: SecretStr | None = Field(
        default=None, description="Bearer token for the http backend."
    )
    http_timeout_seconds: float = Field(
        default=600, gt=0, description="How long the http backend waits for a deployment."
    )
    http_poll_seconds: float = Field(
        default=5, gt=0, description="How often the http backend polls the status URL."
    )
    prometheus_url: str | None = Field(
        default=None, description="Base URL of the Prometheus HTTP API (http://prom:9090)."
    )
    prometheus_queries: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROMETHEUS_QUERIES),
        description="PromQL per metric (requests, errors, crashes, latency_ms), with $units "
        "(a regex of unit names), $service and $window; grouped by the unit label.",
    )
    prometheus_unit_label: str = Field(
        default="unit", description="The label whose value is a unit's service/region/scale_unit."
    )
    sim_seed: int = Field(default=1, description="Seed of the simulated fleet's traffic.")
    sim_requests_per_second: float = Field(
        default=1_000_000,
        gt=0,
        description="Requests a second the simulated fleet serves per service (the demo "
        "accelerates time by serving more).",
    )

    notify_contact_email: str = Field(
        default="security@vulnops.example",
        description="The address advisories give customers for questions.",
    )
    notify_batch_size: int = Field(
        default=500, gt=0, le=10_000, description="Deliveries a job leases at once."
    )
    notify_parallel_jobs: int = Field(
        default=2, gt=0, le=64, description="Delivery jobs per channel queued at once."
    )
    notify_webhook_concurrency: int = Field(
        default=50, gt=0, le=1000, description="Webhook requests a job has in flight."
    )
    notify_webhook_timeout_seconds: float = Field(
        default=10, gt=0, description="How long a webhook receiver has to answer."
    )
    notify_webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on private, loopback or link-local addresses.",
    )
    demo_inbox: bool = Field(
        default=False,
        description="Run the demo's inbox inside the server: a mail catcher on "
        "`demo_smtp_port` and a webhook receiver at /inbox/webhooks/{tenant}, shown to "
        "administrators at /inbox (`serve --demo` turns it on).",
    )
    demo_smtp_port: int = Field(
        default=2525, ge=1, le=65535, description="The demo mail catcher's port (on 127.0.0.1)."
    )
    notify_smtp_connections: int = Field(
        default=4, gt=0, le=100, description="SMTP connections a delivery job uses at once."
    )
    notify_email_per_domain_per_minute: int = Field(
        default=600, gt=0, description="Emails a minute to one recipient domain."
    )
    notify_max_attempts: int = Field(
        default=8, gt=0, le=100, description="Failed attempts after which a delivery is dead."
    )
    notify_retry_base_seconds: float = Field(
        default=30, gt=0, description="Wait after a delivery's first failure (then doubling)."
    )
    notify_retry_cap_seconds: float = Field(
        default=3600, gt=0, description="The longest wait between two attempts."
    )
    notify_lease_seconds: float = Field(
        default=30,
        gt=0,
        description="A job's hold on the deliveries it took, renewed after each chunk it sends "
        "(longer than the webhook timeout); a dead worker's deliveries are retried after it.",
    )
    notify_reminder_hours: float = Field(
        default=72, gt=0, description="Remind tenants who have not acknowledged after this long."
    )
    notify_max_reminders: int = Field(
        default=3, ge=0, le=20, description="Reminders per advisory version and tenant."
    )

    four_eyes: list[FourEyesStep] = Field(
        default_factory=lambda: list(get_args(FourEyesStep)),
        description="The steps a second person must approve (not who wrote or asked for them); "
        "a JSON list, e.g. '[]' for a single-person installation.",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            path = Path(config_file).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"{CONFIG_FILE_ENV}={config_file}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def session_secret(self) -> str:
        """The configured secret, or one generated once and kept (mode 0600) in the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            # Written whole under another name (mkstemp: mode 0600), then linked into place:
            # web processes starting together read the one key, never a half-written file.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd, written = tempfile.mkstemp(dir=self.data_dir, prefix=".secret_key.")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
                with contextlib.suppress(FileExistsError):  # another process was first
                    os.link(written, path)
            finally:
                os.unlink(written)
        return path.read_text().strip()

    @property
    def smtp_enabled(self) -> bool:
        return self.smtp_host is not None

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def deployment_warnings(self) -> list[str]:
        """What an operator should fix before this faces the public (logged at start-up, shown
        on the administrators' page)."""
        warnings = []
        if not self.public_url.lower().startswith("https://"):
            warnings.append(
                f"VULNOPS_PUBLIC_URL is {self.public_url}, not https: security.txt fails RFC "
                "9116 (its URIs must be https), and links in advisories and CSAF documents "
                "point there"
            )
        return warnings

    def advisory_url(self, tracking_id: str) -> str:
        """Where a case's public advisory is (once it is public)."""
        return f"{self.public_url.rstrip('/')}/security/advisories/{tracking_id}"

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain values, with every secret masked."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "database_url" and value is not None:
                shown[name] = mask_url(value.get_secret_value())
            elif isinstance(value, SecretStr):
                shown[name] = "********"
            elif isinstance(value, Path):
                shown[name] = str(value)
            else:
                shown[name] = value
        return shown


def mask_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:********@h/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
