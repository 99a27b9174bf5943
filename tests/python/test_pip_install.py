"""tests/python/test_pip_install.py — the README's offline install: a fresh virtual environment
(Debian's python3-venv) and `pip install --no-build-isolation --no-index ./python`; the package
then imports from the venv (not from the build tree), translates like the build's module and has
attend.dask."""
import os
import subprocess
import sys

from conftest import REPO


def test_pip_install_into_a_fresh_venv(tmp_path, bundled):
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")}
    env["TMPDIR"] = str(tmp_path)
    env["PIP_NO_CACHE_DIR"] = "1"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, env=env,
                   timeout=120)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index",
                        os.path.join(REPO, "python")], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    code = ("import attend, attend.dask, sys; print(attend.__file__); "
            "print(attend.Model(attend.default_model_path(), threads=1).translate('A dog runs in the park.').text)")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    where, text = r.stdout.splitlines()
    assert where.startswith(str(venv)), where
    assert text == bundled.translate("A dog runs in the park.").text
