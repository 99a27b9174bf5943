"""tests/python/test_dask.py — attend.dask on a local cluster of 2 worker processes (loopback):
40 files translated and summarized with outputs byte-identical to the CLI's --out-dir, a bad
file failing alone, a worker killed mid-run without partial or duplicate outputs, a rerun that
skips everything, and `python3 -m attend.dask` against the same scheduler."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import attend
import attend.dask as ad
from conftest import fixture_model, read_lines, run_cli, shared_file


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                           dashboard_address=":0", silence_logs=40)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def sentences():
    return read_lines(shared_file("data", "multi30k", "test_2016_flickr.en"))


def make_inputs(root, sentences, n=40, per_file=3, bad=True):
    """n text files in root (some in a subfolder), each `per_file` sentences on one line or in
    paragraphs; with `bad`, an empty file and a binary file among them."""
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    for i in range(n):
        lines = sentences[i * per_file:(i + 1) * per_file]
        body = " ".join(lines) + "\n" if i % 2 else "\n\n".join(lines)
        name = os.path.join(root, "sub" if i % 5 == 0 else "", f"doc{i:02d}.txt")
        with open(name, "w", encoding="utf-8") as f:
            f.write(body)
    if bad:
        open(os.path.join(root, "empty.txt"), "w").close()
        with open(os.path.join(root, "binary.txt"), "wb") as f:
            f.write(b"abc\0def" * 10)
    return root


def tree(root):
    """{relative path: bytes} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def test_translate_40_files_like_the_cli(client, cli, bundled_path, sentences, tmp_path):
    src = make_inputs(str(tmp_path / "in"), sentences)
    cli_out, dask_out = str(tmp_path / "cli"), str(tmp_path / "dask")
    r = run_cli(cli, ["translate", "-m", bundled_path, src, "--out-dir", cli_out, "--threads", "1"], check=False)
    assert r.returncode == 1 and "2 failed" in r.stderr
    report = ad.translate_files(client, [src], dask_out, bundled_path, threads=1, progress=False)
    expected = tree(cli_out)
    assert len(expected) == 40
    assert tree(dask_out) == expected
    assert sorted(report.done) == sorted(os.path.join(src, os.path.relpath(p, cli_out))[:-len(".translated.txt")]
                                         for p in (os.path.join(cli_out, k) for k in expected))
    failed = {os.path.basename(p): m for p, m in report.failed}
    assert set(failed) == {"empty.txt", "binary.txt"} and "empty input" in failed["empty.txt"] \
        and "binary file" in failed["binary.txt"]
    assert not report.ok and report.skipped == []
    # A rerun skips everything and rewrites nothing.
    mtimes = {k: os.stat(os.path.join(dask_out, k)).st_mtime_ns for k in expected}
    again = ad.translate_files(client, [src], dask_out, bundled_path, threads=1, progress=False)
    # (the two bad files have no output, so they are tried, and fail, again)
    assert again.done == [] and len(again.skipped) == 40 and len(again.failed) == 2
    assert {k: os.stat(os.path.join(dask_out, k)).st_mtime_ns for k in expected} == mtimes
    # Each worker process loaded the model once, for both jobs.
    loads = client.run(ad.loaded_models)
    assert all(n <= 1 for n, _ in loads.values()) and any(paths == [bundled_path] for _, paths in loads.values())


def test_summarize_40_files_like_the_cli(client, cli, sentences, tmp_path):
    model = fixture_model("t5_text")
    src = make_inputs(str(tmp_path / "in"), sentences[500:], bad=True)
    cli_out, dask_out = str(tmp_path / "cli"), str(tmp_path / "dask")
    r = run_cli(cli, ["summarize", "-m", model, src, "--out-dir", cli_out, "--threads", "1", "--progress", "none",
                      "--max-length", "24"], check=False)
    assert r.returncode == 1, r.stderr
    report = ad.summarize_files(client, src, dask_out, model, threads=1, progress=False, max_length=24,
                                files_per_task=3)
    expected = tree(cli_out)
    assert len(expected) == 40 and tree(dask_out) == expected
    assert len(report.done) == 40 and {os.path.basename(p) for p, _ in report.failed} == {"empty.txt", "binary.txt"}
    again = ad.summarize_files(client, src, dask_out, model, threads=1, progress=False, max_length=24)
    assert again.done == [] and len(again.skipped) == 40


def test_worker_killed_mid_run(client, cli, bundled_path, sentences, tmp_path):
    src = make_inputs(str(tmp_path / "in"), sentences, per_file=6, bad=False)
    cli_out, dask_out = str(tmp_path / "cli"), str(tmp_path / "dask")
    run_cli(cli, ["translate", "-m", bundled_path, src, "--out-dir", cli_out, "--threads", "1", "--beam-size", "1"])
    # A temporary file left by an earlier killed run, under a name this job writes.
    os.makedirs(os.path.join(dask_out, "sub"))
    stale = os.path.join(dask_out, "sub", "doc00.txt.translated.txt.tmp.999999")
    with open(stale, "w") as f:
        f.write("partial")
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = {}

    def kill_when_started():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            n = sum(f.endswith(".translated.txt") for _, _, files in os.walk(dask_out) for f in files)
            if n >= 4:
                killed["outputs_before"] = n
                os.kill(victim, signal.SIGKILL)
                return
            time.sleep(0.01)

    t = threading.Thread(target=kill_when_started)
    t.start()
    report = ad.translate_files(client, [src], dask_out, bundled_path, threads=1, progress=False, files_per_task=1,
                                beam_size=1)
    t.join()
    assert "outputs_before" in killed and killed["outputs_before"] < 40, killed
    assert report.ok and len(report.done) == 40, report
    assert tree(dask_out) == tree(cli_out)  # no partial, temporary or duplicate file
    assert victim not in client.run(os.getpid).values()


def test_command_line_module(client, cli, bundled_path, sentences, tmp_path):
    src = make_inputs(str(tmp_path / "in"), sentences[300:], n=6, bad=False)
    cli_out, dask_out = str(tmp_path / "cli"), str(tmp_path / "dask")
    run_cli(cli, ["translate", "-m", bundled_path, src, "--out-dir", cli_out, "--threads", "1", "--beam-size", "1"])
    cmd = [sys.executable, "-m", "attend.dask", "translate", "--scheduler", client.scheduler.address, "-m",
           bundled_path, src, "--out-dir", dask_out, "--threads", "1", "--beam-size", "1", "--log-interval", "0"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "6 done, 0 skipped" in r.stderr and "6/6 files" in r.stderr
    assert tree(dask_out) == tree(cli_out)
    with open(os.path.join(src, "empty.txt"), "w"):
        pass
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "0 done, 6 skipped (output exists), 1 failed" in r.stderr, r.stderr
    r = subprocess.run(cmd[:-4] + ["--beam-size", "0"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "num_beams" in r.stderr, r.stderr


def test_bad_settings_fail_before_any_file(client, bundled_path, sentences, tmp_path):
    src = make_inputs(str(tmp_path / "in"), sentences, n=3, bad=False)
    with pytest.raises(attend.Error, match="num_beams"):
        ad.translate_files(client, [src], str(tmp_path / "out"), bundled_path, beam_size=0, progress=False)
    assert not os.path.exists(tmp_path / "out") or tree(str(tmp_path / "out")) == {}
    with pytest.raises(attend.Error):
        ad.translate_files(client, [src], str(tmp_path / "out"), str(tmp_path / "missing.attend"), progress=False)
