"""What disclosure needs to know of the organisation: the CVE policy, the CNA and its CVE
Services account, the vendor's name, and the OpenPGP key that signs what is published.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart here as the limits are in :mod:`vulnops.limits`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class DisclosureConfig(BaseSettings):
    cve_policy: Literal["customer-action", "customer-action-or-critical"] = Field(
        default="customer-action",
        description="When a case gets a CVE: only when customers must act, or also when it is "
        "critical.",
    )
    cna_org_id: str | None = Field(
        default=None, description="Your CNA's organisation UUID in CVE Services."
    )
    cna_short_name: str = Field(
        default="vulnops", description="Your CNA's short name in CVE Services."
    )
    cve_services_url: str = Field(
        default="https://cveawg.mitre.org/api/", description="The CVE Services API."
    )
    cve_services_user: str | None = Field(
        default=None, description="Your CVE Services user name (an email address)."
    )
    cve_services_api_key: SecretStr | None = Field(
        default=None, description="Your CVE Services API key."
    )
    vendor_name: str = Field(
        default="vulnops", description="The vendor CVE records and advisories name."
    )
    openpgp_key_file: Path | None = Field(
        default=None,
        description="An ASCII-armored OpenPGP secret key (no passphrase; readable only by "
        "vulnops): it signs the CSAF documents and security.txt, and its public part is "
        "published for them and as security.txt's Encryption key.",
    )
