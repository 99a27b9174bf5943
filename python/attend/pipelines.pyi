"""Type stubs of attend.pipelines: transformers-shaped translation and summarization pipelines."""
from typing import Any, Dict, List, Optional, Union

from . import Model

_Out = Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]

class TranslationPipeline:
    """Callable: a string → [{"translation_text": ...}] (one dict per returned sequence); a list →
    one per input (a list of lists when num_return_sequences > 1)."""
    model: Model
    task: str
    def __init__(self, model: Model, task: str, defaults: Dict[str, Any]) -> None:
        """Made by pipeline(); `defaults` are the keywords of every call."""
    def __call__(self, inputs: Union[str, List[str]], *more: str, **kwargs: Any) -> _Out:
        """Runs the pipeline; keywords override the defaults for this call."""

class SummarizationPipeline:
    """Callable: a string → [{"summary_text": ...}]; a list → one dict per input."""
    model: Model
    task: str
    def __init__(self, model: Model, task: str, defaults: Dict[str, Any]) -> None:
        """Made by pipeline(); `defaults` are the keywords of every call."""
    def __call__(self, inputs: Union[str, List[str]], *more: str, **kwargs: Any) -> _Out:
        """Runs the pipeline; keywords override the defaults for this call."""

def pipeline(task: str, model: Union[str, Model, None] = None, tokenizer: Any = None, device: Any = None,
             framework: Any = None, compute_type: str = "default", threads: Optional[int] = None,
             src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
             **kwargs: Any) -> Union[TranslationPipeline, SummarizationPipeline]:
    """transformers-style pipeline: task "translation", "translation_XX_to_YY" or
    "summarization"; accepts transformers' keywords (max_length, num_beams, min_length,
    no_repeat_ngram_size, src_lang, tgt_lang, num_return_sequences, batch_size, ...)."""
