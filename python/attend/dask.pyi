"""Type stubs of attend.dask: translate or summarize many files on a Dask cluster, with the
attend command line's --out-dir names, atomic writes and resume rules."""
import os
from dataclasses import dataclass
from typing import IO, Any, List, Optional, Sequence, Tuple, Union

_Paths = Union[str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]]

@dataclass
class Report:
    """What a call did: done / skipped (output existed) input paths, failed (path, message),
    warnings (path, message), seconds, tasks submitted."""
    command: str
    done: List[str] = ...
    skipped: List[str] = ...
    failed: List[Tuple[str, str]] = ...
    warnings: List[Tuple[str, str]] = ...
    seconds: float = ...
    tasks: int = ...
    @property
    def ok(self) -> bool:
        """True when no input failed."""

def translate_files(client: Any, inputs: _Paths, out_dir: Union[str, os.PathLike[str]], model: Optional[str] = None, *,
                    suffix: Optional[str] = None, overwrite: bool = False, beam_size: Optional[int] = None,
                    max_length: Optional[int] = None, src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
                    batch_size: int = 32, batch_type: str = "examples", compute_type: str = "default",
                    threads: Optional[int] = None, max_line_length: int = 10000, files_per_task: Optional[int] = None,
                    progress: Union[bool, IO[str]] = True, log_interval: float = 10.0) -> Report:
    """Translates files/folders on the cluster: out_dir/<relative path><suffix> per input
    (default suffix .translated.txt), as `attend translate FILE... --out-dir`; a rerun skips
    finished outputs; a bad file fails alone."""

def summarize_files(client: Any, inputs: _Paths, out_dir: Union[str, os.PathLike[str]], model: str, *,
                    glob: Optional[str] = None, overwrite: bool = False, beam_size: Optional[int] = None,
                    min_length: Optional[int] = None, max_length: Optional[int] = None,
                    no_repeat_ngram_size: Optional[int] = None, length_penalty: Optional[float] = None,
                    early_stopping: Any = None, prefix: Optional[str] = None, max_input_tokens: int = 0,
                    max_rounds: int = 4, batch_size: int = 32, max_batch_tokens: int = 0,
                    compute_type: str = "default", threads: Optional[int] = None, max_file_bytes: int = ...,
                    files_per_task: Optional[int] = None, progress: Union[bool, IO[str]] = True,
                    log_interval: float = 10.0) -> Report:
    """Summarizes files/folders on the cluster: out_dir/<relative path>.summary.txt per input,
    as `attend summarize PATH... --out-dir`; a rerun skips finished outputs."""

def loaded_models() -> Tuple[int, List[str]]:
    """(models loaded so far, paths kept) in this process; on workers: client.run(loaded_models)."""

def main(argv: Optional[List[str]] = None) -> int:
    """python3 -m attend.dask translate|summarize --scheduler ADDRESS PATH... --out-dir DIR."""
