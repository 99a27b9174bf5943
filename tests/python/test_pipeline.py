"""tests/python/test_pipeline.py — attend.pipeline: transformers' output shapes and keyword names,
results equal to the Model calls they stand for, task_specific_params of translation tasks."""
import json
import os

import pytest

import attend
from conftest import fixture_model


@pytest.fixture(scope="module")
def translator(bundled):
    return attend.pipeline("translation_en_to_de", model=bundled)


def test_translation_shapes(translator, bundled):
    texts = ["A dog runs in the park.", "Two men are talking."]
    expected = [r.text for r in bundled.translate(texts)]
    assert translator(texts[0]) == [{"translation_text": expected[0]}]
    assert translator(texts) == [{"translation_text": t} for t in expected]
    assert translator(texts[0], texts[1]) == [{"translation_text": t} for t in expected]
    # Several sequences: a list per input (transformers' Text2TextGenerationPipeline).
    two = translator(texts, num_return_sequences=2, num_beams=4)
    assert [[d["translation_text"] for d in per] for per in two] == \
        [[h.text for h in r.hypotheses] for r in bundled.translate(texts, num_hypotheses=2, beam_size=4)]
    single_two = translator(texts[0], num_return_sequences=2, num_beams=4)
    assert len(single_two) == 2 and all(set(d) == {"translation_text"} for d in single_two)
    ids = translator(texts[0], return_tensors=True)
    assert ids == [{"translation_token_ids": bundled.translate(texts[0]).ids}]
    both = translator(texts[0], return_tensors=True, return_text=True)
    assert set(both[0]) == {"translation_token_ids", "translation_text"}


def test_translation_keywords_reach_the_engine(translator, bundled):
    text = "A man in an orange hat starring at something."
    for kw, model_kw in [
        (dict(max_length=5), dict(max_length=5)),
        (dict(num_beams=1), dict(beam_size=1)),
        (dict(min_length=20, num_beams=2), dict(min_length=20, beam_size=2)),
        (dict(no_repeat_ngram_size=1, min_length=15), dict(no_repeat_ngram_size=1, min_length=15)),
        (dict(max_new_tokens=3, early_stopping=True, length_penalty=0.5), dict(max_new_tokens=3)),
    ]:
        assert translator(text, **kw) == [{"translation_text": bundled.translate(text, **model_kw).text}], kw
    assert translator(text, max_length=5) != translator(text)
    assert translator([text] * 3, batch_size=2, truncation=True, clean_up_tokenization_spaces=True) == \
        [{"translation_text": bundled.translate(text).text}] * 3
    # Languages are passed through: this model has none, so the engine says so.
    with pytest.raises(attend.Error, match="language"):
        translator(text, tgt_lang="de")
    with pytest.raises(attend.Error, match="language"):
        attend.pipeline("translation", model=bundled, tgt_lang="fr")(text)
    # Sampling (issue 17): a fixed seed gives a fixed output; invalid warper settings are errors.
    sampled = translator(text, do_sample=True, seed=7, top_k=20)
    assert sampled == translator(text, do_sample=True, seed=7, top_k=20)
    assert sampled[0]["translation_text"]
    with pytest.raises(attend.Error, match="temperature"):
        translator(text, do_sample=True, temperature=0)
    with pytest.raises(attend.Error, match="top_p"):
        translator(text, do_sample=True, top_p=1.5)
    with pytest.raises(attend.Error, match="unknown task"):
        attend.pipeline("text-classification", model=bundled)
    with pytest.raises(attend.Error, match="CPU"):
        attend.pipeline("translation_en_to_de", model=bundled, device=0)


def test_pipeline_from_a_path(bundled_path):
    p = attend.pipeline("translation_en_to_de", model=bundled_path, threads=1)
    assert p("A dog.") == [{"translation_text": attend.Model(bundled_path).translate("A dog.").text}]


def test_summarization_shapes_and_settings():
    model_dir = fixture_model("t5_text")
    with open(os.path.join(model_dir, "cases.json"), encoding="utf-8") as f:
        case = {c["name"]: c for c in json.load(f)["cases"]}["summarization_task_params"]
    summarizer = attend.pipeline("summarization", model=model_dir, threads=1)
    text = case["input_text"][0]
    expected = case["expected"]["decoded_text"][0].strip()
    assert summarizer(text) == [{"summary_text": expected}]
    assert summarizer([text, text]) == [{"summary_text": expected}] * 2
    short = summarizer(text, max_length=10, min_length=2, num_beams=2, no_repeat_ngram_size=2)
    m = summarizer.model
    assert short == [{"summary_text": m.summarize(text, max_length=10, min_length=2, beam_size=2,
                                                  no_repeat_ngram_size=2).summary}]
    assert short != [{"summary_text": expected}]
    with pytest.raises(attend.Error, match="input 1"):
        summarizer([text, "  "])


def test_translation_task_params_prefix(tmp_path):
    """translation_XX_to_YY applies config.json's task_specific_params[task] (T5's prefix), as
    transformers' pipeline does."""
    src = fixture_model("t5_text")
    dst = tmp_path / "t5"
    dst.mkdir()
    for name in os.listdir(src):
        if name != "config.json":
            os.symlink(os.path.join(src, name), dst / name)
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["task_specific_params"]["translation_en_to_de"] = {
        "prefix": "translate English to German: ", "max_length": 12, "num_beams": 2, "early_stopping": True}
    (dst / "config.json").write_text(json.dumps(config), encoding="utf-8")
    m = attend.Model(str(dst), threads=1)
    p = attend.pipeline("translation_en_to_de", model=m)
    text = "The cat sat on the mat."
    want = m.translate(text, prefix="translate English to German: ", max_length=12, beam_size=2,
                       early_stopping=True).text
    assert p(text) == [{"translation_text": want}]
    assert want != m.translate(text, max_length=12, beam_size=2).text
    assert p(text, max_length=6) == [{"translation_text": m.translate(
        text, prefix="translate English to German: ", max_length=6, beam_size=2, early_stopping=True).text}]
