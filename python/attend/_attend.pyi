"""Type stubs of attend._attend, the pybind11 extension (internal: use the attend package)."""
from typing import Any, Dict, List, Optional, Tuple

class Error(RuntimeError):
    """Every failure the engine reports: bad model file, bad input, bad option (message names the
    file/field)."""

class Cancelled(Error):
    """A call stopped by its CancelToken (or a closed stream)."""

class CancelToken:
    """A cancellation flag any thread may set while a call runs; the call stops after the current
    decoding step and raises Cancelled. A token stays cancelled."""
    def __init__(self) -> None: ...
    def cancel(self) -> None:
        """Asks the call(s) using this token to stop."""
    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""

class GenerationOptions:
    """Generation settings (None: the model's default)."""
    num_beams: Optional[int]
    num_return_sequences: Optional[int]
    max_length: Optional[int]
    max_new_tokens: Optional[int]
    min_length: Optional[int]
    min_new_tokens: Optional[int]
    early_stopping: Optional[str]
    length_penalty: Optional[float]
    no_repeat_ngram_size: Optional[int]
    repetition_penalty: Optional[float]
    bad_words_ids: Optional[List[List[int]]]
    forced_bos_token_id: Optional[int]
    forced_eos_token_id: Optional[int]
    decoder_start_token_id: Optional[int]
    do_sample: Optional[bool]
    temperature: Optional[float]
    top_k: Optional[int]
    top_p: Optional[float]
    typical_p: Optional[float]
    seed: Optional[int]
    def __init__(self) -> None: ...

class Shortlist:
    """attend::Shortlist: a vocabulary shortlist (docs/shortlist.md)."""
    @staticmethod
    def load(path: str) -> "Shortlist":
        """Reads a shortlist file (attend.Error naming the file and line on bad content)."""
    @staticmethod
    def build(model: Any, sources: List[str], targets: List[str], per_source: int = 100, always: int = 1000,
              min_count: int = 1, identity: bool = True) -> "Shortlist":
        """Builds a shortlist from a parallel corpus with the model's tokenizers."""
    def save(self, path: str) -> None:
        """Writes the shortlist file (atomically)."""
    def candidates(self, source_ids: List[List[int]]) -> List[int]:
        """The allowed target ids for these source token ids (sorted)."""
    @property
    def vocab_size(self) -> int:
        """Target vocabulary size the shortlist was built for."""
    @property
    def source_entries(self) -> int:
        """Source tokens with a list."""
    @property
    def always_allowed(self) -> int:
        """Number of always-allowed target tokens."""

class TranslateOptions:
    """attend::TranslateOptions."""
    generation: GenerationOptions
    max_batch_size: int
    batch_tokens: bool
    src_lang: str
    tgt_lang: str
    input_prefix: str
    cancel: CancelToken
    target_prefix: List[str]
    target_prefix_ids: List[List[int]]
    return_alternatives: int
    shortlist: Optional[Shortlist]
    return_attention: bool
    attention_layer: int
    attention_all_layers: bool
    attention_all_heads: bool
    attention_head: int
    def __init__(self) -> None: ...

class SummarizeOptions:
    """attend::SummarizeOptions."""
    generation: GenerationOptions
    prefix: Optional[str]
    max_batch_size: int
    max_batch_tokens: int
    max_input_tokens: int
    max_rounds: int
    def __init__(self) -> None: ...

class Hypothesis:
    """attend::Hypothesis."""
    text: str
    ids: List[int]
    score: float
    token_scores: List[float]
    attention: Optional[dict]

class TranslationResult:
    """attend::TranslationResult."""
    hypotheses: List[Hypothesis]

class DocumentTranslation:
    """attend::DocumentTranslation."""
    text: str
    sentences: int
    invalid_utf8: int

class SummaryResult:
    """attend::SummaryResult."""
    summary: str
    error: str
    chunks: int
    rounds: int
    complete: bool
    source_tokens: int
    generated_tokens: int

class ModelInfo:
    """attend::ModelInfo (generation_defaults and task_params are JSON text)."""
    family: str
    tokenizer: str
    vocab_size: int
    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    languages: List[str]
    generation_defaults: str
    task_params: str
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

class Stream:
    """Pieces of one streaming translation; close() cancels."""
    def __iter__(self) -> "Stream": ...
    def __next__(self) -> str: ...
    def close(self) -> None:
        """Cancels decoding (if still running) and waits for it to stop."""

class Model:
    """attend::Model with the thread count its calls use."""
    threads: int
    def __init__(self, path: str, compute_type: str = "default", threads: int = 0, revision: str = "",
                 cache_dir: str = "", token: str = "", offline: Optional[bool] = None) -> None: ...
    def translate(self, texts: List[str], options: TranslateOptions) -> List[TranslationResult]:
        """Model::translate on a worker thread (GIL released, Ctrl-C cancels)."""
    def generate(self, ids: List[List[int]], options: TranslateOptions) -> List[TranslationResult]:
        """Model::generate."""
    def translate_documents(self, docs: List[str], options: TranslateOptions) -> List[DocumentTranslation]:
        """Model::translate_documents."""
    def translate_stream(self, text: str, options: TranslateOptions) -> Stream:
        """Starts Model::translate with a stream callback."""
    def summarize(self, texts: List[str], options: SummarizeOptions, cancel: CancelToken) -> List[SummaryResult]:
        """Model::summarize (cancel is noticed between batches)."""
    def summarize_settings(self, options: SummarizeOptions) -> str:
        """Model::summarize_settings (JSON text)."""
    def validate(self, options: TranslateOptions) -> None:
        """Model::validate."""
    def tokenize(self, text: str, src_lang: str) -> List[int]:
        """Model::tokenize."""
    def detokenize(self, ids: List[int]) -> str:
        """Model::detokenize."""
    def info(self) -> ModelInfo:
        """Model::info."""
    def cached_bytes(self) -> int:
        """Model::cached_bytes."""
    def release_caches(self) -> None:
        """Model::release_caches (GIL released)."""
    def align_words(self, hypothesis: Hypothesis) -> List[Tuple[int, int]]:
        """Model::align_words: (source word, target word) pairs."""
    def token_pieces(self, ids: List[int]) -> List[str]:
        """Model::token_pieces."""
    def translate_html(self, html: List[str], options: TranslateOptions) -> List[str]:
        """Model::translate_html."""

class Translator:
    """attend::Translator."""
    def __init__(self, model: Model, max_batch_size: int, wait_ms: int, max_batch_tokens: int, max_queued: int,
                 threads: int, release_caches_after_ms: int) -> None: ...
    def translate(self, texts: List[str], options: TranslateOptions) -> List[TranslationResult]:
        """Translator::translate (GIL released, Ctrl-C cancels)."""
    def stats(self) -> Dict[str, int]:
        """Translator::stats."""

def convert(hf_dir: str, output: str, quantize: str, dtype: str, weights: str) -> None:
    """attend::convert_model."""

def version() -> str:
    """attend::version()."""
