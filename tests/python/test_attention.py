"""tests/python/test_attention.py — cross-attention from Python: return_attention= gives each
hypothesis its weights (labelled with token strings) and a word alignment equal to the C++
library's (checked against the same translation through the CLI's --alignments), attention
options, and translate_html keeping markup."""
import subprocess

import pytest

import attend


def test_return_attention_weights_and_alignment(bundled, cli, bundled_path):
    text = "A dog runs in the park."
    plain = bundled.translate(text)
    r = bundled.translate(text, return_attention=True)
    assert r.text == plain.text and plain.hypotheses[0].attention is None
    h = r.hypotheses[0]
    a = h.attention
    assert a["layers"] == [bundled.info.decoder_layers - 1] and a["heads"] == "mean"
    assert a["source_ids"] == bundled.tokenize(text)
    assert len(a["source_tokens"]) == len(a["source_ids"]) and a["source_tokens"][-1] == "</s>"
    assert len(a["target_tokens"]) == len(h.ids) - 1
    rows = a["weights"][0][0]
    assert len(rows) == len(h.ids) - 1
    for row in rows:
        assert len(row) == len(a["source_ids"]) and abs(sum(row) - 1.0) < 1e-4
    # the alignment equals the CLI's for the same input
    out = subprocess.run([cli, "translate", "-m", bundled_path, "--alignments"], input=text + "\n",
                         capture_output=True, text=True, check=True).stdout
    cli_text, cli_alignment = out.rstrip("\n").split("\t")
    assert cli_text == r.text
    assert " ".join(f"{s}-{t}" for s, t in h.alignment) == cli_alignment
    assert (1, 1) in h.alignment  # dog -> Hund


def test_attention_options(bundled):
    h = bundled.translate("Two children play.", return_attention=True, attention_all_layers=True,
                          attention_all_heads=True, beam_size=2).hypotheses[0]
    w = h.attention["weights"]
    assert len(w) == bundled.info.decoder_layers and len(w[0]) == bundled.info.heads
    one = bundled.translate("Two children play.", return_attention=True, attention_layer=0, attention_head=1,
                            beam_size=2).hypotheses[0].attention
    assert one["layers"] == [0] and one["head"] == 1
    assert one["weights"][0][0] == w[0][1]
    with pytest.raises(attend.Error, match="attention_layer"):
        bundled.translate("A dog.", return_attention=True, attention_layer=9)
    with pytest.raises(TypeError):
        bundled.translate("A dog.", return_attention=True, attention_layer=1.5)


def test_translate_html(bundled):
    out = bundled.translate_html('<p>A <b>black dog</b> runs in the <a href="/p?a=1&amp;b=2">park</a>.</p>')
    assert out.startswith("<p>") and out.endswith("</a>.</p>")
    assert "<b>" in out and "</b>" in out and 'href="/p?a=1&amp;b=2"' in out and "Hund" in out
    many = bundled.translate_html(["<p>A man.</p>", "<pre>A  man.</pre>"])
    assert many[1] == "<pre>A  man.</pre>" and many[0] != "<p>A man.</p>"
