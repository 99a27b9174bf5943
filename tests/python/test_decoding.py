"""tests/python/test_decoding.py — issue 17 from Python on the bundled model: sampling keywords in
transformers' and CTranslate2's spellings (seeded, repeatable), target prefixes (text and ids),
return_alternatives, attend.Shortlist (build, save/load, off = unchanged), and clear errors."""
import attend
import pytest

TEXTS = ["A dog runs in the park.", "Two men are playing football on a green field."]


def test_sampling_keywords(bundled):
    a = bundled.translate(TEXTS, do_sample=True, seed=11, temperature=1.3, top_k=0)
    b = bundled.translate(TEXTS, do_sample=True, random_seed=11, sampling_temperature=1.3, sampling_topk=0)
    assert [r.text for r in a] == [r.text for r in b]
    c = bundled.translate(TEXTS, do_sample=True, seed=11, temperature=1.3, top_k=0, max_batch_size=1)
    assert [r.text for r in a] == [r.text for r in c]
    with pytest.raises(attend.Error, match="temperature"):
        bundled.translate(TEXTS, do_sample=True, temperature=0.0)
    with pytest.raises(attend.Error, match="top_p"):
        bundled.translate(TEXTS, sampling_topp=0.0)
    with pytest.raises(TypeError, match="seed"):
        bundled.translate(TEXTS, do_sample=True, seed=1.5)


def test_target_prefix_and_alternatives(bundled):
    r = bundled.translate(TEXTS, target_prefix=["Eine Katze", None])
    assert r[0].text.startswith("Eine Katze")
    assert r[1].text == bundled.translate(TEXTS[1]).text
    ids = r[0].hypotheses[0].ids[1:3]
    assert bundled.translate([TEXTS[0]], target_prefix=[ids])[0].text == r[0].text
    alt = bundled.translate(TEXTS[0], target_prefix=["Ein"], return_alternatives=True, num_hypotheses=3,
                            return_scores=True)
    assert len(alt.hypotheses) == 3
    assert len({h.ids[2] for h in alt.hypotheses}) == 3
    scores = [h.score for h in alt.hypotheses]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(attend.Error, match="too long"):
        bundled.translate(TEXTS[0], target_prefix=["ein zwei drei vier fünf sechs"], max_length=4)


def test_shortlist(bundled, tmp_path):
    sl = attend.Shortlist.build(bundled, ["A dog runs.", "A cat sleeps."], ["Ein Hund rennt.", "Eine Katze schläft."],
                                always=0, per_source=5)
    path = str(tmp_path / "s.list")
    sl.save(path)
    loaded = attend.Shortlist.load(path)
    assert loaded.vocab_size == sl.vocab_size and loaded.source_entries == sl.source_entries
    assert bundled.translate("A dog runs.", shortlist=path).text == "Ein Hund rennt."
    assert bundled.translate(TEXTS, shortlist=None)[0].text == bundled.translate(TEXTS)[0].text
    bad = tmp_path / "other.list"
    bad.write_text("attend-shortlist 1\nvocab_size 10\nfingerprint 0\nidentity 0\nalways 0\nentries 0\n")
    with pytest.raises(attend.Error, match="another vocabulary"):
        bundled.translate(TEXTS, shortlist=str(bad))
