"""C2PA manifests for exported clips, written and read with the C2PA library (`c2pa-python`).

What a clip's manifest says:
- `c2pa.actions`: `c2pa.created` with digitalSourceType trainedAlgorithmicMedia (IPTC), sorakit and its
  version as the software agent, and the model name and weights hash as parameters. A remix or an
  extension (one parent, `Recipe.derivation`) is instead `c2pa.opened` (its parent) then `c2pa.edited`
  with the same source type and agent: C2PA's way of saying "made from that clip by a model".
- ingredients: each parent clip, `parentOf` for a remix or extension and `componentOf` otherwise. When
  the parent's file is given, the library reads it (its own manifest travels inside this one); when it
  is not, the ingredient is described by the parent's recipe id alone.
- `org.sorakit.recipe`: the whole recipe (`Recipe.to_dict()`), the custom assertion sorakit reads back.
- `org.sorakit.watermark`: whether the visible mark was drawn and the id the invisible mark carries.
The hard binding (a hash of the whole mp4 but the manifest) is the library's own `c2pa.hash.bmff`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from .keys import SigningKey

__all__ = ["RECIPE_LABEL", "SOURCE_TYPE", "WATERMARK_LABEL", "build_manifest", "manifest_recipe", "read_store",
           "sign_mp4"]

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
RECIPE_LABEL = "org.sorakit.recipe"
WATERMARK_LABEL = "org.sorakit.watermark"
MP4 = "video/mp4"
AGENT = {"name": "sorakit", "version": __version__}


def _ingredients(recipe, parent_files: Sequence[Path]) -> tuple[list[dict], list[tuple[dict, Path]]]:
    """(ingredients described in JSON, ingredients read from files) for the recipe's parents.

    Files are matched to parents in order; parents beyond the files are described by their id.
    """
    if recipe is None:
        if parent_files:
            raise ValueError("parent files were given but the clip has no recipe naming its parents")
        return [], []
    if len(parent_files) > len(recipe.parents):
        raise ValueError(f"{len(parent_files)} parent files for {len(recipe.parents)} parents in the recipe")
    relationship = "parentOf" if recipe.derivation else "componentOf"
    described, read = [], []
    for index, parent_id in enumerate(recipe.parents):
        entry = {"relationship": relationship, "label": f"parent-{index}", "format": MP4,
                 "description": f"sorakit clip {parent_id}"}
        if index < len(parent_files):
            read.append(({**entry, "title": Path(parent_files[index]).name}, Path(parent_files[index])))
        else:
            described.append({**entry, "title": f"sorakit clip {parent_id}"})
    return described, read


def _actions(recipe) -> list[dict]:
    parameters = {} if recipe is None else {"model": recipe.model or "unknown", "model_hash": recipe.model_hash}
    made = {"digitalSourceType": SOURCE_TYPE, "softwareAgent": AGENT, "parameters": parameters}
    if recipe is None or not recipe.derivation:
        return [{"action": "c2pa.created", **made}]
    return [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent-0"]}},
            {"action": "c2pa.edited", "description": recipe.lineage, **made}]


def build_manifest(recipe, *, title: str, watermark: dict[str, Any], described: Sequence[dict] = ()) -> dict:
    """The manifest definition (JSON-able) for a clip made by `recipe` (a Recipe, or None if unknown)."""
    assertions = [{"label": "c2pa.actions", "data": {"actions": _actions(recipe)}},
                  {"label": WATERMARK_LABEL, "data": watermark}]
    if recipe is not None:
        assertions.append({"label": RECIPE_LABEL, "data": recipe.to_dict()})
    manifest = {"claim_generator_info": [AGENT], "title": title, "format": MP4, "assertions": assertions}
    if described:
        manifest["ingredients"] = list(described)
    return manifest


def sign_mp4(source: Path, dest: Path, recipe, key: SigningKey, *, title: str, watermark: dict[str, Any],
             parent_files: Sequence[str | os.PathLike] = ()) -> None:
    """Write `source` (an mp4) to `dest` with a signed manifest for `recipe`."""
    import c2pa

    parent_files = [Path(p) for p in parent_files]
    for parent in parent_files:
        if not parent.is_file():
            raise ValueError(f"parent file {parent} does not exist")
    described, read = _ingredients(recipe, parent_files)
    manifest = build_manifest(recipe, title=title, watermark=watermark, described=described)
    info = c2pa.C2paSignerInfo(key.alg, key.chain_pem, key.key_pem, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            for ingredient, path in read:
                with open(path, "rb") as f:
                    builder.add_ingredient(ingredient, MP4, f)
            builder.sign_file(source, dest, signer)
    except c2pa.C2paError as exc:
        raise ValueError(f"C2PA signing failed: {exc}") from None


def read_store(path: str | os.PathLike, trust_pem: bytes | None = None) -> dict | None:
    """The manifest store of `path` as the C2PA library reports it (manifests, validation_state,
    validation_results), checking the signer against `trust_pem` roots when given; None if the file
    carries no manifest."""
    import c2pa

    settings: dict[str, Any] = {"verify": {"verify_trust": trust_pem is not None}}
    if trust_pem is not None:
        settings["trust"] = {"trust_anchors": trust_pem.decode("ascii", "replace")}
    try:
        with c2pa.Context.from_dict(settings) as context, open(path, "rb") as f:
            reader = c2pa.Reader.try_create(MP4, f, context=context)
            if reader is None:
                return None
            with reader:
                return json.loads(reader.json())
    except c2pa.C2paError as exc:
        text = str(exc)
        if "JumbfNotFound" in text or "ManifestNotFound" in text or "no JUMBF" in text:
            return None
        raise ValueError(f"{Path(path).name}: the C2PA manifest cannot be read: {text[:300]}") from None


def manifest_recipe(path: str | os.PathLike) -> dict | None:
    """The recipe recorded in the clip's active C2PA manifest (its custom assertion), or None when the
    file carries no manifest or the manifest no recipe. Read as the C2PA library reports it; whether the
    signature holds is `verify`'s question."""
    store = read_store(path)
    if store is None:
        return None
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    return next((a.get("data") for a in manifest.get("assertions", []) if a.get("label") == RECIPE_LABEL), None)
