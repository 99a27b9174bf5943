"""attend — Attend's Python API: seq2seq translation and summarization on the CPU.

The engine is Attend's C++ library (the ``attend._attend`` extension); this module gives it
Python signatures. Objects may be shared between threads; the GIL is released while decoding
and Ctrl-C (KeyboardInterrupt) cancels a running call. Every engine error is an
``attend.Error`` (a ``RuntimeError``); a cancelled call raises its subclass ``attend.Cancelled``.

    import attend
    model = attend.Model("models/default/marian-en-de-multi30k.attend")
    print(model.translate("A dog runs in the park.").text)

``attend.pipeline(...)`` mirrors transformers' pipelines; ``attend.dask`` spreads files over
a Dask cluster.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from . import _attend
from ._attend import CancelToken, Cancelled, Error, Shortlist
from ._options import summarize_options, translate_options

__all__ = [
    "Model", "Translator", "TranslationResult", "Hypothesis", "DocumentTranslation", "SummaryResult",
    "ModelInfo", "CancelToken", "Error", "Cancelled", "Shortlist", "convert", "pipeline", "version", "default_model_path",
]

__version__ = _attend.version()


def version() -> str:
    """The version of the Attend library the extension was built from."""
    return _attend.version()


def default_model_path() -> Optional[str]:
    """The bundled en→de model (``$ATTEND_MODEL`` when set), or None when it is not there."""
    env = os.environ.get("ATTEND_MODEL")
    if env:
        return env
    try:
        from ._config import DEFAULT_MODEL  # written by the build (CMake or setup.py)
    except ImportError:
        return None
    return DEFAULT_MODEL if DEFAULT_MODEL and os.path.isfile(DEFAULT_MODEL) else None


@dataclass
class Hypothesis:
    """One output sequence: detokenized text, ids (decoder start token first, EOS included when
    emitted), score (beam: transformers' sequences_scores; greedy: sum of token scores; None
    unless return_scores) and per-token scores (greedy search)."""
    text: str
    ids: List[int]
    score: Optional[float] = None
    token_scores: List[float] = field(default_factory=list)
    # With return_attention=True: {"layers", "heads" ("mean" or a count), "head", "source_ids",
    # "source_tokens", "target_tokens", "weights" nested [layer][head][target][source]} and the
    # word alignment [(source word, target word), ...] (docs/attention.md).
    attention: Optional[dict] = None
    alignment: Optional[List[Tuple[int, int]]] = None


@dataclass
class TranslationResult:
    """The result for one input: ``hypotheses`` best first; ``text``, ``ids`` and ``score`` are
    the best hypothesis'."""
    hypotheses: List[Hypothesis]

    @property
    def text(self) -> str:
        return self.hypotheses[0].text

    @property
    def ids(self) -> List[int]:
        return self.hypotheses[0].ids

    @property
    def score(self) -> Optional[float]:
        return self.hypotheses[0].score


@dataclass
class DocumentTranslation:
    """A translated document: text with the input's layout, sentences translated, invalid UTF-8
    sequences replaced by U+FFFD before translating."""
    text: str
    sentences: int
    invalid_utf8: int


@dataclass
class SummaryResult:
    """A summary. ``error`` is set (and ``summary`` empty) when this input failed, e.g. an empty
    text; ``complete`` is False when max_rounds was reached with the joined chunk summaries still
    over the length limit."""
    summary: str
    error: str
    chunks: int
    rounds: int
    complete: bool
    source_tokens: int
    generated_tokens: int


@dataclass
class ModelInfo:
    """What a loaded model is (Model.info())."""
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
    # long inputs: encoder attention kind, LED windows, LongT5 radius / global block, max tokens
    encoder_attention: str = "full"
    attention_window: List[int] = field(default_factory=list)
    local_radius: int = 0
    global_block_size: int = 0
    max_input_length: int = 0
    # the CPU as cpuid names it, with family, model and stepping
    cpu_model: str = ""


def _hypothesis(h, return_scores: bool, model=None) -> Hypothesis:
    out = Hypothesis(h.text, h.ids, h.score if return_scores else None, h.token_scores if return_scores else [])
    att = h.attention
    if att is not None and model is not None:
        att["source_tokens"] = model.token_pieces(att["source_ids"])
        att["target_tokens"] = model.token_pieces(list(h.ids)[1:])
        out.attention = att
        out.alignment = [tuple(p) for p in model.align_words(h)]
    return out


def _results(raw, return_scores: bool, model=None) -> List[TranslationResult]:
    return [TranslationResult([_hypothesis(h, return_scores, model) for h in r.hypotheses]) for r in raw]


def _text_list(texts, what: str = "texts") -> List[Union[str, bytes]]:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{what}: expected a sequence of strings")
    items = list(texts)
    for i, t in enumerate(items):
        if not isinstance(t, (str, bytes)):
            raise TypeError(f"{what}[{i}]: expected str, got {type(t).__name__}")
    return items


class Model:
    """A loaded model: an Attend model file (``attend convert``), a Hugging Face checkpoint
    directory, or whatever else ``attend::Model::load`` accepts (the string is passed through).

    A hub id (``"Helsinki-NLP/opus-mt-en-de"``, optionally ``@revision``) is downloaded into the
    Hugging Face cache and converted once; an existing local path always wins. ``revision``,
    ``cache_dir``, ``token`` and ``offline`` are the hub options (None: ``HF_HUB_CACHE``/``HF_HOME``,
    ``HF_TOKEN``, ``HF_HUB_OFFLINE`` as huggingface_hub reads them).

    ``compute_type``: "default" (as the file was quantized), "auto" (fastest on this CPU),
    "fp32", "bf16" or "int8". ``threads``: OpenMP threads of each call (None: all cores).
    A Model is immutable and may be used from many threads at once; each call decodes its own
    inputs (use ``Translator`` to batch concurrent callers together).
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], compute_type: str = "default",
                 threads: Optional[int] = None, revision: Optional[str] = None,
                 cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None, token: Optional[str] = None,
                 offline: Optional[bool] = None):
        if threads is not None and threads < 1:
            raise ValueError("threads must be >= 1 (or None for all cores)")
        self.path = os.fspath(path)
        self._m = _attend.Model(self.path, compute_type, threads or 0, revision or "",
                                os.fspath(cache_dir) if cache_dir is not None else "", token or "", offline)

    def __repr__(self) -> str:
        return f"attend.Model({self.path!r})"

    def translate(self, texts, beam_size=None, max_length=None, num_hypotheses=1, src_lang=None, tgt_lang=None,
                  return_scores=False, **kwargs):
        """Translates a string (returns one TranslationResult) or a sequence of strings (returns a
        list, in input order). Unset settings come from the model's generation defaults. Further
        keywords: max_batch_size, batch_type ("examples"/"tokens"), min_length, max_new_tokens,
        min_new_tokens, length_penalty, no_repeat_ngram_size, repetition_penalty, early_stopping
        (True/False/"never"), bad_words_ids, forced_bos_token_id, forced_eos_token_id,
        decoder_start_token_id, prefix, cancel (a CancelToken); sampling: do_sample, temperature,
        top_k, top_p, typical_p, seed (also CTranslate2's sampling_temperature, sampling_topk,
        sampling_topp); target_prefix (one per input: text or token ids), return_alternatives
        (N, or True with num_hypotheses), shortlist (a Shortlist or a shortlist file path);
        return_attention (each hypothesis gets ``attention`` and ``alignment``), attention_layer
        (default -1: the last decoder layer), attention_head (default: the mean over heads),
        attention_all_layers, attention_all_heads."""
        single = isinstance(texts, (str, bytes))
        opt = translate_options(beam_size=beam_size, max_length=max_length, num_hypotheses=num_hypotheses,
                                src_lang=src_lang, tgt_lang=tgt_lang, **kwargs)
        raw = self._m.translate([texts] if single else _text_list(texts), opt)
        res = _results(raw, return_scores, self._m)
        return res[0] if single else res

    def generate(self, input_ids: Sequence[Sequence[int]], return_scores=False, **kwargs) -> List[TranslationResult]:
        """Token ids in (each input with the family's special tokens), results out; keywords as
        for translate()."""
        opt = translate_options(**kwargs)
        return _results(self._m.generate([list(map(int, ids)) for ids in input_ids], opt), return_scores, self._m)

    def translate_stream(self, text: str, **kwargs) -> Iterator[str]:
        """Translates one text, yielding pieces of the best hypothesis' text as they are decided
        (greedy: every step; beam: the prefix all surviving hypotheses share). The pieces
        concatenated are translate(text).text. Closing the generator early cancels decoding."""
        if not isinstance(text, (str, bytes)):
            raise TypeError("translate_stream takes one string")
        opt = translate_options(**kwargs)
        stream = self._m.translate_stream(text, opt)
        try:
            yield from stream
        finally:
            stream.close()

    def translate_html(self, html, **kwargs):
        """Translates HTML (a string: returns a string; a sequence: a list) keeping its markup:
        each block's text is translated as one input, inline tags (b, i, a, span, em, strong,
        ...) are put back around the target words aligned to their source words, script, style,
        code, pre and translate="no" content is left as it is (docs/attention.md). Keywords as for
        translate(); attention_layer / attention_head choose the alignment."""
        single = isinstance(html, (str, bytes))
        opt = translate_options(**kwargs)
        out = self._m.translate_html([html] if single else _text_list(html), opt)
        return out[0] if single else list(out)

    def translate_document(self, text: str, **kwargs) -> str:
        """Translates one document: split into paragraphs and sentences, translated, and put back
        with its layout (blank lines, whitespace between sentences) unchanged."""
        return self.translate_documents([text], **kwargs)[0].text

    def translate_documents(self, texts: Sequence[str], **kwargs) -> List[DocumentTranslation]:
        """Translates documents, the sentences of all of them batched together."""
        opt = translate_options(**kwargs)
        return [DocumentTranslation(d.text, d.sentences, d.invalid_utf8)
                for d in self._m.translate_documents(_text_list(texts), opt)]

    def summarize(self, texts, beam_size=None, min_length=None, max_length=None, **kwargs):
        """Summarizes a string (one SummaryResult) or a sequence of strings (a list) with the
        model's own summarization settings (config.json's task_specific_params, generation
        defaults), long inputs in chunks and rounds. Further keywords: no_repeat_ngram_size,
        length_penalty, early_stopping, repetition_penalty, max_new_tokens, min_new_tokens,
        prefix, max_batch_size, max_batch_tokens, max_input_tokens, max_rounds, cancel.
        A bad input (empty) gets ``error`` set and the others go on."""
        single = isinstance(texts, (str, bytes))
        cancel = kwargs.pop("cancel", None) or CancelToken()
        opt = summarize_options(beam_size=beam_size, min_length=min_length, max_length=max_length, **kwargs)
        raw = self._m.summarize([texts] if single else _text_list(texts), opt, cancel)
        res = [SummaryResult(r.summary, r.error, r.chunks, r.rounds, r.complete, r.source_tokens, r.generated_tokens)
               for r in raw]
        return res[0] if single else res

    def summarize_settings(self, **kwargs) -> dict:
        """The settings summarize() would use with these keywords: {"prefix", "max_input_tokens",
        "generation": {...}}. Raises attend.Error for invalid settings."""
        return json.loads(self._m.summarize_settings(summarize_options(**kwargs)))

    def validate(self, **kwargs) -> None:
        """Raises attend.Error when these translate() keywords are invalid for this model."""
        self._m.validate(translate_options(**kwargs))

    def tokenize(self, text: str, src_lang: Optional[str] = None) -> List[int]:
        """Token ids of ``text`` with the model's tokenizer (special tokens included)."""
        return self._m.tokenize(text, src_lang or "")

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of token ids, special tokens skipped."""
        return self._m.detokenize([int(i) for i in ids])

    def cached_bytes(self) -> int:
        """Resident bytes kept between calls (the last batch's decoder caches and logits)."""
        return self._m.cached_bytes()

    def release_caches(self) -> None:
        """Frees what cached_bytes() counts (an application going idle); the next call allocates
        again and gives the same results. Safe while other threads translate."""
        self._m.release_caches()

    @property
    def info(self) -> ModelInfo:
        """Family, sizes, languages, generation defaults, quantization and compute type."""
        i = self._m.info()
        return ModelInfo(i.family, i.tokenizer, i.vocab_size, i.d_model, i.encoder_layers, i.decoder_layers, i.heads,
                         list(i.languages), json.loads(i.generation_defaults or "{}"),
                         json.loads(i.task_params or "{}"), i.quantization, i.compute_type, i.compute_type_note,
                         i.cpu_isa, i.encoder_attention, list(i.attention_window), i.local_radius,
                         i.global_block_size, i.max_input_length, i.cpu_model)


class Translator:
    """Dynamic batching for concurrent callers (``attend::Translator``): any number of threads
    call translate() at once; one compute thread (``threads`` OpenMP threads) batches their
    inputs together, waiting up to ``wait_ms`` for more. Results equal Model.translate().
    After ``release_caches_after`` seconds with nothing to decode it frees the buffers the model
    keeps between batches (Model.release_caches); 0 keeps them."""

    def __init__(self, model: Union[Model, str], max_batch_size: int = 32, wait_ms: int = 5,
                 max_batch_tokens: int = 4096, max_queued: int = 1024, threads: Optional[int] = None,
                 release_caches_after: float = 30.0):
        if not release_caches_after >= 0:
            raise ValueError("release_caches_after must be >= 0 seconds")
        self.model = model if isinstance(model, Model) else Model(model)
        after_ms = 0 if release_caches_after == 0 else max(1, min(2_000_000_000, math.ceil(release_caches_after * 1000)))
        self._t = _attend.Translator(self.model._m, max_batch_size, wait_ms, max_batch_tokens, max_queued,
                                     threads or 0, after_ms)

    def translate(self, texts, beam_size=None, max_length=None, num_hypotheses=1, src_lang=None, tgt_lang=None,
                  return_scores=False, **kwargs):
        """As Model.translate (max_batch_size is the Translator's)."""
        single = isinstance(texts, (str, bytes))
        opt = translate_options(beam_size=beam_size, max_length=max_length, num_hypotheses=num_hypotheses,
                                src_lang=src_lang, tgt_lang=tgt_lang, **kwargs)
        res = _results(self._t.translate([texts] if single else _text_list(texts), opt), return_scores,
                       self.model._m)
        return res[0] if single else res

    def stats(self) -> dict:
        """{"batches", "inputs", "max_batch", "cache_releases"} since construction."""
        return self._t.stats()


def convert(hf_dir: str, output: str, quantize: Optional[str] = None, dtype: Optional[str] = None,
            weights: Optional[str] = None) -> None:
    """Converts a Hugging Face checkpoint directory into an Attend model file. ``quantize``:
    None, "int8", "bf16" or "fp16"; ``dtype``: None (as stored), "f32", "f16", "bf16";
    ``weights``: None, "safetensors" or "bin" (which weights file to read)."""
    _attend.convert(os.fspath(hf_dir), os.fspath(output), quantize or "", dtype or "", weights or "")


from .pipelines import pipeline  # noqa: E402  (uses Model)

_shortlist_build = _attend.Shortlist.build


def _build_shortlist(model, sources, targets, per_source=100, always=1000, min_count=1, identity=True):
    """Shortlist.build(model, sources, targets, ...): a vocabulary shortlist from a parallel corpus
    (sources[i] translates to targets[i]) with the model's tokenizers; see docs/shortlist.md."""
    return _shortlist_build(getattr(model, "_m", model), list(sources), list(targets), per_source, always,
                            min_count, identity)


Shortlist.build = staticmethod(_build_shortlist)
