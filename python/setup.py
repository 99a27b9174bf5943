"""python/setup.py — builds the `attend` package for pip, offline, with Debian's setuptools:

    /usr/bin/python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation --no-index ./python

The extension (src/binding.cpp, public API only) is compiled against the static libattend.a of
the project's CMake build: $ATTEND_BUILD_DIR, else <repository>/build. When that library is not
there yet, CMake builds it first (target attend_core). The repository is this file's parent
folder, or $ATTEND_SOURCE_DIR. The bundled model's path is written into attend/_config.py.
"""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("ATTEND_SOURCE_DIR") or os.path.join(HERE, ".."))
BUILD = os.path.abspath(os.environ.get("ATTEND_BUILD_DIR") or os.path.join(ROOT, "build"))
DEFAULT_MODEL = os.path.join(ROOT, "models", "default", "marian-en-de-multi30k.attend")


def _pybind11_include():
    try:
        import pybind11
        return pybind11.get_include()
    except ImportError:
        return "/usr/include"  # Debian's pybind11-dev


def _pkg_config_libs(name, fallback):
    try:
        out = subprocess.run(["pkg-config", "--libs-only-l", name], check=True, capture_output=True, text=True).stdout
        return [a[2:] for a in out.split() if a.startswith("-l")]
    except (OSError, subprocess.CalledProcessError):
        return fallback


class BuildExt(build_ext):
    """Makes sure libattend.a exists (building it with CMake if needed), then compiles."""

    def run(self):
        if not os.path.isfile(os.path.join(ROOT, "include", "attend", "attend.hpp")):
            sys.exit(f"setup.py: the Attend sources are not at {ROOT} (set ATTEND_SOURCE_DIR)")
        lib = os.path.join(BUILD, "libattend.a")
        if not os.path.isfile(lib):
            if not shutil.which("cmake"):
                sys.exit(f"setup.py: {lib} is missing and cmake is not installed (run `bash setup.sh` first)")
            print(f"setup.py: building libattend.a in {BUILD}", flush=True)
            subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"], check=True)
            subprocess.run(["cmake", "--build", BUILD, "--target", "attend_core", "-j2"], check=True)
        headers = [os.path.join(ROOT, "include", "attend", h) for h in os.listdir(os.path.join(ROOT, "include", "attend"))]
        for ext in self.extensions:
            ext.extra_objects = [lib]
            ext.depends = [lib] + headers  # relink when the library (or an API header) changed
        super().run()


class BuildPy(build_py):
    """Also writes attend/_config.py (where the bundled model is)."""

    def run(self):
        super().run()
        path = os.path.join(self.build_lib, "attend", "_config.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write('"""attend._config — written by setup.py: the bundled default model."""\n')
            f.write(f"DEFAULT_MODEL = {DEFAULT_MODEL!r}\n")


ext = Extension(
    "attend._attend",
    sources=[os.path.join("src", "binding.cpp")],
    include_dirs=[os.path.join(ROOT, "include"), _pybind11_include()],
    language="c++",
    extra_compile_args=["-std=c++17", "-O2", "-fvisibility=hidden", "-Wall", "-Wextra"],
    # What libattend.a itself links (CMakeLists.txt, attend_core): keep the two lists in step.
    libraries=["dnnl"] + _pkg_config_libs("sentencepiece", ["sentencepiece"]) + _pkg_config_libs("libcurl", ["curl"])
    + _pkg_config_libs("libcrypto", ["crypto"]) + _pkg_config_libs("gumbo", ["gumbo"]),
    extra_link_args=["-fopenmp"],
)

setup(
    name="attend",
    version="0.1.0",
    description="Attend: seq2seq (translation, summarization) inference on the CPU — Python API and Dask scale-out",
    packages=["attend"],
    package_data={"attend": ["*.pyi", "py.typed"]},
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt, "build_py": BuildPy},
    python_requires=">=3.9",
    zip_safe=False,
)
