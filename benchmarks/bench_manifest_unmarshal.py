"""How long ``parse_manifest`` takes on a ~4 MiB OCI index (run by hand, not a test).

Usage: ``python benchmarks/bench_manifest_unmarshal.py``. The index is built with the
library's own builder (Go's formatting) just under the 4 MiB limit. Each measurement is
the best of several runs; the baseline is a plain ``json.loads`` of the same bytes, measured
in the same run, so the ratio says how much the validation and the typed values cost on
top of decoding the JSON at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.manifest import MAX_MANIFEST_SIZE, OCIIndexBuilder, parse_manifest

RUNS = 7
ARCHITECTURES = [("amd64", ""), ("arm64", "v8"), ("arm", "v7"), ("ppc64le", ""), ("s390x", "")]


def child(i: int) -> Descriptor:
    architecture, variant = ARCHITECTURES[i % len(ARCHITECTURES)]
    return Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST,
        digest=Digest.from_bytes(f"child-{i}".encode()),
        size=1000 + i,
        platform=Platform(architecture=architecture, os="linux", variant=variant),
        annotations={"org.opencontainers.image.ref.name": f"build-{i}"},
    )


def build(count: int) -> bytes:
    builder = OCIIndexBuilder()
    for i in range(count):
        builder.append_reference(child(i))
    return builder.build().payload()


def build_index(limit: int = MAX_MANIFEST_SIZE) -> bytes:
    """An OCI index with about as many platform children as fit under ``limit`` bytes."""
    per_child = len(build(1000)) / 1000
    count = int(limit / per_child)
    payload = build(count)
    while len(payload) > limit:
        count -= max(1, (len(payload) - limit) // int(per_child) + 1)
        payload = build(count)
    return payload


def best_of(function: Callable[[], object]) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    payload = build_index()
    count = len(parse_manifest(mediatypes.OCI_IMAGE_INDEX, payload).references())
    print(f"OCI index: {len(payload):,} bytes, {count:,} children (limit {MAX_MANIFEST_SIZE:,})")
    baseline = best_of(lambda: json.loads(payload))
    hashing = best_of(lambda: Digest.from_bytes(payload))
    typed = best_of(lambda: parse_manifest(mediatypes.OCI_IMAGE_INDEX, payload))
    detected = best_of(lambda: parse_manifest(None, payload))
    for label, seconds in [
        ("json.loads (baseline)", baseline),
        ("sha256 of the payload", hashing),
        ("parse_manifest(content type)", typed),
        ("parse_manifest(detected)", detected),
    ]:
        print(f"{label:<34} {seconds * 1000:8.1f} ms {seconds / baseline:6.1f}x baseline")
    verdict = "OK" if typed < 1.0 and detected < 1.0 else "TOO SLOW"
    print(f"budget: well under 1 s per call -> {verdict}")


if __name__ == "__main__":
    main()
