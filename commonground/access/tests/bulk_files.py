"""Bulk Data exports for the tests: a manifest and its ndjson files, zipped or in a folder.

The manifests follow the completion manifest of the HL7 Bulk Data Access IG (``export.md``):
``transactionTime``, ``request``, ``requiresAccessToken``, ``output[] {type, url, count?}``,
``error[]`` and ``deleted[]``. The resources are the spec's rows (``test_fhir.spec_resources``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BASE = "https://ehr.example.org/bulk/4f2a"
T = "2025-04-01T06:00:00Z"  # 2025-03-31 23:00 in California: the cut-off day is 31 March
Content = Sequence[Mapping[str, Any]] | str | bytes


def ndjson(resources: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in resources)


def by_type(resources: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        out.setdefault(str(r["resourceType"]), []).append(r)
    return out


def files_of(resources: Sequence[Mapping[str, Any]], *, split: int = 2) -> dict[str, Content]:
    """One file per type, as servers name them; Appointments split over ``split`` files."""
    files: dict[str, Content] = {}
    for kind, items in by_type(resources).items():
        parts = split if kind == "Appointment" else 1
        size = -(-len(items) // parts)
        for n in range(parts):
            chunk = items[n * size : (n + 1) * size]
            if chunk:
                files[f"{kind}.{n:03d}.ndjson"] = chunk
    return files


def manifest(
    files: Mapping[str, Content],
    *,
    transaction_time: str | None = T,
    counts: bool = True,
    errors: Sequence[str] = (),
    deleted: Sequence[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The manifest listing ``files`` (except error and deleted files) by absolute URL."""
    output = []
    for name, content in files.items():
        if name in errors or name in deleted:
            continue
        entry: dict[str, Any] = {"type": name.split(".")[0], "url": f"{BASE}/{name}"}
        if counts and not isinstance(content, str | bytes):
            entry["count"] = len(content)
        output.append(entry)
    doc: dict[str, Any] = {
        "transactionTime": transaction_time,
        "request": "https://ehr.example.org/fhir/$export?_type=Appointment,Encounter",
        "requiresAccessToken": True,
        "output": output,
        "error": [{"type": "OperationOutcome", "url": f"{BASE}/{n}"} for n in errors],
    }
    if deleted:
        doc["deleted"] = [{"type": "Bundle", "url": f"{BASE}/{n}"} for n in deleted]
    if transaction_time is None:
        del doc["transactionTime"]
    doc.update(extra)
    return doc


def _bytes(content: Content) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    return ndjson(content).encode()


def export_zip(
    path: Path,
    files: Mapping[str, Content],
    manifest_doc: Mapping[str, Any] | None,
    *,
    manifest_name: str = "manifest.json",
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if manifest_doc is not None:
            archive.writestr(manifest_name, json.dumps(manifest_doc, indent=1))
        for name, content in files.items():
            archive.writestr(name, _bytes(content))
    return path


def export_folder(
    folder: Path, files: Mapping[str, Content], manifest_doc: Mapping[str, Any]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(_bytes(content))
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest_doc, indent=1), encoding="utf-8")
    return path


# -- bad exports, each with one problem (the spec's rows otherwise) ---------------------------


def spec_files() -> dict[str, Any]:
    from commonground.access.tests.test_fhir import spec_resources

    return dict(files_of(spec_resources()))


def missing_file(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    del files["Encounter.000.ndjson"]
    return export_zip(tmp / "x.zip", files, doc)


def short_file(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    files["Appointment.000.ndjson"] = files["Appointment.000.ndjson"][:1]
    return export_zip(tmp / "x.zip", files, doc)


def wrong_type(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    doc["output"][0]["type"] = "Encounter"
    return export_zip(tmp / "x.zip", files, doc)


def unlisted(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    files["Appointment.002.ndjson"] = files["Appointment.001.ndjson"]
    return export_zip(tmp / "x.zip", files, doc)


def no_zone(tmp: Path) -> Path:
    files = spec_files()
    return export_zip(tmp / "x.zip", files, manifest(files, transaction_time="2025-04-01T06:00:00"))


def two_manifests(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    path = export_zip(tmp / "x.zip", {**files, "again.json": json.dumps(doc)}, doc)
    return path


def truncated(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files, counts=False)
    files["Appointment.001.ndjson"] = ndjson(files["Appointment.001.ndjson"])[:-40]
    return export_zip(tmp / "x.zip", files, doc)


def duplicate_across_files(tmp: Path) -> Path:
    files = spec_files()
    files["Appointment.001.ndjson"] = [
        *files["Appointment.001.ndjson"],
        files["Appointment.000.ndjson"][0],
    ]
    return export_zip(tmp / "x.zip", files, manifest(files))


def zip_bomb(tmp: Path) -> Path:
    path = tmp / "x.zip"
    files = spec_files()
    export_zip(path, files, manifest({**files, "Patient.001.ndjson": []}))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Patient.001.ndjson", b"\n" * (300 << 20))  # 300 MB of line breaks
    return path


def listed_twice(tmp: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    doc["output"].append(dict(doc["output"][0]))
    return export_zip(tmp / "x.zip", files, doc)
