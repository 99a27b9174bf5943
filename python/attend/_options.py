"""attend._options — Python keywords → the engine's TranslateOptions / SummarizeOptions.

Keyword names follow CTranslate2 (beam_size, num_hypotheses) and transformers' generate
(num_beams, num_return_sequences, max_length, ...); both spellings are accepted. An unknown
keyword is a TypeError naming it; values out of range are reported by the engine (attend.Error).
"""
from __future__ import annotations

from typing import Any, Dict

from . import _attend

# Generation settings: keyword → GenerationOptions field.
_GENERATION = {
    "beam_size": "num_beams", "num_beams": "num_beams",
    "num_hypotheses": "num_return_sequences", "num_return_sequences": "num_return_sequences",
    "max_length": "max_length", "max_new_tokens": "max_new_tokens",
    "min_length": "min_length", "min_new_tokens": "min_new_tokens",
    "length_penalty": "length_penalty", "no_repeat_ngram_size": "no_repeat_ngram_size",
    "repetition_penalty": "repetition_penalty", "bad_words_ids": "bad_words_ids",
    "forced_bos_token_id": "forced_bos_token_id", "forced_eos_token_id": "forced_eos_token_id",
    "decoder_start_token_id": "decoder_start_token_id", "early_stopping": "early_stopping",
    # issue 17: sampling (transformers' names, and CTranslate2's sampling_* spellings)
    "do_sample": "do_sample", "temperature": "temperature", "sampling_temperature": "temperature",
    "top_k": "top_k", "sampling_topk": "top_k", "top_p": "top_p", "sampling_topp": "top_p",
    "typical_p": "typical_p", "seed": "seed", "random_seed": "seed",
}
_FLOATS = {"length_penalty", "repetition_penalty", "temperature", "top_p", "typical_p"}


def _early_stopping(v: Any) -> str:
    if v is True or v == "true":
        return "true"
    if v is False or v == "false":
        return "false"
    if v == "never":
        return "never"
    raise ValueError(f"early_stopping must be True, False or 'never', not {v!r}")


def _generation(kwargs: Dict[str, Any], gen) -> None:
    seen: Dict[str, str] = {}
    for key in list(kwargs):
        field = _GENERATION.get(key)
        if field is None:
            continue
        value = kwargs.pop(key)
        if value is None:
            continue
        if field in seen and seen[field] != key:
            raise TypeError(f"{key} and {seen[field]} set the same thing; give one")
        seen[field] = key
        if field == "early_stopping":
            value = _early_stopping(value)
        elif field == "do_sample":
            value = bool(value)
        elif field == "seed":
            if isinstance(value, bool) or int(value) != value:
                raise TypeError(f"{key} must be an integer, not {value!r}")
            value = int(value) & 0xFFFFFFFFFFFFFFFF
        elif field == "bad_words_ids":
            value = [[int(t) for t in w] for w in value]
        elif field in _FLOATS:
            value = float(value)
        else:
            if isinstance(value, bool) or int(value) != value:
                raise TypeError(f"{key} must be an integer, not {value!r}")
            value = int(value)
        setattr(gen, field, value)


def _reject_rest(kwargs: Dict[str, Any], what: str) -> None:
    if kwargs:
        raise TypeError(f"{what}() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")


def translate_options(**kwargs: Any) -> "_attend.TranslateOptions":
    """TranslateOptions from translate() keywords."""
    o = _attend.TranslateOptions()
    gen = _attend.GenerationOptions()
    if kwargs.get("num_hypotheses") == 1 and kwargs.get("num_return_sequences") is not None:
        kwargs.pop("num_hypotheses")  # the default of one spelling does not clash with the other
    _generation(kwargs, gen)
    o.generation = gen
    if kwargs.get("max_batch_size") is not None:
        o.max_batch_size = int(kwargs.pop("max_batch_size"))
    kwargs.pop("max_batch_size", None)
    batch_type = kwargs.pop("batch_type", None) or "examples"
    if batch_type not in ("examples", "tokens"):
        raise ValueError(f"batch_type must be 'examples' or 'tokens', not {batch_type!r}")
    o.batch_tokens = batch_type == "tokens"
    o.src_lang = kwargs.pop("src_lang", None) or ""
    o.tgt_lang = kwargs.pop("tgt_lang", None) or ""
    o.input_prefix = kwargs.pop("prefix", None) or ""
    cancel = kwargs.pop("cancel", None)
    if cancel is not None:
        o.cancel = cancel
    # issue 17: target prefixes (one per input: text, or a list of token ids), alternatives, shortlist
    target_prefix = kwargs.pop("target_prefix", None)
    if target_prefix is not None:
        items = list(target_prefix)
        if items and all(isinstance(p, str) or p is None for p in items):
            o.target_prefix = [p or "" for p in items]
        else:
            o.target_prefix_ids = [[int(t) for t in (p or [])] for p in items]
    alternatives = kwargs.pop("return_alternatives", None)
    if alternatives is not None:
        n = kwargs.pop("num_alternatives", None)
        if alternatives is True:  # CTranslate2: num_hypotheses alternatives
            alternatives = n if n is not None else max(1, gen.num_return_sequences or 1)
            gen.num_return_sequences = None
            o.generation = gen
        o.return_alternatives = int(alternatives or 0)
    kwargs.pop("num_alternatives", None)
    shortlist = kwargs.pop("shortlist", None)
    if shortlist is not None:
        o.shortlist = shortlist if isinstance(shortlist, _attend.Shortlist) else _attend.Shortlist.load(str(shortlist))
    # cross-attention (docs/attention.md)
    o.return_attention = bool(kwargs.pop("return_attention", False))
    for key in ("attention_layer", "attention_head"):
        v = kwargs.pop(key, None)
        if v is not None:
            if isinstance(v, bool) or int(v) != v:
                raise TypeError(f"{key} must be an integer, not {v!r}")
            setattr(o, key, int(v))
    o.attention_all_layers = bool(kwargs.pop("attention_all_layers", False))
    o.attention_all_heads = bool(kwargs.pop("attention_all_heads", False))
    _reject_rest(kwargs, "translate")
    return o


def summarize_options(**kwargs: Any) -> "_attend.SummarizeOptions":
    """SummarizeOptions from summarize() keywords (None = the model's setting)."""
    o = _attend.SummarizeOptions()
    gen = _attend.GenerationOptions()
    _generation(kwargs, gen)
    o.generation = gen
    if "prefix" in kwargs:
        p = kwargs.pop("prefix")
        if p is not None:
            o.prefix = p
    for key in ("max_batch_size", "max_batch_tokens", "max_input_tokens", "max_rounds"):
        v = kwargs.pop(key, None)
        if v is not None:
            setattr(o, key, int(v))
    _reject_rest(kwargs, "summarize")
    return o
