"""Provenance of exported clips: C2PA manifests read back with the C2PA library itself (never sorakit's
own reader), tampering, stripping, trust, lineage, the visible mark and the `sorakit verify` command."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import c2pa
import imageio_ffmpeg
import numpy as np
import pytest

import sorakit
from sorakit import cli, media
from sorakit.provenance import keys, visible
from sorakit.provenance.manifest import RECIPE_LABEL, SOURCE_TYPE, WATERMARK_LABEL
from sorakit.provenance.verify import verify
from sorakit.recipe import Recipe, video_digest

pytest.importorskip("imwatermark")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """A config dir of this module's own: the development CA is made in it on first use."""
    folder = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(keys.CONFIG_ENV, str(folder))
        mp.delenv(keys.CERT_ENV, raising=False)
        mp.delenv(keys.KEY_ENV, raising=False)
        yield folder


@pytest.fixture(scope="module")
def recipe():
    return Recipe("a red ball moves right", seed=5, steps=8, model="sorakit-shipped", model_hash="0123abcd")


@pytest.fixture(scope="module")
def signed(tmp_path_factory, config, recipe):
    """One exported clip (10 frames, 32x32 -> 256x256), signed with the development key."""
    from conftest import moving_square

    video = moving_square(10)
    return media.export(video, tmp_path_factory.mktemp("clips") / "clip.mp4", recipe=recipe), video


def _store(path, anchors: bytes | None = None) -> tuple[dict | None, str | None, list[str]]:
    """(active manifest, validation state, failure codes) as the C2PA library reports them."""
    settings = {"verify": {"verify_trust": anchors is not None}}
    if anchors is not None:
        settings["trust"] = {"trust_anchors": anchors.decode()}
    with c2pa.Context.from_dict(settings) as context, open(path, "rb") as f:
        reader = c2pa.Reader.try_create("video/mp4", f, context=context)
        if reader is None:
            return None, None, []
        with reader:
            results = reader.get_validation_results() or {}
            failures = [e["code"] for e in results.get("activeManifest", {}).get("failure", [])]
            return reader.get_active_manifest(), reader.get_validation_state(), failures


def _assertion(manifest: dict, label: str) -> dict:
    return next(a["data"] for a in manifest["assertions"] if a["label"].startswith(label))


def _copy(path, tmp_path, name="copy.mp4"):
    out = tmp_path / name
    shutil.copy(path, out)
    return out


def test_every_exported_mp4_carries_a_signed_manifest_the_c2pa_library_validates(signed, recipe, config):
    path, _ = signed
    manifest, state, failures = _store(path)
    assert state == "Valid" and failures == []
    created = _assertion(manifest, "c2pa.actions")["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert created["softwareAgent"] == {"name": "sorakit", "version": sorakit.__version__}
    assert created["parameters"] == {"model": "sorakit-shipped", "model_hash": "0123abcd"}
    stored = _assertion(manifest, RECIPE_LABEL)
    assert stored == media.read_metadata(path).to_dict()  # the recipe export stores beside it
    assert stored["prompt"] == recipe.prompt and stored["video_sha256"] == video_digest(signed[1])
    assert _assertion(manifest, WATERMARK_LABEL)["invisible_id"] == stored["id"][:8]
    # Trusted when this machine's development CA is the root; its files are the owner's alone.
    _, state, _ = _store(path, keys.development_ca().read_bytes())
    assert state == "Trusted"
    folder = config / "signing"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_one_changed_byte_of_video_data_makes_the_clip_invalid(signed, tmp_path):
    path = _copy(signed[0], tmp_path)
    data = bytearray(path.read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 1000] ^= 0x01  # one bit of the H.264 data
    path.write_bytes(bytes(data))
    _, state, failures = _store(path)
    assert state == "Invalid" and "assertion.bmffHash.mismatch" in failures
    report = verify(path)
    assert report.manifest and report.hard_binding == "broken" and not report.valid
    assert cli.main(["verify", str(path)]) == 1


def test_a_stripped_manifest_is_reported_and_the_invisible_mark_still_names_the_clip(signed, tmp_path):
    path = tmp_path / "stripped.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(signed[0]), "-c", "copy",
                    "-map_metadata", "-1", "-y", str(path)], check=True)
    assert _store(path)[0] is None  # the C2PA library finds no manifest
    report = verify(path)
    assert not report.manifest and not report.valid
    assert report.watermark["invisible"]["found"]
    assert report.watermark["invisible"]["id"] == media.read_metadata(signed[0]).id[:8]


def test_the_invisible_mark_survives_a_re_encode_at_crf_23(signed, tmp_path):
    path = tmp_path / "reencoded.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(signed[0]), "-c:v", "libx264",
                    "-crf", "23", "-pix_fmt", "yuv420p", "-y", str(path)], check=True)
    mark = verify(path).watermark["invisible"]
    assert mark["found"] and mark["id"] == media.read_metadata(signed[0]).id[:8]


def test_an_unmarked_clip_reads_as_no_mark(signed, tmp_path):
    plain = media.export(signed[1], tmp_path / "plain.mp4", provenance=False)
    report = verify(plain)
    assert not report.manifest and not report.watermark["invisible"]["found"]


def _ca(tmp_path, name):
    ca_pem, ca_key, _ = keys.make_certificate_authority(f"test CA {name}")
    (tmp_path / f"{name}.pem").write_bytes(ca_pem)
    return ca_pem, ca_key


def test_a_clip_signed_by_another_key_is_not_trusted_by_the_given_root(signed, tmp_path):
    ours, theirs = _ca(tmp_path, "ours"), _ca(tmp_path, "theirs")
    key = keys.issue_signing_key(*theirs)
    path = media.export(signed[1], tmp_path / "theirs.mp4", signing_key=key, watermark=False)
    _, state, failures = _store(path, ours[0])
    assert "signingCredential.untrusted" in failures and state != "Trusted"
    report = verify(path, trust=tmp_path / "ours.pem")
    assert report.valid and not report.trusted and report.trust_root.endswith("ours.pem")
    assert verify(path, trust=tmp_path / "theirs.pem").trusted
    assert _store(path, theirs[0])[1] == "Trusted"


def test_own_credentials_from_the_environment(signed, tmp_path, monkeypatch):
    ca = _ca(tmp_path, "org")
    key = keys.issue_signing_key(*ca, common_name="newsroom signer")
    (tmp_path / "chain.pem").write_bytes(key.chain_pem)
    (tmp_path / "key.pem").write_bytes(key.key_pem)
    monkeypatch.setenv(keys.CERT_ENV, str(tmp_path / "chain.pem"))
    with pytest.raises(ValueError, match="set both"):
        keys.default_signing_key()
    monkeypatch.setenv(keys.KEY_ENV, str(tmp_path / "key.pem"))
    path = media.export(signed[1][:4], tmp_path / "org.mp4", watermark=False)
    report = verify(path, trust=tmp_path / "org.pem")
    assert report.trusted and "newsroom signer" in report.signer and not report.development_key


def test_a_readable_development_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(keys.CONFIG_ENV, str(tmp_path))
    keys.development_key()  # made on first use
    os.chmod(tmp_path / "signing" / "dev-signer.key", 0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        keys.development_key()


def test_a_remix_lists_its_parent_as_an_ingredient(signed, tmp_path):
    parent = media.read_metadata(signed[0])
    child = Recipe("a blue ball", seed=1, parents=(parent.id,), derivation="remix", strength=0.5)
    frames = signed[1][:, :, ::-1].copy()
    with_file = media.export(frames, tmp_path / "remix.mp4", recipe=child, parent_files=[signed[0]])
    manifest, state, failures = _store(with_file)
    assert state == "Valid" and failures == []
    ingredient = manifest["ingredients"][0]
    assert ingredient["relationship"] == "parentOf" and ingredient["title"] == "clip.mp4"
    assert ingredient["active_manifest"]  # the parent's own manifest travels inside
    actions = [a["action"] for a in _assertion(manifest, "c2pa.actions")["actions"]]
    assert actions == ["c2pa.opened", "c2pa.edited"]
    # Without the parent's file the ingredient names the parent's recipe id.
    by_id = media.export(frames, tmp_path / "remix-by-id.mp4", recipe=child)
    manifest, state, _ = _store(by_id)
    assert state == "Valid" and manifest["ingredients"][0]["title"] == f"sorakit clip {parent.id}"
    report = verify(by_id)
    assert report.lineage == f"remix of {parent.id} at strength 0.5"
    assert report.ingredients[0]["relationship"] == "parentOf" and not report.ingredients[0]["has_manifest"]


def test_the_visible_mark_is_in_the_file_only_and_moves(signed, tmp_path):
    video = signed[1]
    before = video.copy()
    marked = media.read_video(media.export(video, tmp_path / "marked.mp4", provenance=False))
    plain = media.read_video(media.export(video, tmp_path / "plain.mp4", provenance=False, watermark=False))
    assert np.array_equal(video, before)  # the caller's array is never drawn on
    diff = np.abs(marked - plain).max(axis=-1)
    boxes = [visible.mark_box(i, 256, 256) for i in range(len(video))]
    assert boxes[0][:2] != boxes[-1][:2]  # it moves
    for frame, (top, left, h, w) in zip(diff, boxes):
        inside = frame[top:top + h + 1, left:left + w + 1]
        outside = frame.copy()
        outside[max(0, top - 2):top + h + 3, max(0, left - 2):left + w + 3] = 0
        assert inside.max() > 0.2  # visible
        assert outside.max() < 0.06  # nowhere else (codec noise only)


def test_cli_verify_prints_the_report_and_refuses_bad_input(signed, tmp_path, capsys):
    assert cli.main(["verify", str(signed[0]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] and data["signature_valid"] and data["hard_binding"] == "intact"
    assert data["source_type"] == SOURCE_TYPE and data["development_key"]
    assert data["recipe"]["prompt"] == "a red ball moves right"
    assert cli.main(["verify", str(signed[0])]) == 0
    text = capsys.readouterr().out
    assert "untrusted" in text and "VALID" in text
    assert cli.main(["verify", str(tmp_path / "missing.mp4")]) == 2
    (tmp_path / "root.pem").write_text("not a certificate")
    assert cli.main(["verify", str(signed[0]), "--trust", str(tmp_path / "root.pem")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "no PEM certificate" in err


def test_importing_sorakit_loads_no_provenance_library():
    code = ("import sys, sorakit, sorakit.media, sorakit.provenance; "
            "print(sorted(m for m in ('c2pa', 'imwatermark', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_remix_of_a_file_names_that_file_for_the_manifest(signed, tiny_pipe, tmp_path):
    from sorakit.remix import remix

    derived = remix(tiny_pipe, signed[0], "a blue ball", strength=0)  # strength 0: no sampling, same lineage
    assert derived.parent_file == signed[0]
    path = media.export(derived.video, tmp_path / "remix.mp4", recipe=derived.recipe,
                        parent_files=[derived.parent_file], watermark=False)
    manifest, state, failures = _store(path)
    assert state == "Valid" and failures == []
    assert manifest["ingredients"][0]["relationship"] == "parentOf"
    assert _assertion(manifest, RECIPE_LABEL)["parents"] == [media.read_metadata(signed[0]).id]
