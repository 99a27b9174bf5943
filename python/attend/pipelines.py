"""attend.pipelines — ``attend.pipeline(...)``: transformers-pipeline-shaped translation and
summarization, so code written for ``transformers.pipeline`` switches by changing one import.

Output shapes follow transformers' Text2TextGenerationPipeline: a string gives a list with one
dict per returned sequence (``[{"translation_text": ...}]``); a list of strings gives one such
list per input, flattened to one dict per input when each has a single sequence.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Union

from . import Error, Model

# transformers' generate keywords this pipeline passes on (others are rejected by the engine
# option builders with a TypeError naming them).
_IGNORED = {"clean_up_tokenization_spaces", "truncation", "padding"}


def _check_common(kwargs: Dict[str, Any]) -> None:
    # do_sample, temperature, top_k, top_p, typical_p, seed pass on to the engine (issue 17).
    for k in _IGNORED:
        kwargs.pop(k, None)


class _Pipeline:
    task: str
    key: str

    def __init__(self, model: Model, task: str, defaults: Dict[str, Any]):
        self.model = model
        self.task = task
        self._defaults = defaults

    def __repr__(self) -> str:
        return f"attend.pipeline({self.task!r}, model={self.model.path!r})"

    def __call__(self, inputs: Union[str, List[str]], *more: str, **kwargs: Any):
        if more:  # transformers accepts pipe("a", "b") as a batch
            inputs = [inputs, *more]
        settings = {**self._defaults, **kwargs}
        _check_common(settings)
        batch_size = settings.pop("batch_size", None)
        if batch_size is not None:
            settings["max_batch_size"] = batch_size
        return_tensors = settings.pop("return_tensors", None)
        return_text = settings.pop("return_text", None)
        if return_text is None:
            return_text = not return_tensors
        single = isinstance(inputs, str)
        texts = [inputs] if single else list(inputs)
        per_input = self._run(texts, settings, bool(return_tensors), bool(return_text))
        if single:
            return per_input[0]
        if all(len(r) == 1 for r in per_input):
            return [r[0] for r in per_input]
        return per_input

    def _run(self, texts: List[str], settings: Dict[str, Any], tensors: bool, text: bool) -> List[List[dict]]:
        raise NotImplementedError


class TranslationPipeline(_Pipeline):
    """``pipeline("translation" | "translation_XX_to_YY", model=...)``: ``[{"translation_text": ...}]``
    (``"translation_token_ids"`` with return_tensors=True)."""

    def _run(self, texts, settings, tensors, text):
        results = self.model.translate(texts, **settings)
        out = []
        for r in results:
            recs = []
            for h in r.hypotheses:
                rec = {}
                if tensors:
                    rec["translation_token_ids"] = list(h.ids)
                if text:
                    rec["translation_text"] = h.text
                recs.append(rec)
            out.append(recs)
        return out


class SummarizationPipeline(_Pipeline):
    """``pipeline("summarization", model=...)``: ``[{"summary_text": ...}]``, with the model's own
    summarization settings and long inputs summarized in chunks. A failed input raises attend.Error."""

    def _run(self, texts, settings, tensors, text):
        if tensors:
            raise Error("return_tensors=True is not supported for summarization (summaries may come from several rounds)")
        settings.pop("src_lang", None)
        settings.pop("tgt_lang", None)
        out = []
        for i, r in enumerate(self.model.summarize(texts, **settings)):
            if r.error:
                raise Error(f"input {i}: {r.error}")
            out.append([{"summary_text": r.summary}])
        return out


_TRANSLATION_TASK = re.compile(r"^translation_([^_]+(?:_[A-Za-z0-9]+)?)_to_(.+)$")


def _translation_defaults(model: Model, task: str, src_lang: Optional[str], tgt_lang: Optional[str]) -> Dict[str, Any]:
    """transformers' behaviour for translation_XX_to_YY: config.json's task_specific_params[task]
    (T5: "translate English to German: " prefix, lengths, beams), and for multilingual models the
    languages of the task name when the model knows them."""
    info = model.info
    defaults: Dict[str, Any] = {}
    params = info.task_params.get(task) if isinstance(info.task_params, dict) else None
    if isinstance(params, dict):
        for k in ("num_beams", "max_length", "min_length", "early_stopping", "no_repeat_ngram_size", "length_penalty"):
            if k in params:
                defaults[k] = params[k]
        if params.get("prefix"):
            defaults["prefix"] = params["prefix"]
    m = _TRANSLATION_TASK.match(task)
    if m and info.languages:
        if src_lang is None and m.group(1) in info.languages:
            src_lang = m.group(1)
        if tgt_lang is None and m.group(2) in info.languages:
            tgt_lang = m.group(2)
    if src_lang is not None:
        defaults["src_lang"] = src_lang
    if tgt_lang is not None:
        defaults["tgt_lang"] = tgt_lang
    return defaults


def pipeline(task: str, model: Union[str, Model, None] = None, tokenizer: Any = None, device: Any = None,
             framework: Any = None, compute_type: str = "default", threads: Optional[int] = None,
             src_lang: Optional[str] = None, tgt_lang: Optional[str] = None, **kwargs: Any):
    """transformers-style pipeline over an Attend model.

    ``task``: "translation", "translation_XX_to_YY" or "summarization". ``model``: a path (Attend
    file, HF directory, or hub id where supported), an ``attend.Model``, or None for the bundled
    en→de model (translation). ``tokenizer`` must be None or the model's own path (Attend uses the
    model's tokenizer); ``device`` must be CPU (None, -1 or "cpu"). Further keywords become
    defaults of every call: max_length, num_beams, min_length, no_repeat_ngram_size,
    length_penalty, early_stopping, num_return_sequences, batch_size, ...
    """
    if device not in (None, -1, "cpu"):
        raise Error(f"device={device!r}: Attend runs on the CPU only")
    if framework not in (None, "pt"):
        raise Error(f"framework={framework!r} is not supported")
    if model is None:
        from . import default_model_path
        model = default_model_path()
        if model is None or task == "summarization":
            raise Error(f"pipeline({task!r}) needs model=...")
    if tokenizer is not None and not (isinstance(tokenizer, str) and isinstance(model, str) and tokenizer == model):
        raise Error("tokenizer=: Attend uses the model's own tokenizer; leave it out")
    m = model if isinstance(model, Model) else Model(model, compute_type=compute_type, threads=threads)
    if task == "summarization":
        return SummarizationPipeline(m, task, dict(kwargs))
    if task == "translation" or _TRANSLATION_TASK.match(task):
        defaults = _translation_defaults(m, task, src_lang, tgt_lang)
        defaults.update(kwargs)
        return TranslationPipeline(m, task, defaults)
    raise Error(f"unknown task {task!r}: use 'translation', 'translation_XX_to_YY' or 'summarization'")
