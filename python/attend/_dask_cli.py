"""attend._dask_cli — ``python3 -m attend.dask translate|summarize --scheduler ADDRESS ...``:
the options of ``attend translate FILE... --out-dir`` / ``attend summarize PATH... --out-dir``
run on a Dask cluster through attend.dask. Exit code 0 when every input succeeded, 1 when one
failed, 2 for bad usage or settings.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m attend.dask",
                                description="Translate or summarize files on a Dask cluster (outputs as the "
                                            "attend command line's --out-dir; a rerun skips finished outputs)")
    sub = p.add_subparsers(dest="command", required=True)

    def common(s: argparse.ArgumentParser) -> None:
        s.add_argument("paths", nargs="+", help="input files and folders (folders are read recursively)")
        s.add_argument("--scheduler", required=True, help="Dask scheduler address, e.g. tcp://10.0.0.1:8786")
        s.add_argument("--out-dir", required=True, help="output folder (shared storage, same path on all workers)")
        s.add_argument("-m", "--model", help="model file or HF directory, as the workers see it")
        s.add_argument("--overwrite", action="store_true", help="redo inputs whose output exists")
        s.add_argument("--beam-size", type=int)
        s.add_argument("--max-length", type=int)
        s.add_argument("--batch-size", type=int, default=32)
        s.add_argument("--threads", type=int, help="OpenMP threads per task (default: cores / Dask threads per host)")
        s.add_argument("--compute-type", default="default", choices=["default", "auto", "fp32", "bf16", "int8"])
        s.add_argument("--files-per-task", type=int, help="files decoded together in one task")
        s.add_argument("--progress", default="log", choices=["log", "none"])
        s.add_argument("--log-interval", type=float, default=10.0, help="seconds between progress lines")

    t = sub.add_parser("translate", help="documents: one DIR/<relative path><suffix> per input")
    common(t)
    t.add_argument("--suffix", help="output suffix (default .translated.txt)")
    t.add_argument("--src-lang")
    t.add_argument("--tgt-lang")
    t.add_argument("--batch-type", default="examples", choices=["examples", "tokens"])
    t.add_argument("--max-line-length", type=int, default=10000)

    s = sub.add_parser("summarize", help="one DIR/<relative path>.summary.txt per input")
    common(s)
    s.add_argument("--glob", help="only files in folders whose name matches (with '/': the relative path)")
    s.add_argument("--min-length", type=int)
    s.add_argument("--no-repeat-ngram-size", type=int)
    s.add_argument("--length-penalty", type=float)
    s.add_argument("--early-stopping", choices=["true", "false", "never"])
    s.add_argument("--prefix")
    s.add_argument("--max-input-tokens", type=int, default=0)
    s.add_argument("--max-rounds", type=int, default=4)
    s.add_argument("--max-batch-tokens", type=int, default=0)
    s.add_argument("--max-file-bytes", type=int, default=64 << 20)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    import attend
    from distributed import Client

    from . import dask as ad

    common = dict(overwrite=args.overwrite, beam_size=args.beam_size, max_length=args.max_length,
                  batch_size=args.batch_size, threads=args.threads, compute_type=args.compute_type,
                  files_per_task=args.files_per_task, progress=args.progress == "log",
                  log_interval=args.log_interval)
    try:
        with Client(args.scheduler) as client:
            if args.command == "translate":
                report = ad.translate_files(client, args.paths, args.out_dir, args.model, suffix=args.suffix,
                                            src_lang=args.src_lang, tgt_lang=args.tgt_lang,
                                            batch_type=args.batch_type, max_line_length=args.max_line_length,
                                            **common)
            else:
                if not args.model:
                    print("python3 -m attend.dask summarize: --model is required", file=sys.stderr)
                    return 2
                report = ad.summarize_files(client, args.paths, args.out_dir, args.model, glob=args.glob,
                                            min_length=args.min_length,
                                            no_repeat_ngram_size=args.no_repeat_ngram_size,
                                            length_penalty=args.length_penalty, early_stopping=args.early_stopping,
                                            prefix=args.prefix, max_input_tokens=args.max_input_tokens,
                                            max_rounds=args.max_rounds, max_batch_tokens=args.max_batch_tokens,
                                            max_file_bytes=args.max_file_bytes, **common)
    except (attend.Error, ValueError, OSError) as e:
        print(f"python3 -m attend.dask {args.command}: error: {e}", file=sys.stderr)
        return 2
    if args.progress == "none":
        print(report, file=sys.stderr)
    return 0 if report.ok else 1
