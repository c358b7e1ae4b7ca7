"""A deterministic demo fleet: the same seed and scale always give the same files.

``small`` is what ``make serve`` loads (10 regions, 5 services, ~150 units, 300 tenants);
``large`` is what the benchmarks use (62 regions — 30 pairs and 2 canaries —, 10 services,
~3,000 units, 100,000 tenants, 1,000,000 resources). The output is the same layout
``vulnops fleet import`` reads: ``topology.yaml``, ``tenants.csv``, ``resources.csv`` and
``sboms/<service>@<version>.cdx.json``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vulnops.fleet.importer import RESOURCE_COLUMNS
from vulnops.fleet.tenant_import import TENANT_COLUMNS


@dataclass(frozen=True)
class Scale:
    pairs: int
    canaries: int
    services: int
    scale_units: tuple[int, int]
    tenants: int
    resources_per_tenant: int


SCALES = {
    "small": Scale(
        pairs=4, canaries=2, services=5, scale_units=(2, 4), tenants=300, resources_per_tenant=10
    ),
    "large": Scale(
        pairs=30,
        canaries=2,
        services=10,
        scale_units=(4, 6),
        tenants=100_000,
        resources_per_tenant=10,
    ),
}

SERVICES = [
    ("storage", "Object Storage", "storage-team"),
    ("compute", "Virtual Machines", "compute-team"),
    ("identity", "Identity and Access", "identity-team"),
    ("database", "Managed PostgreSQL", "data-team"),
    ("networking", "Virtual Networks", "network-team"),
    ("monitoring", "Metrics and Logs", "observability-team"),
    ("backup", "Backup", "storage-team"),
    ("events", "Event Grid", "messaging-team"),
    ("kubernetes", "Managed Kubernetes", "containers-team"),
    ("cdn", "Content Delivery", "edge-team"),
]
GEOGRAPHIES = [
    ("eu", "europe"),
    ("us", "americas"),
    ("ap", "asia-pacific"),
    ("sa", "americas"),
    ("me", "middle-east"),
    ("af", "africa"),
    ("ca", "americas"),
    ("jp", "asia-pacific"),
]
DIRECTIONS = ["west", "east", "north", "south", "central"]
VERSIONS = ["2026.11.2", "2026.11.1", "2026.10.4"]
# Packages per service version; the older versions keep a few vulnerable releases.
PACKAGES = {
    "2026.11.2": [
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.2",
        "pkg:npm/lodash@4.17.21",
        "pkg:pypi/requests@2.32.3",
        "pkg:golang/golang.org/x/net@v0.33.0",
        "pkg:deb/debian/openssl@3.0.15",
        "pkg:pypi/jinja2@3.1.6",
    ],
    "2026.11.1": [
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
        "pkg:npm/lodash@4.17.21",
        "pkg:pypi/requests@2.31.0",
        "pkg:golang/golang.org/x/net@v0.23.0",
        "pkg:deb/debian/openssl@3.0.11",
        "pkg:pypi/jinja2@3.1.4",
    ],
    "2026.10.4": [
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "pkg:npm/lodash@4.17.20",
        "pkg:pypi/requests@2.31.0",
        "pkg:golang/golang.org/x/net@v0.17.0",
        "pkg:deb/debian/openssl@3.0.11",
        "pkg:pypi/jinja2@3.1.2",
    ],
}
RESOURCE_TAGS = [
    "tls=1.2",
    "tls=1.3",
    "public-endpoint",
    "private-link",
    "encryption=cmk",
    "legacy-api",
]
FIRST_TENANTS = [("contoso", "Contoso Retail"), ("fabrikam", "Fabrikam Health")]
NAMES = [
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Adventure Works",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Coho",
    "Lucerne",
    "Margie's Travel",
    "Alpine Ski",
    "Blue Yonder",
]


def _regions(scale: Scale, rng: random.Random) -> list[dict[str, Any]]:
    regions: list[dict[str, Any]] = [
        {
            "key": f"canary-{side}",
            "name": f"Canary {side.title()}",
            "geography": "canary",
            "canary": True,
            "traffic_weight": 0.2,
        }
        for side in ("east", "west")[: scale.canaries]
    ]
    for index in range(scale.pairs):
        prefix, geography = GEOGRAPHIES[index % len(GEOGRAPHIES)]
        direction = DIRECTIONS[(index // len(GEOGRAPHIES)) % len(DIRECTIONS)]
        number = index // (len(GEOGRAPHIES) * len(DIRECTIONS)) + 1
        first = f"{prefix}-{direction}-{2 * number - 1}"
        second = f"{prefix}-{direction}-{2 * number}"
        for key, pair in ((first, second), (second, first)):
            regions.append(
                {
                    "key": key,
                    "name": key.replace("-", " ").title(),
                    "geography": geography,
                    "pair": pair,
                    "canary": False,
                    "traffic_weight": round(rng.uniform(0.5, 2.0), 2),
                }
            )
    return regions


def topology(seed: int, scale_name: str) -> dict[str, Any]:
    scale = SCALES[scale_name]
    rng = random.Random(f"{seed}:topology")
    services = SERVICES[: scale.services]
    regions = _regions(scale, rng)
    units: list[dict[str, Any]] = []
    for key, _, _ in services:
        weights: list[float] = []
        service_units: list[dict[str, Any]] = []
        for region in regions:
            for number in range(rng.randint(*scale.scale_units)):
                # Most units run the newest version; a rollout is under way somewhere.
                version = rng.choices(VERSIONS, weights=(80, 15, 5))[0]
                tags = ["arch=arm64"] if rng.random() < 0.05 else []
                service_units.append(
                    {
                        "service": key,
                        "region": region["key"],
                        "scale_unit": f"su-{number + 1:02d}",
                        "version": version,
                        "tags": tags,
                    }
                )
                weights.append(region["traffic_weight"] * rng.uniform(0.5, 1.5))
        total = sum(weights)
        for unit, weight in zip(service_units, weights, strict=True):
            unit["traffic_share"] = round(max(weight / total, 1e-6), 6)
        units += service_units
    return {
        "services": [{"key": k, "name": n, "owner_team": t} for k, n, t in services],
        "regions": regions,
        "units": units,
    }


def tenant_rows(seed: int, scale_name: str) -> Iterator[list[str]]:
    scale = SCALES[scale_name]
    rng = random.Random(f"{seed}:tenants")
    for index in range(scale.tenants):
        if index < len(FIRST_TENANTS):
            key, name = FIRST_TENANTS[index]
        else:
            key, name = f"tenant-{index:06d}", f"{rng.choice(NAMES)} {index}"
        webhook = f"https://hooks.{key}.example/vulnops" if rng.random() < 0.3 else ""
        yield [key, name, f"security@{key}.example", webhook]


def resource_rows(seed: int, scale_name: str, topo: dict[str, Any]) -> Iterator[list[str]]:
    scale = SCALES[scale_name]
    rng = random.Random(f"{seed}:resources")
    units_by_service_region: dict[tuple[str, str], list[str]] = {}
    for unit in topo["units"]:
        units_by_service_region.setdefault((unit["service"], unit["region"]), []).append(
            unit["scale_unit"]
        )
    services = [s["key"] for s in topo["services"]]
    homes = [r for r in topo["regions"] if not r["canary"]]
    number = 0
    for tenant_index in range(scale.tenants):
        tenant = (
            FIRST_TENANTS[tenant_index][0]
            if tenant_index < len(FIRST_TENANTS)
            else f"tenant-{tenant_index:06d}"
        )
        home = rng.choice(homes)
        regions = [home["key"], home["pair"]]
        chosen = rng.sample(services, k=min(3, len(services)))
        for _ in range(scale.resources_per_tenant):
            service = rng.choice(chosen)
            region = rng.choice(regions)
            scale_unit = rng.choice(units_by_service_region[(service, region)])
            tags = [tag for tag in RESOURCE_TAGS if rng.random() < 0.25]
            number += 1
            yield [tenant, service, region, scale_unit, f"res-{number:08d}", ";".join(tags)]


def sboms(seed: int, scale_name: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    scale = SCALES[scale_name]
    rng = random.Random(f"{seed}:sboms")
    for key, name, _ in SERVICES[: scale.services]:
        for version in VERSIONS:
            components = [
                {
                    "type": "library",
                    "bom-ref": purl,
                    "name": purl.split("/")[-1].split("@")[0],
                    "version": purl.rsplit("@", 1)[1],
                    "purl": purl,
                }
                for purl in PACKAGES[version]
            ]
            yield (
                key,
                version,
                {
                    "bomFormat": "CycloneDX",
                    "specVersion": "1.5",
                    "serialNumber": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}",
                    "version": 1,
                    "metadata": {
                        "component": {
                            "type": "application",
                            "name": name,
                            "version": version,
                            "bom-ref": f"{key}@{version}",
                        }
                    },
                    "components": components,
                },
            )


def csv_text(rows: Iterator[list[str]], header: tuple[str, ...]) -> Iterator[str]:
    """CSV lines, the header first, in pieces of a few thousand rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % 5000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write(directory: Path, *, seed: int, scale_name: str) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    topo = topology(seed, scale_name)
    (directory / "topology.yaml").write_text(yaml.safe_dump(topo, sort_keys=False))
    with (directory / "tenants.csv").open("w") as handle:
        for piece in csv_text(tenant_rows(seed, scale_name), TENANT_COLUMNS):
            handle.write(piece)
    with (directory / "resources.csv").open("w") as handle:
        for piece in csv_text(resource_rows(seed, scale_name, topo), RESOURCE_COLUMNS):
            handle.write(piece)
    (directory / "sboms").mkdir(exist_ok=True)
    count = 0
    for service, version, document in sboms(seed, scale_name):
        (directory / "sboms" / f"{service}@{version}.cdx.json").write_text(
            json.dumps(document, indent=1)
        )
        count += 1
    scale = SCALES[scale_name]
    return {
        "regions": len(topo["regions"]),
        "services": len(topo["services"]),
        "units": len(topo["units"]),
        "tenants": scale.tenants,
        "resources": scale.tenants * scale.resources_per_tenant,
        "sboms": count,
    }
