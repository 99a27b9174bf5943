"""Type stubs of the attend package: seq2seq translation and summarization on the CPU.

Every engine error is an ``attend.Error`` (a RuntimeError); a cancelled call raises its
subclass ``attend.Cancelled``; Ctrl-C raises KeyboardInterrupt after cancelling the call.
"""
import os
from dataclasses import dataclass
from typing import Any, Iterator, List, Literal, Optional, Sequence, Tuple, Union, overload

from ._attend import CancelToken as CancelToken
from ._attend import Cancelled as Cancelled
from ._attend import Error as Error
from ._attend import Shortlist as Shortlist
from .pipelines import pipeline as pipeline

__version__: str
_Text = Union[str, bytes]
_EarlyStopping = Union[bool, Literal["never"]]

def version() -> str:
    """The version of the Attend library the extension was built from."""

def default_model_path() -> Optional[str]:
    """The bundled en→de model ($ATTEND_MODEL when set), or None when it is not there."""

@dataclass
class Hypothesis:
    """One output sequence: text, ids (decoder start token first), score (None unless
    return_scores), token_scores (greedy search, with return_scores)."""
    text: str
    ids: List[int]
    score: Optional[float] = ...
    token_scores: List[float] = ...
    attention: Optional[dict] = ...
    alignment: Optional[List[Tuple[int, int]]] = ...

@dataclass
class TranslationResult:
    """The result for one input: hypotheses best first; text/ids/score of the best."""
    hypotheses: List[Hypothesis]
    @property
    def text(self) -> str:
        """The best hypothesis' text."""
    @property
    def ids(self) -> List[int]:
        """The best hypothesis' token ids."""
    @property
    def score(self) -> Optional[float]:
        """The best hypothesis' score (None unless return_scores)."""

@dataclass
class DocumentTranslation:
    """A translated document with its layout, the number of sentences, and the number of
    invalid UTF-8 sequences replaced by U+FFFD."""
    text: str
    sentences: int
    invalid_utf8: int

@dataclass
class SummaryResult:
    """A summary; ``error`` non-empty when this input failed; ``complete`` False when max_rounds
    was reached with the summary still over the length limit."""
    summary: str
    error: str
    chunks: int
    rounds: int
    complete: bool
    source_tokens: int
    generated_tokens: int

@dataclass
class ModelInfo:
    """Family, sizes, languages, generation defaults (dict), task_specific_params (dict),
    quantization, compute type (and why it differs from the request), CPU ISA."""
    family: str
    tokenizer: str
    vocab_size: int
    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    languages: List[str]
    generation_defaults: dict
    task_params: dict
    quantization: str
    compute_type: str
    compute_type_note: str
    cpu_isa: str
    encoder_attention: str
    attention_window: List[int]
    local_radius: int
    global_block_size: int
    max_input_length: int
    cpu_model: str

class Model:
    """A loaded model (Attend file, Hugging Face directory, or a hub id ORG/NAME[@REVISION],
    downloaded into the Hugging Face cache and converted once; an existing local path wins).

    revision, cache_dir, token, offline: hub options (None: as huggingface_hub reads its
    environment: HF_HUB_CACHE / HF_HOME, HF_TOKEN, HF_HUB_OFFLINE).

    compute_type: "default", "auto", "fp32", "bf16" or "int8"; threads: OpenMP threads per call
    (None: all cores). Immutable and safe to use from many threads at once.
    """
    path: str
    def __init__(self, path: Union[str, os.PathLike[str]], compute_type: str = "default",
                 threads: Optional[int] = None, revision: Optional[str] = None,
                 cache_dir: Optional[Union[str, os.PathLike[str]]] = None, token: Optional[str] = None,
                 offline: Optional[bool] = None) -> None: ...
    @overload
    def translate(self, texts: _Text, beam_size: Optional[int] = None, max_length: Optional[int] = None,
                  num_hypotheses: int = 1, src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
                  return_scores: bool = False, **kwargs: Any) -> TranslationResult: ...
    @overload
    def translate(self, texts: Sequence[_Text], beam_size: Optional[int] = None, max_length: Optional[int] = None,
                  num_hypotheses: int = 1, src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
                  return_scores: bool = False, **kwargs: Any) -> List[TranslationResult]:
        """Translates a string (one result) or a sequence of strings (a list, in input order).
        Keywords: max_batch_size, batch_type ("examples"/"tokens"), min_length, max_new_tokens,
        min_new_tokens, length_penalty, no_repeat_ngram_size, repetition_penalty, early_stopping,
        bad_words_ids, forced_bos_token_id, forced_eos_token_id, decoder_start_token_id, prefix,
        cancel (CancelToken); transformers' num_beams / num_return_sequences are accepted too."""
    def generate(self, input_ids: Sequence[Sequence[int]], return_scores: bool = False,
                 **kwargs: Any) -> List[TranslationResult]:
        """Token ids in (with the family's special tokens), results out; keywords as translate()."""
    def translate_stream(self, text: _Text, **kwargs: Any) -> Iterator[str]:
        """Yields pieces of the best translation as they are decided; joined they equal
        translate(text).text. Closing the generator cancels decoding."""
    @overload
    def translate_html(self, html: _Text, **kwargs: Any) -> str:
        """Translates HTML keeping its markup (a string in, a string out)."""
    @overload
    def translate_html(self, html: Sequence[_Text], **kwargs: Any) -> List[str]:
        """Translates HTML documents keeping their markup."""
    def translate_document(self, text: _Text, **kwargs: Any) -> str:
        """Translates one document sentence by sentence, keeping its layout."""
    def translate_documents(self, texts: Sequence[_Text], **kwargs: Any) -> List[DocumentTranslation]:
        """Translates documents, all their sentences batched together."""
    @overload
    def summarize(self, texts: _Text, beam_size: Optional[int] = None, min_length: Optional[int] = None,
                  max_length: Optional[int] = None, **kwargs: Any) -> SummaryResult: ...
    @overload
    def summarize(self, texts: Sequence[_Text], beam_size: Optional[int] = None, min_length: Optional[int] = None,
                  max_length: Optional[int] = None, **kwargs: Any) -> List[SummaryResult]:
        """Summarizes with the model's own summarization settings; long inputs in chunks and
        rounds. Keywords: no_repeat_ngram_size, length_penalty, early_stopping, prefix,
        max_batch_size, max_batch_tokens, max_input_tokens, max_rounds, cancel, ..."""
    def summarize_settings(self, **kwargs: Any) -> dict:
        """The settings summarize() would use: {"prefix", "max_input_tokens", "generation"}."""
    def validate(self, **kwargs: Any) -> None:
        """Raises attend.Error when these translate() keywords are invalid for this model."""
    def tokenize(self, text: _Text, src_lang: Optional[str] = None) -> List[int]:
        """Token ids with the model's tokenizer (special tokens included)."""
    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of token ids, special tokens skipped."""
    def cached_bytes(self) -> int:
        """Resident bytes kept between calls (the last batch's decoder caches and logits)."""
    def release_caches(self) -> None:
        """Frees what cached_bytes() counts; the next call allocates again, same results."""
    @property
    def info(self) -> ModelInfo:
        """What the model is (family, sizes, languages, defaults, compute type)."""

class Translator:
    """Dynamic batching of concurrent callers over one Model (thread-safe)."""
    model: Model
    def __init__(self, model: Union[Model, str], max_batch_size: int = 32, wait_ms: int = 5,
                 max_batch_tokens: int = 4096, max_queued: int = 1024, threads: Optional[int] = None,
                 release_caches_after: float = 30.0) -> None: ...
    @overload
    def translate(self, texts: _Text, beam_size: Optional[int] = None, max_length: Optional[int] = None,
                  num_hypotheses: int = 1, src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
                  return_scores: bool = False, **kwargs: Any) -> TranslationResult: ...
    @overload
    def translate(self, texts: Sequence[_Text], beam_size: Optional[int] = None, max_length: Optional[int] = None,
                  num_hypotheses: int = 1, src_lang: Optional[str] = None, tgt_lang: Optional[str] = None,
                  return_scores: bool = False, **kwargs: Any) -> List[TranslationResult]:
        """As Model.translate; inputs of concurrent callers are decoded together."""
    def stats(self) -> dict:
        """{"batches", "inputs", "max_batch", "cache_releases"} since construction."""

def convert(hf_dir: Union[str, os.PathLike[str]], output: Union[str, os.PathLike[str]],
            quantize: Optional[str] = None, dtype: Optional[str] = None, weights: Optional[str] = None) -> None:
    """Converts a Hugging Face checkpoint directory into an Attend model file (quantize: None,
    "int8", "bf16", "fp16"; dtype: None, "f32", "f16", "bf16"; weights: None, "safetensors", "bin")."""
