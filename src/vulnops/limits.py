"""The limits and quotas of the configuration: how much one request, upload, template, address
or account may take, so that nobody can exhaust the service or fill its disk.

They are a part of :class:`vulnops.settings.Settings` (which derives from this class, with the
same ``VULNOPS_*`` names); apart here so that the limits are found, and read, in one place.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class Limits(BaseSettings):
    login_max_failures_per_account: int = Field(
        default=5,
        gt=0,
        description="Failed sign-ins on an account within the window after which each further "
        "attempt must wait (1 s, doubling up to VULNOPS_LOGIN_MAX_DELAY_SECONDS); the account is "
        "never locked.",
    )
    login_max_delay_seconds: int = Field(
        default=60, gt=0, description="The longest wait between sign-in attempts on one account."
    )
    login_max_failures_per_address: int = Field(
        default=20,
        gt=0,
        description="Failed sign-ins per client address within the window before that address "
        "gets 429 until the window has passed.",
    )
    login_failure_window_seconds: int = Field(
        default=900, gt=0, description="Window for the login rate limits."
    )
    registrations_per_address_per_hour: int = Field(
        default=10,
        gt=0,
        description="Self-registrations answered per client address within an hour; further "
        "ones get 429 until the oldest is an hour old.",
    )
    reports_per_hour_per_account: int = Field(
        default=60,
        ge=0,
        description="Reports one researcher account may submit within an hour; further ones "
        "get 429 until the oldest of them is an hour old. 0: no limit.",
    )
    partner_reports_per_hour_per_account: int = Field(
        default=0,
        ge=0,
        description="The same for a partner account (an organisation an administrator signed "
        "up, often relaying many researchers' reports); 0, the default: no limit. Staff's "
        "internal reports are never limited.",
    )
    max_attachment_bytes: int = Field(
        default=25 * 1024 * 1024, gt=0, description="Largest file attached to a report."
    )
    max_sarif_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, description="Largest SARIF log accepted in one upload."
    )
    scan_max_reports: int = Field(
        default=1000,
        gt=0,
        description="Reports one scanner upload may create; a log with more new findings is "
        "refused whole (findings already imported do not count).",
    )
    attachment_bytes_per_account_per_day: int = Field(
        default=100 * 1024 * 1024,
        gt=0,
        description="Attachment bytes one account may upload within 24 hours (413 beyond).",
    )
    attachment_bytes_per_report: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Attachment bytes one report may hold, whoever uploaded them (413 beyond).",
    )
    min_free_disk_bytes: int = Field(
        default=1024**3,
        ge=0,
        description="Uploads are refused (507) while storing them would leave less than this "
        "free on the data directory's disk.",
    )
    template_max_output_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest text an advisory template may render to (and largest string or "
        "list it may build on the way); a template over it is refused when it is saved.",
    )
    template_max_render_seconds: float = Field(
        default=2.0, gt=0, description="Longest an advisory template may take to render."
    )
