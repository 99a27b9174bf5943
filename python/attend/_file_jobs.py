"""attend._file_jobs — the command line's file rules in Python, for attend.dask: which inputs a
PATH argument names, what each output is called, how inputs are read and rejected, and how
outputs are written (atomically). Mirrors tools/support/document_io.cpp (``attend translate FILE...
--out-dir``) and tools/support/file_jobs.cpp (``attend summarize PATH... --out-dir``) so that a Dask run
and a CLI run write the same files with the same bytes and skip the same finished outputs.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

TRANSLATE_SUFFIX = ".translated.txt"
SUMMARY_SUFFIX = ".summary.txt"
_TEMP_RE = re.compile(r"\.tmp\.(\d+)$")


@dataclass
class InputFile:
    path: str  # as opened
    rel: str   # name below the output folder, before the suffix ("" = an unreadable folder)


def _canonical(p: str) -> str:
    return os.path.realpath(p)


def _under(path: str, folder: Optional[str]) -> bool:
    if not folder:
        return False
    a, b = _canonical(path), _canonical(folder)
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)


def _walk_files(top: str, errors: Optional[List[Tuple[str, str]]] = None):
    """Regular files below `top` (symlinked folders not entered, symlinks to files kept), as
    std::filesystem::recursive_directory_iterator lists them. Raises OSError when `top` itself
    cannot be listed; subfolders that cannot be are added to `errors` (or skipped)."""
    top_error: List[OSError] = []

    def onerror(e: OSError) -> None:
        if e.filename is not None and os.path.normpath(e.filename) == os.path.normpath(top):
            top_error.append(e)
        elif errors is not None:
            errors.append((e.filename or top, f"cannot list folder: {e.strerror}"))

    for dirpath, _dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.isfile(full):
                yield full
    if top_error:
        raise top_error[0]


def _join(folder: str, name: str) -> str:
    """std::filesystem's `folder / name` for a relative name."""
    return name if not folder else (folder + name if folder.endswith("/") else folder + "/" + name)


# --- attend translate FILE... --out-dir (tools/support/document_io.cpp expand_inputs) ------------------

def expand_translate_inputs(args: List[str], skip_dir: str) -> List[InputFile]:
    """Files named on the command line; folders walked recursively, sorted by path, anything under
    `skip_dir` left out. A file argument keeps its relative path when it is relative and has no
    "..", else only its file name."""
    out: List[InputFile] = []
    for arg in args:
        if os.path.isdir(arg):
            found: List[InputFile] = []
            try:
                for full in _walk_files(arg):
                    p = _join(arg, os.path.relpath(full, arg))
                    if _under(p, skip_dir):
                        continue
                    found.append(InputFile(p, os.path.relpath(full, arg).replace(os.sep, "/")))
            except OSError:
                found.append(InputFile(arg, ""))
            found.sort(key=lambda f: os.fsencode(f.path))
            out.extend(found)
            continue
        norm = os.path.normpath(arg) if arg else arg
        plain = bool(norm) and not os.path.isabs(norm) and ".." not in norm.split("/")
        out.append(InputFile(arg, norm if plain else os.path.basename(arg.rstrip("/")) or arg))
    return out


def read_whole_input(path: str) -> bytes:
    """The bytes of a document; raises ValueError with the CLI's message."""
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a file")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{path}: cannot open input file: {os.strerror(e.errno or errno.EIO)}") from None


def check_text_input(label: str, data: bytes, max_line_chars: int) -> None:
    """Rejects what is no text document (empty, binary, over-long line) as the CLI does."""
    if not data.strip(b" \t\r\n\v\f"):
        raise ValueError(f"{label}: empty input, nothing to translate")
    nul = data.find(b"\0")
    if nul >= 0:
        raise ValueError(f"{label}: binary file (NUL byte at offset {nul}), not translated")
    if max_line_chars:
        for i, line in enumerate(data.split(b"\n"), start=1):
            chars = sum(1 for b in line if (b & 0xC0) != 0x80)
            if chars > max_line_chars:
                raise ValueError(f"{label}:{i}: line of {chars} characters, longer than the limit of "
                                 f"{max_line_chars} (--max-line-length)")


# --- attend summarize PATH... --out-dir (tools/support/file_jobs.cpp) ----------------------------------

def temp_file_pid(name: str) -> int:
    """The pid of a "<name>.tmp.<digits>" temporary output, else 0."""
    m = _TEMP_RE.search(name)
    if not m or len(m.group(1)) > 10:
        return 0
    pid = int(m.group(1))
    return pid if 0 < pid <= (1 << 30) else 0


def list_summarize_inputs(args: List[str], glob: str, skip_dir: str) -> Tuple[List[InputFile], List[Tuple[str, str]]]:
    """Files and (path, reason) errors: a file argument is taken as is (its name below the output
    folder is its file name); a folder is walked recursively (sorted by relative name), keeping
    regular files whose name (or relative path, when the pattern holds a '/') matches `glob`;
    temporary outputs and files under `skip_dir` are left out."""
    files: List[InputFile] = []
    errors: List[Tuple[str, str]] = []
    for arg in args:
        try:
            st_exists = os.path.exists(arg)
        except OSError as e:
            errors.append((arg, f"cannot access: {e.strerror}"))
            continue
        if not st_exists:
            errors.append((arg, "no such file or directory"))
            continue
        if not os.path.isdir(arg):
            if not os.path.isfile(arg):
                errors.append((arg, "not a regular file or folder"))
                continue
            files.append(InputFile(arg, os.path.basename(arg)))
            continue
        found: List[InputFile] = []
        try:
            for full in _walk_files(arg, errors):
                rel = os.path.relpath(full, arg).replace(os.sep, "/")
                p = _join(arg, os.path.relpath(full, arg))
                if skip_dir and _under(os.path.dirname(p), skip_dir):
                    continue
                if temp_file_pid(os.path.basename(full)):
                    continue
                if glob and not fnmatch.fnmatchcase(rel if "/" in glob else os.path.basename(rel), glob):
                    continue
                found.append(InputFile(p, rel))
        except OSError as e:
            errors.append((arg, f"cannot list folder: {e.strerror}"))
            continue
        found.sort(key=lambda f: os.fsencode(f.rel))
        files.extend(found)
    return files, errors


def _repair_utf8(data: bytes) -> Tuple[str, int, int]:
    """Text with each maximal invalid UTF-8 subpart replaced by U+FFFD, the number replaced and
    the byte offset of the first."""
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    first = 0
    if invalid:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            first = e.start
    return text, invalid, first


def read_text_input(path: str, max_bytes: int) -> Tuple[Optional[str], str, str]:
    """(text, error, warning) of one summarize input: unreadable, too large, binary or empty
    files fail; invalid UTF-8 is replaced by U+FFFD with a warning."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        return None, f"cannot read: {e.strerror}", ""
    if size > max_bytes:
        return None, f"file too large ({size} bytes; the limit is {max_bytes})", ""
    try:
        with open(path, "rb") as f:
            data = f.read(size)
    except OSError as e:
        return None, f"cannot open: {e.strerror}", ""
    if len(data) != size:
        return None, f"read error: {os.strerror(errno.EIO)}", ""
    nul = data.find(b"\0")
    if nul >= 0:
        return None, f"binary file (NUL byte at offset {nul}), not summarized", ""
    text, invalid, first = _repair_utf8(data)
    controls = sum(1 for b in data if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x0C))
    if len(data) >= 16 and (invalid + controls) * 4 > len(data):
        return None, (f"binary file ({invalid} invalid UTF-8 sequences, {controls} control bytes in {len(data)} "
                      f"bytes), not summarized"), ""
    if all(c == " " or "\t" <= c <= "\r" for c in text):
        return None, "empty file" if not data else "empty file (only whitespace)", ""
    warning = ""
    if invalid:
        warning = (f"invalid UTF-8 ({invalid} sequence{'' if invalid == 1 else 's'}, first at byte {first}) "
                   f"replaced with U+FFFD")
    return text, "", warning


def prepare_output_dir(file: str) -> str:
    """Creates the folder that will hold `file`; "" or the reason it cannot be used."""
    d = os.path.dirname(file)
    if not d:
        return ""
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as e:
        return f"cannot create output folder {d}: {e.strerror}"
    if not os.path.isdir(d):
        return f"output folder {d} is not a folder"
    if not os.access(d, os.W_OK | os.X_OK):
        return f"output folder {d} is not writable: {os.strerror(errno.EACCES)}"
    return ""


# --- outputs -------------------------------------------------------------------------------------

def write_file_atomically(path: str, content: bytes) -> None:
    """`content` to `path`: a temporary "<path>.tmp.<pid>" beside it, synced, then renamed (as
    tools/support/cli_common.cpp). Raises ValueError naming the file; the temporary file is removed."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        f = open(tmp, "wb")
    except OSError as e:
        raise ValueError(f"{path}: cannot create output file: {e.strerror}") from None
    try:
        with f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        _remove_quietly(tmp)
        raise ValueError(f"{path}: write failed: {e.strerror}") from None
    try:
        os.rename(tmp, path)
    except OSError as e:
        _remove_quietly(tmp)
        raise ValueError(f"{path}: cannot rename temporary output into place: {e.strerror}") from None


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def remove_temp_outputs(outputs: List[str]) -> int:
    """Removes "<output>.tmp.<digits>" files of these outputs (left by a killed worker); returns
    how many. Only the job that owns the outputs calls this, when none of its tasks runs."""
    removed = 0
    by_dir = {}
    for out in outputs:
        by_dir.setdefault(os.path.dirname(out) or ".", set()).add(os.path.basename(out))
    for d, names in by_dir.items():
        try:
            entries = os.listdir(d)
        except OSError:
            continue
        for e in entries:
            m = _TEMP_RE.search(e)
            if m and e[:m.start()] in names:
                try:
                    os.remove(os.path.join(d, e))
                    removed += 1
                except OSError:
                    pass
    return removed
