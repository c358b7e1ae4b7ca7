"""The free-disk guard every upload passes before anything of it is stored.

Attachments are files in the data directory, and scans, SBOMs, test reports and fleet imports
become rows of a database that (embedded) lives there too: a disk filled by uploads stops the
database and every other write with it. So an upload is refused (507) while storing it would
leave less than ``VULNOPS_MIN_FREE_DISK_BYTES`` free there.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from fastapi import Request

from vulnops.errors import InsufficientStorage
from vulnops.settings import Settings

log = logging.getLogger(__name__)


def _existing(path: Path) -> Path:
    """The path, or its nearest parent that exists (the data directory is made on first use)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def ensure_upload_room(request: Request) -> None:
    """Refuse the request's upload when it would take the data directory's disk under its
    reserve. The declared length counts as what the upload takes (an upper bound: it includes
    the form around the files); a body sent without one counts as nothing, and the body limit
    still bounds it. The caller learns why, not how full the disk is; the log says that."""
    settings: Settings = request.app.state.settings
    declared = request.headers.get("content-length", "")
    incoming = int(declared) if declared.isdigit() else 0
    free = shutil.disk_usage(_existing(settings.data_dir)).free
    if free - incoming < settings.min_free_disk_bytes:
        log.warning(
            "upload of %d bytes to %s refused: %d bytes free on the data directory's disk, "
            "VULNOPS_MIN_FREE_DISK_BYTES is %d",
            incoming,
            request.url.path,
            free,
            settings.min_free_disk_bytes,
        )
        raise InsufficientStorage(
            "the server is short of disk space and takes no uploads until an administrator "
            "frees some; nothing was stored — try again later"
        )
