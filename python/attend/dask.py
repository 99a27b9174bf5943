"""attend.dask — translate or summarize many files on a Dask cluster (``distributed``).

    from distributed import Client
    import attend.dask
    client = Client("tcp://scheduler:8786")
    report = attend.dask.translate_files(client, ["docs/"], "out/", model="model.attend")
    print(report)

The client lists the inputs and decides the outputs exactly as ``attend translate FILE...
--out-dir`` / ``attend summarize PATH... --out-dir`` do (same names, a rerun skips finished
outputs), then submits tasks of a few files each. Every worker process loads each model once
and keeps it; a task reads its files, decodes them together (like the CLI's batches) and writes
each output atomically (``<output>.tmp.<pid>`` renamed into place). A bad file fails alone; a
task lost with its worker is run again by Dask elsewhere (finished outputs of that task are
kept). Paths must mean the same on the client and on every worker (shared storage).

Also a command: ``python3 -m attend.dask translate|summarize --scheduler ADDRESS PATH...
--out-dir DIR [options]``.
"""
from __future__ import annotations

import math
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

from . import _file_jobs as fj

__all__ = ["translate_files", "summarize_files", "Report", "loaded_models", "main"]

# ---------------------------------------------------------------------------------------------
# Worker side.

_models: Dict[Tuple[str, str, int], Any] = {}
_models_lock = threading.Lock()
_loads = 0  # models loaded by this process (for tests and monitoring: loaded_models())


def loaded_models() -> Tuple[int, List[str]]:
    """(models loaded so far, paths kept) in this process; on workers: ``client.run(loaded_models)``."""
    with _models_lock:
        return _loads, sorted(k[0] for k in _models)


def _threads_here(threads: Optional[int], dask_threads_per_host: Dict[str, int]) -> int:
    """OpenMP threads for one task: as given, else this machine's cores shared among the Dask
    threads of the worker processes on it (the scheduler's view when the job started)."""
    if threads:
        return int(threads)
    try:
        from distributed import get_worker
        host = urlparse(get_worker().address).hostname or ""
    except (ImportError, ValueError):
        host = ""
    share = dask_threads_per_host.get(host, 1)
    return max(1, (os.cpu_count() or 1) // max(1, share))


def _model(path: str, compute_type: str, threads: int):
    """This process's copy of a model, loaded on first use and kept."""
    import attend
    key = (path, compute_type, threads)
    with _models_lock:
        m = _models.get(key)
        if m is None:
            global _loads
            m = attend.Model(path, compute_type=compute_type, threads=threads)
            _models[key] = m
            _loads += 1
        return m


def _validate_task(kind: str, spec: Dict[str, Any]) -> None:
    """Loads the model on a worker and checks the settings (attend.Error when invalid)."""
    m = _model(spec["model"], spec["compute_type"], _threads_here(spec["threads"], spec["host_threads"]))
    if kind == "translate":
        m.validate(**spec["options"])
    else:
        m.summarize_settings(**spec["options"])


# One task's outcome per file: (input path, state, message, warning); state is "done",
# "failed" or "skipped".
Outcome = Tuple[str, str, str, str]


def _translate_task(spec: Dict[str, Any], files: List[Tuple[str, str]]) -> List[Outcome]:
    """Translates (input, output) pairs as `attend translate FILE... --out-dir` does: every
    file's sentences in one library call, file by file when that call fails."""
    import attend
    m = _model(spec["model"], spec["compute_type"], _threads_here(spec["threads"], spec["host_threads"]))
    outcomes: List[Outcome] = []
    jobs = []  # (path, out, bytes)
    for path, out in files:
        if not spec["overwrite"] and os.path.exists(out):
            outcomes.append((path, "done", "", ""))  # written by an earlier attempt of this task
            continue
        try:
            data = fj.read_whole_input(path)
            fj.check_text_input(path, data, spec["max_line_length"])
        except ValueError as e:
            outcomes.append((path, "failed", str(e), ""))
            continue
        jobs.append((path, out, data))
    results: Dict[int, Any] = {}
    if jobs:
        try:
            for i, r in enumerate(m.translate_documents([d for _, _, d in jobs], **spec["options"])):
                results[i] = r
        except attend.Error as e:
            if len(jobs) == 1:
                results[0] = e
            else:
                for i, (_, _, d) in enumerate(jobs):
                    try:
                        results[i] = m.translate_documents([d], **spec["options"])[0]
                    except attend.Error as e1:
                        results[i] = e1
    for i, (path, out, _) in enumerate(jobs):
        r = results[i]
        if isinstance(r, Exception):
            outcomes.append((path, "failed", f"{path}: {r}", ""))
            continue
        warning = f"{r.invalid_utf8} invalid UTF-8 sequence(s) replaced by U+FFFD" if r.invalid_utf8 else ""
        try:
            parent = os.path.dirname(out)
            if parent:
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as e:
                    raise ValueError(f"{parent}: cannot create output directory: {e.strerror}") from None
            fj.write_file_atomically(out, r.text.encode("utf-8"))
            outcomes.append((path, "done", "", warning))
        except ValueError as e:
            outcomes.append((path, "failed", f"{path}: {e}", warning))
    return outcomes


def _summarize_task(spec: Dict[str, Any], files: List[Tuple[str, str]]) -> List[Outcome]:
    """Summarizes (input, output) pairs as `attend summarize PATH... --out-dir` does: chunks of
    all files batched together, each summary written as "<summary>\\n"."""
    import attend
    m = _model(spec["model"], spec["compute_type"], _threads_here(spec["threads"], spec["host_threads"]))
    outcomes: List[Outcome] = []
    texts, owners = [], []
    for path, out in files:
        if not spec["overwrite"] and os.path.isfile(out):
            outcomes.append((path, "done", "", ""))  # written by an earlier attempt of this task
            continue
        text, error, warning = fj.read_text_input(path, spec["max_file_bytes"])
        if error:
            outcomes.append((path, "failed", error, ""))
            continue
        texts.append(text)
        owners.append((path, out, warning))
    if not texts:
        return outcomes
    try:
        results = m.summarize(texts, **spec["options"])
    except attend.Error as e:
        return outcomes + [(p, "failed", f"summarize failed: {e}", w) for p, _, w in owners]
    for (path, out, warning), r in zip(owners, results):
        if r.error:
            outcomes.append((path, "failed", r.error, warning))
            continue
        if not r.complete:
            more = (f"still longer than the summary length after {r.rounds} rounds; writing the joined chunk "
                    f"summaries")
            warning = f"{warning}; {more}" if warning else more
        try:
            fj.write_file_atomically(out, (r.summary + "\n").encode("utf-8"))
            outcomes.append((path, "done", "", warning))
        except ValueError as e:
            outcomes.append((path, "failed", f"cannot write the summary: {e}", warning))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Client side.

@dataclass
class Report:
    """What a translate_files / summarize_files call did: inputs whose output was written
    (``done``), whose output already existed (``skipped``), and ``failed`` (path, message) pairs;
    ``warnings`` (path, message) for inputs written with a remark (invalid UTF-8 replaced, ...)."""
    command: str
    done: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    warnings: List[Tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    tasks: int = 0

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failed

    def __str__(self) -> str:
        lines = [f"{self.command}: {len(self.done)} done, {len(self.skipped)} skipped (output exists), "
                 f"{len(self.failed)} failed in {self.seconds:.1f} s"]
        lines += [f"  failed: {p}: {m}" for p, m in self.failed]
        return "\n".join(lines)


class _Progress:
    """Progress lines on a stream: at most one every `interval` seconds, and a last one."""

    def __init__(self, command: str, total: int, stream, interval: float):
        self.command, self.total, self.stream, self.interval = command, total, stream, interval
        self.start = self.last = time.monotonic()
        self.finished = 0
        self.failed = 0

    def message(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)

    def update(self, finished: int, failed: int, force: bool = False) -> None:
        self.finished, self.failed = finished, failed
        now = time.monotonic()
        if self.stream is None or (not force and now - self.last < self.interval):
            return
        self.last = now
        el = now - self.start
        rate = finished / el if el > 0 else 0.0
        print(f"{self.command}: {finished}/{self.total} files ({failed} failed), {el:.1f} s, {rate:.2f} files/s",
              file=self.stream, flush=True)


def _as_list(inputs: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]) -> List[str]:
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    return [os.fspath(p) for p in inputs]


def _host_threads(client) -> Dict[str, int]:
    per_host: Dict[str, int] = {}
    for addr, w in client.scheduler_info().get("workers", {}).items():
        host = urlparse(addr).hostname or w.get("host", "")
        per_host[host] = per_host.get(host, 0) + int(w.get("nthreads", 1))
    return per_host


def _run(client, command: str, task, spec: Dict[str, Any], pending: List[Tuple[str, str]], report: Report,
         files_per_task: Optional[int], progress, log_interval: float) -> Report:
    """Validates on a worker, submits tasks of `files_per_task` files, gathers outcomes."""
    from distributed import as_completed

    t0 = time.monotonic()
    stream = sys.stderr if progress is True else (progress or None)
    prog = _Progress(command, len(pending), stream, log_interval)
    for p, m in report.failed:
        prog.message(f"attend {command}: error: {p}: {m}")
    outputs = [out for _, out in pending]
    if pending:
        spec["host_threads"] = _host_threads(client)
        # Bad settings or an unloadable model fail here, before any file is touched.
        client.submit(_validate_task, command, spec, pure=False, key=f"attend-{command}-validate-{uuid.uuid4().hex}"
                      ).result()
        fj.remove_temp_outputs(outputs)
        if files_per_task is None:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            files_per_task = max(1, min(64, math.ceil(len(pending) / (4 * workers))))
        job = uuid.uuid4().hex[:12]
        futures = {}
        for i in range(0, len(pending), files_per_task):
            chunk = pending[i:i + files_per_task]
            f = client.submit(task, spec, chunk, pure=False, key=f"attend-{command}-{job}-{i // files_per_task}")
            futures[f] = chunk
        report.tasks = len(futures)
        finished = 0
        for f in as_completed(list(futures)):
            chunk = futures.pop(f)
            if f.status == "finished":
                outcomes = f.result()
            else:  # the task itself failed (e.g. its workers kept dying): its files without output fail
                try:
                    err = f.exception()
                except Exception as e:  # noqa: BLE001 — e.g. cancelled: report whatever it is
                    err = e
                outcomes = [(p, "done", "", "") if os.path.isfile(out) else (p, "failed", f"task failed: {err!r}", "")
                            for p, out in chunk]
            for p, state, msg, warning in outcomes:
                if state == "done":
                    report.done.append(p)
                elif state == "skipped":
                    report.skipped.append(p)
                else:
                    report.failed.append((p, msg))
                    prog.message(f"attend {command}: error: {p}: {msg}")
                if warning:
                    report.warnings.append((p, warning))
                    prog.message(f"attend {command}: warning: {p}: {warning}")
            finished += len(chunk)
            prog.update(finished, len(report.failed))
            f.release()
        # Temporary files of attempts that died with their worker.
        fj.remove_temp_outputs(outputs)
    report.seconds = time.monotonic() - t0
    prog.update(len(pending), len(report.failed), force=True)
    prog.message(str(report))
    return report


def translate_files(client, inputs, out_dir: str, model: Optional[str] = None, *, suffix: Optional[str] = None,
                    overwrite: bool = False, beam_size: Optional[int] = None, max_length: Optional[int] = None,
                    src_lang: Optional[str] = None, tgt_lang: Optional[str] = None, batch_size: int = 32,
                    batch_type: str = "examples", compute_type: str = "default", threads: Optional[int] = None,
                    max_line_length: int = 10000, files_per_task: Optional[int] = None, progress=True,
                    log_interval: float = 10.0) -> Report:
    """Translates files and folders (recursively) on the cluster of ``client``, one output per
    input at ``out_dir/<relative path><suffix>`` (default suffix ".translated.txt"), exactly as
    ``attend translate FILE... --out-dir`` names, writes and skips them. ``model``: a path the
    workers can open (default: the bundled model). ``threads``: OpenMP threads per task (default:
    the worker machine's cores divided among the Dask threads on it). ``files_per_task``: files
    decoded together in one task (default: about 4 tasks per worker, at most 64 files).
    ``progress``: True (stderr), False, or a file object. Returns a Report."""
    from . import default_model_path
    if model is None:
        model = default_model_path()
        if model is None:
            raise ValueError("translate_files: no model given and no bundled model found")
    out_dir = os.fspath(out_dir)
    suffix = suffix or fj.TRANSLATE_SUFFIX
    report = Report("translate")
    pending: List[Tuple[str, str]] = []
    seen = set()
    for f in fj.expand_translate_inputs(_as_list(inputs), out_dir):
        if not f.rel:
            report.failed.append((f.path, "cannot read folder"))
            continue
        out = fj._join(out_dir, f.rel + suffix)
        if out in seen:
            report.failed.append((f.path, f"output {out} would overwrite the output of another input"))
            continue
        seen.add(out)
        if not overwrite and os.path.exists(out):
            report.skipped.append(f.path)
            continue
        pending.append((f.path, out))
    options = {"max_batch_size": batch_size, "batch_type": batch_type, "src_lang": src_lang, "tgt_lang": tgt_lang,
               "beam_size": beam_size, "max_length": max_length}
    spec = {"model": os.fspath(model), "compute_type": compute_type, "threads": threads, "overwrite": overwrite,
            "max_line_length": max_line_length, "options": options}
    return _run(client, "translate", _translate_task, spec, pending, report, files_per_task, progress, log_interval)


def summarize_files(client, inputs, out_dir: str, model: str, *, glob: Optional[str] = None, overwrite: bool = False,
                    beam_size: Optional[int] = None, min_length: Optional[int] = None,
                    max_length: Optional[int] = None, no_repeat_ngram_size: Optional[int] = None,
                    length_penalty: Optional[float] = None, early_stopping=None, prefix: Optional[str] = None,
                    max_input_tokens: int = 0, max_rounds: int = 4, batch_size: int = 32, max_batch_tokens: int = 0,
                    compute_type: str = "default", threads: Optional[int] = None, max_file_bytes: int = 64 << 20,
                    files_per_task: Optional[int] = None, progress=True, log_interval: float = 10.0) -> Report:
    """Summarizes files and folders (recursively; ``glob`` filters names in folders) on the
    cluster, one summary per input at ``out_dir/<relative path>.summary.txt``, exactly as
    ``attend summarize PATH... --out-dir`` names, writes and skips them, with the model's own
    summarization settings unless overridden. Other arguments as translate_files. Returns a
    Report."""
    out_dir = os.fspath(out_dir)
    report = Report("summarize")
    files, errors = fj.list_summarize_inputs(_as_list(inputs), glob or "", out_dir)
    report.failed.extend(errors)
    if not files and not errors:
        import attend
        raise attend.Error("no input files found")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError:
        pass
    pending: List[Tuple[str, str]] = []
    owner: Dict[str, str] = {}
    for f in files:
        out = fj._join(out_dir, f.rel + fj.SUMMARY_SUFFIX)
        if out in owner:
            report.failed.append((f.path, f"output {out} would overwrite the summary of {owner[out]}"))
            continue
        owner[out] = f.path
        if not overwrite and os.path.isfile(out):
            report.skipped.append(f.path)
            continue
        why = fj.prepare_output_dir(out)
        if why:
            report.failed.append((f.path, why))
            continue
        pending.append((f.path, out))
    options = {"beam_size": beam_size, "min_length": min_length, "max_length": max_length,
               "no_repeat_ngram_size": no_repeat_ngram_size, "length_penalty": length_penalty,
               "early_stopping": early_stopping, "prefix": prefix, "max_batch_size": batch_size,
               "max_batch_tokens": max_batch_tokens, "max_input_tokens": max_input_tokens, "max_rounds": max_rounds}
    spec = {"model": os.fspath(model), "compute_type": compute_type, "threads": threads, "overwrite": overwrite,
            "max_file_bytes": max_file_bytes, "options": options}
    return _run(client, "summarize", _summarize_task, spec, pending, report, files_per_task, progress, log_interval)


def main(argv: Optional[List[str]] = None) -> int:
    """``python3 -m attend.dask translate|summarize --scheduler ADDRESS PATH... --out-dir DIR``."""
    from ._dask_cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    # Run through the imported module, so that tasks refer to attend.dask (not __main__).
    from attend.dask import main as _main
    sys.exit(_main())
