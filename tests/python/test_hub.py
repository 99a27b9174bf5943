"""tests/python/test_hub.py — hub ids from Python: attend.Model("org/name", cache_dir=...,
offline=True) finds a model in a Hugging Face cache laid out as huggingface_hub writes it (made
here from the marian fixture) and translates as the local directory does; a missing id offline
raises attend.Error naming it. (Downloads themselves are tested in C++ against a mock hub.)
"""
import hashlib
import os

import pytest

import attend
from conftest import fixture_model

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NEEDED = ["config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm",
          "tokenizer_config.json", "vocab.json"]
TEXTS = ["A dog runs in the park.", "Two girls are playing in the snow."]


def _etag(name: str, content: bytes) -> str:
    if name.endswith(".safetensors"):  # an LFS file: its ETag is the SHA-256
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # git blob id


def _make_cache(root: str, repo_id: str, src: str) -> str:
    """What huggingface_hub.snapshot_download leaves: blobs by ETag, refs/main, relative links."""
    repo = os.path.join(root, "models--" + repo_id.replace("/", "--"))
    os.makedirs(os.path.join(repo, "blobs"))
    os.makedirs(os.path.join(repo, "refs"))
    snap = os.path.join(repo, "snapshots", COMMIT)
    os.makedirs(snap)
    with open(os.path.join(repo, "refs", "main"), "w") as f:
        f.write(COMMIT)
    for name in NEEDED:
        with open(os.path.join(src, name), "rb") as f:
            content = f.read()
        etag = _etag(name, content)
        with open(os.path.join(repo, "blobs", etag), "wb") as f:
            f.write(content)
        os.symlink(os.path.join("..", "..", "blobs", etag), os.path.join(snap, name))
    return root


def _texts(model):
    return [r.text for r in model.translate(TEXTS, beam_size=2, max_length=9)]


@pytest.fixture(scope="module")
def marian():
    return fixture_model("marian")


def test_hub_id_from_the_cache_offline(tmp_path, marian):
    cache = _make_cache(str(tmp_path / "hub"), "org/py-model", marian)
    want = _texts(attend.Model(marian, threads=1))
    assert all(want)
    for kwargs in ({}, {"revision": "main"}):
        m = attend.Model("org/py-model", threads=1, cache_dir=cache, offline=True, **kwargs)
        assert _texts(m) == want
    assert _texts(attend.Model("org/py-model@main", threads=1, cache_dir=cache, offline=True)) == want


def test_missing_hub_id_offline_names_it(tmp_path):
    with pytest.raises(attend.Error, match="org/not-there"):
        attend.Model("org/not-there", threads=1, cache_dir=str(tmp_path), offline=True)
