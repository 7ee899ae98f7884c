"""`verify`: what a clip can prove about itself. The C2PA library does the checking; this reads its verdict.

A clip is *valid* when it carries a manifest whose signature verifies and whose hard binding (the hash
of every byte of the mp4 but the manifest) still matches: one changed byte of video data breaks it.
*Trusted* is a separate question: does the signing certificate chain up to a root you trust? With
`trust=` that root is yours; without it, this machine's development CA (if it has one) stands in,
which proves only that this machine signed it. Anywhere else such a clip validates as untrusted.
The invisible mark is read from the frames whether or not a manifest is left.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..media_read import ffmpeg_io
from .keys import DEV_ORGANIZATION, config_dir
from .manifest import RECIPE_LABEL, SOURCE_TYPE, WATERMARK_LABEL, read_store

__all__ = ["Verification", "verify"]

MAX_FRAMES, MAX_SIDE = 128, 4096  # frames read for the invisible mark; larger files are refused
UNTRUSTED_ELSEWHERE = ("signed with this machine's sorakit development CA: it proves only that this "
                       "machine signed it; anywhere else this clip validates as untrusted")


@dataclass
class Verification:
    """The verdict on one clip. `valid`: manifest present, signature valid, hard binding intact."""

    path: str
    manifest: bool = False
    signature_valid: bool = False
    hard_binding: str = "absent"  # "intact", "broken", or "absent" (no manifest)
    trusted: bool = False
    trust_root: str = "none given"
    signer: str = ""
    development_key: bool = False
    source_type: str = ""
    software_agent: str = ""
    model: str = ""
    model_hash: str = ""
    recipe: dict | None = None
    lineage: str = ""
    ingredients: list[dict] = field(default_factory=list)
    watermark: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.manifest and self.signature_valid and self.hard_binding == "intact" and not (
            set(self.failures) - {"signingCredential.untrusted"})

    @property
    def ai_generated(self) -> bool:
        return self.source_type == SOURCE_TYPE

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}

    def summary(self) -> str:
        yes = {True: "yes", False: "NO"}
        lines = [f"clip:            {self.path}", f"C2PA manifest:   {'present' if self.manifest else 'NONE'}"]
        if self.manifest:
            trust = f"{yes[self.trusted]} (root: {self.trust_root})"
            lines += [f"signature valid: {yes[self.signature_valid]}",
                      f"hard binding:    {self.hard_binding}" + ("" if self.hard_binding == "intact"
                                                                  else " (the file changed after signing)"),
                      f"trusted:         {trust}", f"signer:          {self.signer}",
                      f"source type:     {self.source_type or 'not stated'}",
                      f"made by:         {self.software_agent}; model {self.model or '?'} "
                      f"(weights {self.model_hash or '?'})"]
            if self.recipe:
                lines.append(f"recipe:          {self.recipe.get('prompt', '')!r}, seed {self.recipe.get('seed')}, "
                             f"id {self.recipe.get('id')}")
            lines.append(f"lineage:         {self.lineage or 'none (made from a prompt)'}")
            for ing in self.ingredients:
                has = "with its own manifest" if ing["has_manifest"] else "identified by id only"
                lines.append(f"  ingredient:    {ing['relationship']} {ing['title']} ({has})")
        lines.append(f"watermark:       {_watermark_line(self.watermark)}")
        lines += [f"failure:         {code}" for code in self.failures]
        lines += [f"note:            {note}" for note in self.notes]
        lines.append(f"verdict:         {'VALID' if self.valid else 'NOT VALID'}")
        return "\n".join(lines)


def _watermark_line(mark: dict[str, Any]) -> str:
    visible = {True: "visible mark drawn", False: "no visible mark", None: "visible mark not stated"}
    parts = [visible[mark.get("visible")]]
    invisible = mark.get("invisible") or {}
    if invisible.get("found"):
        match = {True: "matches the manifest", False: "DOES NOT match the manifest's "
                 f"{mark.get('expected_id')}", None: "no manifest to compare"}[mark.get("matches")]
        parts.append(f"invisible id {invisible['id']} ({match}; agreement {invisible['agreement']:.2f})")
    else:
        parts.append(f"invisible mark: {invisible.get('reason', 'not found')}")
    return "; ".join(parts)


def _codes(results: dict, kind: str) -> list[str]:
    return [entry.get("code", "") for entry in (results.get("activeManifest") or {}).get(kind) or []]


def _trust(trust: str | os.PathLike | None) -> tuple[bytes | None, str]:
    if trust is not None:
        path = Path(trust)
        if not path.is_file() or path.stat().st_size > 1024 * 1024:
            raise ValueError(f"--trust {trust}: not a PEM file of trusted root certificates")
        data = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise ValueError(f"--trust {trust}: no PEM certificate in it")
        return data, str(path)
    local = config_dir() / "signing" / "dev-ca.pem"
    if local.is_file():  # never created by verify: only a machine that signed has one
        return local.read_bytes(), "this machine's sorakit development CA"
    return None, "none given"


def verify(path: str | os.PathLike, trust: str | os.PathLike | None = None) -> Verification:
    """Check the clip at `path`: its C2PA manifest (with the C2PA library) and its invisible mark."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no clip at {path}")
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"verify reads .mp4 clips; got {path.name!r}")
    trust_pem, root = _trust(trust)
    report = Verification(str(path), trust_root=root)
    store = read_store(path, trust_pem)
    expected_id, visible = None, None
    if store is None:
        report.notes.append("no C2PA manifest: it was never signed, or it was stripped (a re-encode or "
                            "remux drops it)")
    else:
        expected_id, visible = _read_manifest(report, store, trust_pem is not None)
    report.watermark = {"visible": visible, "expected_id": expected_id, **_invisible(path, expected_id)}
    return report


def _read_manifest(report: Verification, store: dict, trust_checked: bool) -> tuple[str | None, bool | None]:
    report.manifest = True
    results = store.get("validation_results") or {}
    success, failure = _codes(results, "success"), _codes(results, "failure")
    report.failures = failure
    report.signature_valid = "claimSignature.validated" in success and not any(
        c.startswith(("claimSignature", "signingCredential.invalid", "signingCredential.revoked")) for c in failure)
    broken = any(c.endswith("Hash.mismatch") or c.startswith("assertion.hashedURI.mismatch") for c in failure)
    report.hard_binding = "broken" if broken else "intact" if any(c.endswith("Hash.match") for c in success) \
        else "not checked"
    report.trusted = trust_checked and "signingCredential.trusted" in success
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    info = manifest.get("signature_info") or {}
    report.signer = f"{info.get('common_name', '?')} (issuer: {info.get('issuer', '?')})"
    report.development_key = info.get("issuer") == DEV_ORGANIZATION
    if report.development_key:
        report.notes.append(UNTRUSTED_ELSEWHERE)
    assertions = {a.get("label", ""): a.get("data") for a in manifest.get("assertions", [])}
    actions = next((d.get("actions", []) for label, d in assertions.items() if label.startswith("c2pa.actions")), [])
    made = next((a for a in actions if a.get("digitalSourceType")), {})
    report.source_type = made.get("digitalSourceType", "")
    agent = made.get("softwareAgent") or {}
    report.software_agent = f"{agent.get('name', '?')} {agent.get('version', '')}".strip()
    report.model = (made.get("parameters") or {}).get("model", "")
    report.model_hash = (made.get("parameters") or {}).get("model_hash", "")
    _read_recipe(report, assertions.get(RECIPE_LABEL))
    report.ingredients = [{"title": ing.get("title", ""), "relationship": ing.get("relationship", ""),
                           "description": ing.get("description", ""),
                           "has_manifest": bool(ing.get("active_manifest"))} for ing in manifest.get("ingredients", [])]
    mark = assertions.get(WATERMARK_LABEL) or {}
    return mark.get("invisible_id"), mark.get("visible")


def _read_recipe(report: Verification, data: Any) -> None:
    if data is None:
        return
    from ..recipe import Recipe

    report.recipe = data
    try:
        report.lineage = Recipe.from_dict(data).lineage
    except ValueError as exc:
        report.notes.append(f"the recipe in the manifest does not check: {exc}")


def _invisible(path: Path, expected_id: str | None) -> dict[str, Any]:
    from . import invisible

    if not invisible.available():
        return {"invisible": {"found": False, "reason": "not checked (pip install 'sorakit[provenance]')"}}
    try:
        frames = _frames(path)
        mark = invisible.read_invisible_mark(frames)
    except ValueError as exc:
        return {"invisible": {"found": False, "reason": f"not readable: {exc}"}}
    found = mark.to_dict()
    if not mark.found:
        found["reason"] = "not found"
    matches = None if expected_id is None else mark.mark_id == expected_id
    result: dict[str, Any] = {"invisible": found, "matches": matches}
    if expected_id is not None:
        result["bit_accuracy"] = mark.bit_accuracy(expected_id)
    return result


def _frames(path: Path) -> np.ndarray:
    """The file's frames as stored (uint8, not downscaled: the mark lives in its fine detail), bounded."""
    imageio_ffmpeg = ffmpeg_io()
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration):
            raise ValueError(f"{path.name} is not a video ffmpeg can read") from None
        width, height = meta["size"]
        if max(width, height) > MAX_SIDE:
            raise ValueError(f"frames of {width}x{height} are larger than {MAX_SIDE} px")
        frames = []
        for raw in reader:
            frames.append(np.frombuffer(raw, np.uint8).reshape(height, width, 3))
            if len(frames) >= MAX_FRAMES:
                break
    finally:
        reader.close()
    if not frames:
        raise ValueError(f"{path.name} has no frames")
    return np.stack(frames)
