"""OpenPGP signatures for what we publish (pysequoia, the Sequoia PGP bindings): the CSAF
documents' detached signatures and a cleartext-signed ``security.txt``.

The key is the operator's: an ASCII-armored secret key file (``VULNOPS_OPENPGP_KEY_FILE``,
unprotected by a passphrase, so keep it readable only by vulnops). Without one nothing is
signed, and the CSAF provider metadata claims only the publisher role.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pysequoia import Cert, SignatureMode, Tsk, sign

from vulnops.errors import Invalid


@dataclass(frozen=True)
class Signer:
    key: Tsk
    cert: Cert

    @property
    def fingerprint(self) -> str:
        return str(self.cert.fingerprint).upper()

    @property
    def public_key(self) -> str:
        """The certificate, armored: the public part only."""
        return str(self.cert)

    def detached(self, data: bytes) -> str:
        return bytes(sign(self.key.signer(), data, mode=SignatureMode.DETACHED)).decode()

    def cleartext(self, text: str) -> str:
        return bytes(sign(self.key.signer(), text.encode(), mode=SignatureMode.CLEAR)).decode()


@cache
def _load(path: Path, modified: float) -> Signer:
    """One read per version of the file (``modified``: a replaced key is read again)."""
    try:
        key = Tsk.from_file(str(path))
    except Exception as error:  # pysequoia raises its own errors, not OSError subclasses
        raise Invalid(
            f"VULNOPS_OPENPGP_KEY_FILE: {path} is not an OpenPGP secret key ({error})"
        ) from None
    return Signer(key=key, cert=key.extract_certificate())


def signer(path: Path | None) -> Signer | None:
    """The configured key, or None when there is none."""
    if path is None:
        return None
    return _load(path, path.stat().st_mtime)
