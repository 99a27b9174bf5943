"""tests/python/test_api.py — attend.Model / Translator / convert / errors against the C++ API
(the `attend` binary on the same inputs), transformers' outputs (fixture cases.json, the bundled
model's test2016 reference) and the thread-safety promises."""
import json
import os
import threading
import time

import pytest

import attend
from conftest import fixture_model, read_lines, run_cli, shared_file


def test_bundled_first_100_lines_equal_transformers_and_cli(bundled, cli, bundled_path, multi30k_100, tmp_path):
    ref = read_lines(shared_file("models", "marian-en-de-multi30k", "reference", "test2016.beam4.de"))[:100]
    ref_ids = json.load(open(shared_file("models", "marian-en-de-multi30k", "reference", "test2016.beam4.ids.json")))
    results = bundled.translate(multi30k_100, max_batch_size=32)  # beam 4: the model's default
    assert [r.text for r in results] == ref
    if isinstance(ref_ids, dict):
        ref_ids = ref_ids.get("ids") or ref_ids.get("sequences")
    for r, ids in zip(results, ref_ids[:100]):
        assert r.ids[1:] == ids  # the reference ids leave out the decoder start token
    src = tmp_path / "in.en"
    src.write_text("\n".join(multi30k_100) + "\n", encoding="utf-8")
    out = run_cli(cli, ["translate", "-m", bundled_path, "-i", str(src), "--threads", "1"]).stdout
    assert out.split("\n")[:-1] == [r.text for r in results]


def _cases(model_dir):
    with open(os.path.join(model_dir, "cases.json"), encoding="utf-8") as f:
        return {c["name"]: c for c in json.load(f)["cases"]}


def _strip_pad(seq, n, pad):
    s = list(seq)
    while len(s) > n and s[-1] == pad:
        s.pop()
    return s


@pytest.mark.parametrize("name", ["marian", "bart_text", "t5_text"])
def test_fixture_models_equal_transformers_and_cli(name, cli, tmp_path):
    model_dir = fixture_model(name)
    cases = _cases(model_dir)
    m = attend.Model(model_dir, threads=1)
    pad = m.info.generation_defaults.get("pad_token_id", 0)
    for case_name in ("greedy_batch", "beam_batch", "beam_num_return_sequences", "config_defaults"):
        compare_cli = case_name in ("greedy_batch", "beam_num_return_sequences")
        case = cases[case_name]
        kw = dict(case["generate_kwargs"])
        n = kw.get("num_return_sequences", 1)
        # Token ids in (as transformers got them), transformers' sequences and scores out.
        ids = [[t for t, a in zip(row, mask) if a] for row, mask in zip(case["input_ids"], case["attention_mask"])]
        got = [h for r in m.generate(ids, return_scores=True, **kw) for h in r.hypotheses]
        expected = case["expected"]["sequences"]
        assert len(got) == len(expected) == n * len(ids)
        for h, e in zip(got, expected):
            assert h.ids == _strip_pad(e, len(h.ids), pad), case_name
        for h, s in zip(got, case["expected"].get("sequences_scores", [])):
            assert h.score == pytest.approx(s, abs=1e-4), case_name
        if not compare_cli:
            continue
        # Text in, through Python and through the C++ command line with the same settings.
        cli_kw = {k: v for k, v in kw.items() if k in ("num_beams", "num_return_sequences", "max_new_tokens")}
        results = m.translate(case["input_text"], return_scores=True, **cli_kw)
        src = tmp_path / f"{case_name}.txt"
        src.write_text("\n".join(case["input_text"]) + "\n", encoding="utf-8")
        args = ["translate", "-m", model_dir, "-i", str(src), "--threads", "1", "--scores", "--n-best", str(n)]
        if "num_beams" in cli_kw:
            args += ["--beam-size", str(cli_kw["num_beams"])]
        if "max_new_tokens" in cli_kw:
            args += ["--max-length", str(cli_kw["max_new_tokens"] + 1)]
            results = m.translate(case["input_text"], return_scores=True, max_length=cli_kw["max_new_tokens"] + 1,
                                  **{k: v for k, v in cli_kw.items() if k != "max_new_tokens"})
        lines = run_cli(cli, args).stdout.split("\n")[:-1]
        assert lines == [f"{h.score:g}\t{h.text}" for r in results for h in r.hypotheses], case_name


def test_summarize_equals_transformers_task_params():
    model_dir = fixture_model("t5_text")
    case = _cases(model_dir)["summarization_task_params"]
    m = attend.Model(model_dir, threads=1)
    r = m.summarize(case["input_text"][0])
    assert isinstance(r, attend.SummaryResult)
    assert r.error == "" and r.rounds == 1 and r.complete
    assert r.summary == case["expected"]["decoded_text"][0].strip()
    # A batch, and an empty input failing alone.
    rs = m.summarize([case["input_text"][0], "   "])
    assert rs[0].summary == r.summary and rs[1].error and rs[1].summary == ""
    settings = m.summarize_settings()
    assert settings["prefix"] == "summarize: " and settings["generation"]["num_beams"] == 4


def test_results_shapes_scores_and_hypotheses(bundled):
    one = bundled.translate("A dog runs in the park.")
    assert isinstance(one, attend.TranslationResult)
    assert one.score is None and one.hypotheses[0].token_scores == []
    scored = bundled.translate(["A dog runs in the park.", "Two men."], num_hypotheses=3, beam_size=4,
                               return_scores=True)
    assert len(scored) == 2 and all(len(r.hypotheses) == 3 for r in scored)
    assert scored[0].text == one.text and scored[0].ids == one.ids
    s = [h.score for h in scored[0].hypotheses]
    assert s == sorted(s, reverse=True)
    greedy = bundled.translate("A dog runs in the park.", beam_size=1, return_scores=True)
    assert len(greedy.hypotheses[0].token_scores) == len(greedy.ids) - 1
    assert greedy.score == pytest.approx(sum(greedy.hypotheses[0].token_scores), rel=1e-5)
    assert bundled.translate([]) == []


def test_stream_pieces_concatenate_to_the_full_text(bundled, multi30k_100):
    for text in multi30k_100[:5]:
        for beam in (1, 4):
            pieces = list(bundled.translate_stream(text, beam_size=beam))
            assert "".join(pieces) == bundled.translate(text, beam_size=beam).text
    # Greedy decides a token per step: a long output arrives in many pieces.
    pieces = list(bundled.translate_stream(multi30k_100[0], beam_size=1, min_length=40, max_length=40))
    assert len(pieces) > 10
    # Closing early cancels; the model is usable afterwards.
    gen = bundled.translate_stream(multi30k_100[1], beam_size=1, min_length=300, max_length=300)
    next(gen)
    gen.close()
    assert bundled.translate(multi30k_100[1]).text


def test_document_translation_keeps_layout(bundled):
    doc = "A man sits on a bench. A dog runs.\n\n  Two children play in the snow.\n"
    out = bundled.translate_document(doc)
    sents = bundled.translate(["A man sits on a bench.", "A dog runs.", "Two children play in the snow."])
    assert out == f"{sents[0].text} {sents[1].text}\n\n  {sents[2].text}\n"
    d = bundled.translate_documents([doc, "One dog."])
    assert d[0].text == out and d[0].sentences == 3 and d[1].sentences == 1


def test_eight_threads_equal_serial(bundled, multi30k_100):
    lines = multi30k_100[:40]
    chunks = [lines[i::8] for i in range(8)]
    serial = [[r.text for r in bundled.translate(c)] for c in chunks]
    got = [None] * 8
    errors = []

    def work(i):
        try:
            got[i] = [r.text for r in bundled.translate(chunks[i])]
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and got == serial
    # The same through a shared Translator (dynamic batching): equal results, fewer batches.
    tr = attend.Translator(bundled, max_batch_size=32, wait_ms=20, threads=1)
    got2 = [None] * 8
    threads = [threading.Thread(target=lambda i=i: got2.__setitem__(i, [r.text for r in tr.translate(chunks[i])]))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got2 == serial
    assert tr.stats()["inputs"] == len(lines)


def test_release_caches_and_idle_translator(bundled, multi30k_100):
    lines = multi30k_100[:8]
    want = [r.text for r in bundled.translate(lines, beam_size=4)]
    assert bundled.cached_bytes() > 0  # the last batch's buffers, kept for the next call
    bundled.release_caches()
    assert bundled.cached_bytes() == 0
    assert [r.text for r in bundled.translate(lines, beam_size=4)] == want
    # A Translator idle for release_caches_after seconds frees them itself.
    tr = attend.Translator(bundled, release_caches_after=0.05)
    assert [r.text for r in tr.translate(lines, beam_size=4)] == want
    deadline = time.monotonic() + 10
    while tr.stats()["cache_releases"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tr.stats()["cache_releases"] == 1
    assert bundled.cached_bytes() == 0
    with pytest.raises(ValueError, match="release_caches_after"):
        attend.Translator(bundled, release_caches_after=-1)


def test_gil_is_released_while_decoding(bundled, multi30k_100):
    ticks = []
    stop = threading.Event()

    def background():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.002)

    t = threading.Thread(target=background)
    t.start()
    time.sleep(0.05)
    start = time.monotonic()
    bundled.translate([multi30k_100[0]] * 4, min_length=200, max_length=200)
    end = time.monotonic()
    stop.set()
    t.join()
    during = [x for x in ticks if start <= x <= end]
    assert end - start > 0.3, "the call was too short to tell"
    gaps = [b - a for a, b in zip([start] + during, during + [end])]
    assert len(during) > 20 and max(gaps) < 0.25, (len(during), max(gaps))


def test_errors_map_to_attend_exceptions(bundled, tmp_path):
    missing = str(tmp_path / "nope.attend")
    with pytest.raises(attend.Error) as e:
        attend.Model(missing)
    assert "nope.attend" in str(e.value)
    bad = tmp_path / "bad.attend"
    bad.write_bytes(b"not a model at all" * 10)
    with pytest.raises(attend.Error):
        attend.Model(str(bad))
    with pytest.raises(attend.Error, match="num_beams"):
        bundled.translate("A dog.", beam_size=0)
    with pytest.raises(attend.Error):
        bundled.validate(num_hypotheses=5, beam_size=2)
    with pytest.raises(TypeError, match="no_such_option"):
        bundled.translate("A dog.", no_such_option=1)
    token = attend.CancelToken()
    token.cancel()
    with pytest.raises(attend.Cancelled):
        bundled.translate("A dog.", cancel=token)
    assert issubclass(attend.Cancelled, attend.Error) and issubclass(attend.Error, RuntimeError)
    # Cancelled from another thread while running.
    token = attend.CancelToken()
    threading.Timer(0.2, token.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(attend.Cancelled):
        bundled.translate(["A dog runs."] * 32, min_length=500, max_length=500, cancel=token)
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(attend.Error):
        attend.convert(str(tmp_path / "no-such-dir"), str(tmp_path / "x.attend"))


def test_convert_then_load_equals_the_hf_directory(tmp_path):
    model_dir = fixture_model("bart_text")
    out = tmp_path / "bart.attend"
    attend.convert(model_dir, str(out))
    a = attend.Model(model_dir, threads=1)
    b = attend.Model(str(out), threads=1)
    texts = ["Our team won the football match yesterday.", "Where is the station?"]
    assert [r.ids for r in a.translate(texts, max_new_tokens=16)] == [r.ids for r in b.translate(texts, max_new_tokens=16)]
    q = tmp_path / "bart-int8.attend"
    attend.convert(model_dir, str(q), quantize="int8")
    assert attend.Model(str(q)).info.quantization == "int8"


def test_tokenize_detokenize_info(bundled, cli, bundled_path):
    ids = bundled.tokenize("A dog runs in the park.")
    assert ids[-1] == 0 and len(ids) > 5  # source vocabulary; detokenize speaks the target one
    r = bundled.translate("A dog runs in the park.")
    assert bundled.detokenize(r.ids) == r.text
    info = bundled.info
    assert info.family == "marian" and info.compute_type == "fp32" and info.generation_defaults["num_beams"] == 4
    assert "(family " in info.cpu_model and info.cpu_isa
    out = run_cli(cli, ["info", "-m", bundled_path]).stdout
    assert "marian" in out
    assert f"cpu: {info.cpu_isa} on {info.cpu_model}" in out
    assert attend.version() == attend.__version__


def test_a_forked_child_can_translate(bundled):
    """The worker threads of the parent do not exist in a fork() child: it gets its own."""
    want = bundled.translate("Two dogs play in the snow.").text
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report and leave without running the parent's cleanup
        code = 1
        try:
            os.close(r)
            os.write(w, bundled.translate("Two dogs play in the snow.").text.encode("utf-8"))
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    with os.fdopen(r, "rb") as f:
        got = f.read().decode("utf-8")
    assert os.waitstatus_to_exitcode(status) == 0 and got == want
