// python/src/binding.cpp — the `attend._attend` extension: pybind11 over the public C++ API only
// (include/attend/). Decoding runs on a reusable worker thread with the GIL released while the
// calling thread waits in short slices, running Python's signal handlers, so Ctrl-C cancels the
// call (CancelToken) within one decoding step; attend::Error / attend::Cancelled become
// attend.Error / attend.Cancelled. The friendly signatures live in attend/__init__.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"

namespace py = pybind11;

namespace {

// ---------------------------------------------------------------------------------------------
// Worker threads. Each keeps its OpenMP/oneDNN thread count (LoadOptions::threads applies to the
// calling thread), so a call goes to an idle worker made for its count, or a new one. Workers
// are kept for the next call (oneDNN's per-thread buffers stay warm) and never joined: the pool
// is leaked on purpose so no thread is joined during interpreter shutdown.
class WorkerPool {
 public:
  void run(int threads, std::function<void()> job) {
    Slot* slot = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(threads);
      if (it != idle_.end()) {
        slot = it->second;
        idle_.erase(it);
      }
    }
    if (!slot) {
      slot = new Slot;  // owned by its thread for the life of the process
      slot->threads = threads;
      std::thread([this, slot] { loop(slot); }).detach();
    }
    {
      std::lock_guard<std::mutex> lock(slot->mu);
      slot->job = std::move(job);
    }
    slot->cv.notify_one();
  }

 private:
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;
    int threads = 0;
  };

  void loop(Slot* slot) {
    if (slot->threads > 0) attend::set_num_threads(slot->threads);
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(slot->mu);
        slot->cv.wait(lock, [&] { return static_cast<bool>(slot->job); });
        job = std::move(slot->job);
        slot->job = nullptr;
      }
      job();  // never throws: jobs catch their own exceptions
      job = nullptr;
      std::lock_guard<std::mutex> lock(mu_);
      idle_.emplace(slot->threads, slot);
    }
  }

  std::mutex mu_;
  std::multimap<int, Slot*> idle_;
};

unsigned long g_main_thread_ident = 0;  // threading.main_thread().ident, set at import

// The process's pool (leaked: see WorkerPool). A child made by fork() has none of the parent's
// worker threads, so it starts a pool of its own (pthread_atfork handler set at import).
WorkerPool* g_pool = new WorkerPool;
WorkerPool& pool() { return *g_pool; }
void new_pool_after_fork() {
  g_pool = new WorkerPool;
  g_main_thread_ident = PyThread_get_thread_ident();  // the forking thread is the child's main thread
}

// Completion of one job, waited for by the calling thread.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;

  void finish(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      error = std::move(e);
    }
    cv.notify_all();
  }
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, d, [&] { return done; });
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
};

constexpr std::chrono::milliseconds kSlice(20);

// Called without the GIL every slice while waiting. On the main thread, runs Python's signal
// handlers; when one raises (KeyboardInterrupt), cancels the call, waits for the worker to stop
// and raises that exception. Other threads cannot run signal handlers and just wait.
void check_signals(const attend::CancelToken& cancel, const std::function<void()>& wait_stopped) {
  if (PyThread_get_thread_ident() != g_main_thread_ident) return;
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return;
  cancel.cancel();
  py::error_already_set interrupt;  // takes the pending exception
  {
    py::gil_scoped_release release;
    wait_stopped();
  }
  throw interrupt;
}

// Runs fn() (returning R) on a worker thread with `threads` OpenMP threads; the caller holds the
// GIL, which is released while waiting. Engine exceptions propagate (translated by pybind11).
template <class R>
R run_interruptible(int threads, const attend::CancelToken& cancel, std::function<R()> fn) {
  auto done = std::make_shared<Completion>();
  auto result = std::make_shared<std::optional<R>>();
  {
    py::gil_scoped_release release;
    pool().run(threads, [done, result, fn = std::move(fn)] {
      std::exception_ptr err;
      try {
        result->emplace(fn());
      } catch (...) {
        err = std::current_exception();
      }
      done->finish(err);
    });
    while (!done->wait_for(kSlice)) check_signals(cancel, [&] { done->wait(); });
  }
  if (done->error) std::rethrow_exception(done->error);
  return std::move(**result);
}

// Engine text is UTF-8; anything else is replaced rather than failing the call.
py::str utf8(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

// A loaded model and the thread count its calls compute with.
struct PyModel {
  std::shared_ptr<const attend::Model> model;
  int threads = 0;
};

// model->method(inputs, opt) on a worker thread (run_interruptible).
template <class R, class In>
R call_model(const PyModel& m, In inputs, const attend::TranslateOptions& opt,
             R (attend::Model::*method)(const In&, const attend::TranslateOptions&) const) {
  auto model = m.model;
  return run_interruptible<R>(m.threads, opt.cancel, [model, inputs = std::move(inputs), opt, method] {
    return ((*model).*method)(inputs, opt);
  });
}

struct PyTranslator {
  std::shared_ptr<attend::Translator> translator;
  std::shared_ptr<const attend::Model> model;
};

// One streaming translation: decodes on a worker thread, pieces of text are queued by the stream
// callback and handed out by next(). close() (or destruction) cancels and waits.
class Stream {
 public:
  Stream(const PyModel& m, std::string text, attend::TranslateOptions opt) : state_(std::make_shared<State>()) {
    cancel_ = opt.cancel;
    auto st = state_;
    opt.on_stream = [st](const attend::StreamEvent& e) {
      if (!e.text.empty()) {
        std::lock_guard<std::mutex> lock(st->mu);
        st->pieces.push_back(e.text);
      }
      st->cv.notify_all();
      return true;
    };
    auto model = m.model;
    py::gil_scoped_release release;
    pool().run(m.threads, [st, model, text = std::move(text), opt = std::move(opt)] {
      std::exception_ptr err;
      try {
        model->translate({text}, opt);
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(st->mu);
        st->finished = true;
        st->error = err;
      }
      st->cv.notify_all();
    });
  }
  ~Stream() {
    try {
      close();
    } catch (...) {
    }
  }

  py::str next() {
    std::string piece;
    {
      py::gil_scoped_release release;
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(state_->mu);
          if (state_->cv.wait_for(lock, kSlice, [&] { return !state_->pieces.empty() || state_->finished; })) {
            if (!state_->pieces.empty()) {
              piece = std::move(state_->pieces.front());
              state_->pieces.pop_front();
              break;
            }
            if (state_->error) {
              auto e = state_->error;
              state_->error = nullptr;
              closed_ = true;
              std::rethrow_exception(e);
            }
            throw py::stop_iteration();
          }
        }
        check_signals(cancel_, [&] { wait_finished(); });
      }
    }
    return utf8(piece);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    cancel_.cancel();
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      wait_finished();
    } else {
      wait_finished();
    }
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> pieces;
    bool finished = false;
    std::exception_ptr error;
  };
  void wait_finished() {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->finished; });
  }

  std::shared_ptr<State> state_;
  attend::CancelToken cancel_;
  bool closed_ = false;
};

template <class T>
std::vector<T> copy_of(const std::vector<T>& v) {
  return v;
}

}  // namespace

PYBIND11_MODULE(_attend, m) {
  m.doc() = "Attend's C++ API (internal; use the `attend` package)";
  g_main_thread_ident = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  pthread_atfork(nullptr, nullptr, new_pool_after_fork);

  static py::exception<attend::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<attend::Cancelled> cancelled(m, "Cancelled", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const attend::Cancelled& e) {
      cancelled(e.what());
    } catch (const attend::Error& e) {
      error(e.what());
    }
  });

  m.def("version", [] { return std::string(attend::version()); });

  py::class_<attend::CancelToken>(m, "CancelToken")
      .def(py::init<>())
      .def("cancel", &attend::CancelToken::cancel)
      .def_property_readonly("cancelled", &attend::CancelToken::cancelled);

  py::class_<attend::GenerationOptions>(m, "GenerationOptions")
      .def(py::init<>())
      .def_readwrite("num_beams", &attend::GenerationOptions::num_beams)
      .def_readwrite("num_return_sequences", &attend::GenerationOptions::num_return_sequences)
      .def_readwrite("max_length", &attend::GenerationOptions::max_length)
      .def_readwrite("max_new_tokens", &attend::GenerationOptions::max_new_tokens)
      .def_readwrite("min_length", &attend::GenerationOptions::min_length)
      .def_readwrite("min_new_tokens", &attend::GenerationOptions::min_new_tokens)
      .def_readwrite("early_stopping", &attend::GenerationOptions::early_stopping)
      .def_readwrite("length_penalty", &attend::GenerationOptions::length_penalty)
      .def_readwrite("no_repeat_ngram_size", &attend::GenerationOptions::no_repeat_ngram_size)
      .def_readwrite("repetition_penalty", &attend::GenerationOptions::repetition_penalty)
      .def_readwrite("bad_words_ids", &attend::GenerationOptions::bad_words_ids)
      .def_readwrite("forced_bos_token_id", &attend::GenerationOptions::forced_bos_token_id)
      .def_readwrite("forced_eos_token_id", &attend::GenerationOptions::forced_eos_token_id)
      .def_readwrite("decoder_start_token_id", &attend::GenerationOptions::decoder_start_token_id)
      // issue 17: sampling
      .def_readwrite("do_sample", &attend::GenerationOptions::do_sample)
      .def_readwrite("temperature", &attend::GenerationOptions::temperature)
      .def_readwrite("top_k", &attend::GenerationOptions::top_k)
      .def_readwrite("top_p", &attend::GenerationOptions::top_p)
      .def_readwrite("typical_p", &attend::GenerationOptions::typical_p)
      .def_readwrite("seed", &attend::GenerationOptions::seed);

  py::class_<attend::TranslateOptions>(m, "TranslateOptions")
      .def(py::init<>())
      .def_readwrite("generation", &attend::TranslateOptions::generation)
      .def_readwrite("max_batch_size", &attend::TranslateOptions::max_batch_size)
      .def_property(
          "batch_tokens", [](const attend::TranslateOptions& o) { return o.batch_type == attend::BatchType::Tokens; },
          [](attend::TranslateOptions& o, bool tokens) {
            o.batch_type = tokens ? attend::BatchType::Tokens : attend::BatchType::Examples;
          })
      .def_readwrite("src_lang", &attend::TranslateOptions::src_lang)
      .def_readwrite("tgt_lang", &attend::TranslateOptions::tgt_lang)
      .def_readwrite("input_prefix", &attend::TranslateOptions::input_prefix)
      .def_readwrite("cancel", &attend::TranslateOptions::cancel)
      // issue 17: target prefixes, alternatives, shortlist
      .def_readwrite("target_prefix", &attend::TranslateOptions::target_prefix)
      .def_readwrite("target_prefix_ids", &attend::TranslateOptions::target_prefix_ids)
      .def_readwrite("return_alternatives", &attend::TranslateOptions::return_alternatives)
      .def_property(
          "shortlist",
          [](const attend::TranslateOptions& o) { return std::const_pointer_cast<attend::Shortlist>(o.shortlist); },
          [](attend::TranslateOptions& o, std::shared_ptr<attend::Shortlist> s) { o.shortlist = std::move(s); })
      // cross-attention (docs/attention.md)
      .def_readwrite("return_attention", &attend::TranslateOptions::return_attention)
      .def_readwrite("attention_layer", &attend::TranslateOptions::attention_layer)
      .def_readwrite("attention_all_layers", &attend::TranslateOptions::attention_all_layers)
      .def_readwrite("attention_all_heads", &attend::TranslateOptions::attention_all_heads)
      .def_readwrite("attention_head", &attend::TranslateOptions::attention_head);

  // issue 17: vocabulary shortlists (attend/shortlist.hpp)
  py::class_<attend::Shortlist, std::shared_ptr<attend::Shortlist>>(m, "Shortlist")
      .def_static("load", [](const std::string& path) { return std::const_pointer_cast<attend::Shortlist>(attend::Shortlist::load(path)); },
                  py::arg("path"))
      .def_static(
          "build",
          [](const PyModel& model, const std::vector<std::string>& sources, const std::vector<std::string>& targets,
             int per_source, int always, int min_count, bool identity) {
            attend::ShortlistBuildOptions o;
            o.per_source = per_source;
            o.always = always;
            o.min_count = min_count;
            o.identity = identity;
            py::gil_scoped_release release;
            return std::const_pointer_cast<attend::Shortlist>(attend::Shortlist::build(*model.model, sources, targets, o));
          },
          py::arg("model"), py::arg("sources"), py::arg("targets"), py::arg("per_source") = 100,
          py::arg("always") = 1000, py::arg("min_count") = 1, py::arg("identity") = true)
      .def("save", &attend::Shortlist::save, py::arg("path"))
      .def("candidates", &attend::Shortlist::candidates, py::arg("source_ids"))
      .def_property_readonly("vocab_size", &attend::Shortlist::vocab_size)
      .def_property_readonly("source_entries", &attend::Shortlist::source_entries)
      .def_property_readonly("always_allowed", &attend::Shortlist::always_allowed);

  py::class_<attend::SummarizeOptions>(m, "SummarizeOptions")
      .def(py::init<>())
      .def_readwrite("generation", &attend::SummarizeOptions::generation)
      .def_readwrite("prefix", &attend::SummarizeOptions::prefix)
      .def_readwrite("max_batch_size", &attend::SummarizeOptions::max_batch_size)
      .def_readwrite("max_batch_tokens", &attend::SummarizeOptions::max_batch_tokens)
      .def_readwrite("max_input_tokens", &attend::SummarizeOptions::max_input_tokens)
      .def_readwrite("max_rounds", &attend::SummarizeOptions::max_rounds);

  py::class_<attend::Hypothesis>(m, "Hypothesis")
      .def_property_readonly("text", [](const attend::Hypothesis& h) { return utf8(h.text); })
      .def_property_readonly("ids", [](const attend::Hypothesis& h) { return copy_of(h.ids); })
      .def_readonly("score", &attend::Hypothesis::score)
      .def_property_readonly("token_scores", [](const attend::Hypothesis& h) { return copy_of(h.token_scores); })
      // cross-attention: None, or {"layers", "heads", "head", "source_ids", "weights"} with the
      // weights nested [layers][heads][target][source]
      .def_property_readonly("attention", [](const attend::Hypothesis& h) -> py::object {
        const attend::AttentionWeights& a = h.attention;
        if (a.empty()) return py::none();
        py::list layers;
        for (size_t l = 0; l < a.layers.size(); ++l) {
          py::list heads;
          for (int hh = 0; hh < a.heads; ++hh) {
            py::list rows;
            for (int t = 0; t < a.target; ++t) {
              py::list row;
              for (int s = 0; s < a.source; ++s) row.append(a.at(static_cast<int>(l), hh, t, s));
              rows.append(std::move(row));
            }
            heads.append(std::move(rows));
          }
          layers.append(std::move(heads));
        }
        py::dict d;
        d["layers"] = copy_of(a.layers);
        d["heads"] = a.mean_heads ? py::object(py::str("mean")) : py::object(py::int_(a.heads));
        d["head"] = a.head >= 0 ? py::object(py::int_(a.head)) : py::object(py::none());
        d["source_ids"] = copy_of(a.source_ids);
        d["weights"] = std::move(layers);
        return std::move(d);
      });

  py::class_<attend::TranslationResult>(m, "TranslationResult")
      .def_readonly("hypotheses", &attend::TranslationResult::hypotheses);

  py::class_<attend::DocumentTranslation>(m, "DocumentTranslation")
      .def_property_readonly("text", [](const attend::DocumentTranslation& d) { return utf8(d.text); })
      .def_readonly("sentences", &attend::DocumentTranslation::sentences)
      .def_readonly("invalid_utf8", &attend::DocumentTranslation::invalid_utf8);

  py::class_<attend::SummaryResult>(m, "SummaryResult")
      .def_property_readonly("summary", [](const attend::SummaryResult& r) { return utf8(r.summary); })
      .def_property_readonly("error", [](const attend::SummaryResult& r) { return utf8(r.error); })
      .def_readonly("chunks", &attend::SummaryResult::chunks)
      .def_readonly("rounds", &attend::SummaryResult::rounds)
      .def_readonly("complete", &attend::SummaryResult::complete)
      .def_readonly("source_tokens", &attend::SummaryResult::source_tokens)
      .def_readonly("generated_tokens", &attend::SummaryResult::generated_tokens);

  py::class_<attend::ModelInfo>(m, "ModelInfo")
      .def_readonly("family", &attend::ModelInfo::family)
      .def_readonly("tokenizer", &attend::ModelInfo::tokenizer)
      .def_readonly("vocab_size", &attend::ModelInfo::vocab_size)
      .def_readonly("d_model", &attend::ModelInfo::d_model)
      .def_readonly("encoder_layers", &attend::ModelInfo::encoder_layers)
      .def_readonly("decoder_layers", &attend::ModelInfo::decoder_layers)
      .def_readonly("heads", &attend::ModelInfo::heads)
      .def_readonly("languages", &attend::ModelInfo::languages)
      .def_readonly("generation_defaults", &attend::ModelInfo::generation_defaults)
      .def_readonly("task_params", &attend::ModelInfo::task_params)
      .def_readonly("quantization", &attend::ModelInfo::quantization)
      .def_readonly("compute_type", &attend::ModelInfo::compute_type)
      .def_readonly("compute_type_note", &attend::ModelInfo::compute_type_note)
      .def_readonly("cpu_isa", &attend::ModelInfo::cpu_isa)
      .def_readonly("cpu_model", &attend::ModelInfo::cpu_model)
      // long inputs (issue 18)
      .def_readonly("encoder_attention", &attend::ModelInfo::encoder_attention)
      .def_readonly("attention_window", &attend::ModelInfo::attention_window)
      .def_readonly("local_radius", &attend::ModelInfo::local_radius)
      .def_readonly("global_block_size", &attend::ModelInfo::global_block_size)
      .def_readonly("max_input_length", &attend::ModelInfo::max_input_length);

  py::class_<Stream>(m, "Stream")
      .def("__iter__", [](Stream& s) -> Stream& { return s; })
      .def("__next__", &Stream::next)
      .def("close", &Stream::close);

  py::class_<PyModel>(m, "Model")
      .def(py::init([](const std::string& path, const std::string& compute_type, int threads,
                       const std::string& revision, const std::string& cache_dir, const std::string& token,
                       std::optional<bool> offline) {
             attend::LoadOptions lo;
             lo.compute_type = compute_type;
             lo.threads = threads;
             lo.hub.revision = revision;
             lo.hub.cache_dir = cache_dir;
             lo.hub.token = token;
             lo.hub.offline = offline;
             auto loaded = run_interruptible<std::shared_ptr<const attend::Model>>(
                 threads, attend::CancelToken(), [path, lo] { return attend::Model::load(path, lo); });
             return PyModel{std::move(loaded), threads};
           }),
           py::arg("path"), py::arg("compute_type") = "default", py::arg("threads") = 0, py::arg("revision") = "",
           py::arg("cache_dir") = "", py::arg("token") = "", py::arg("offline") = py::none())
      .def_readonly("threads", &PyModel::threads)
      .def("translate",
           [](const PyModel& m, std::vector<std::string> texts, const attend::TranslateOptions& opt) {
             return call_model(m, std::move(texts), opt, &attend::Model::translate);
           })
      .def("generate",
           [](const PyModel& m, std::vector<std::vector<int32_t>> ids, const attend::TranslateOptions& opt) {
             return call_model(m, std::move(ids), opt, &attend::Model::generate);
           })
      .def("translate_documents",
           [](const PyModel& m, std::vector<std::string> docs, const attend::TranslateOptions& opt) {
             return call_model(m, std::move(docs), opt, &attend::Model::translate_documents);
           })
      .def("translate_stream",
           [](const PyModel& m, std::string text, const attend::TranslateOptions& opt) {
             return std::make_unique<Stream>(m, std::move(text), opt);
           })
      .def("summarize",
           [](const PyModel& m, std::vector<std::string> texts, const attend::SummarizeOptions& opt,
              const attend::CancelToken& cancel) {
             auto model = m.model;
             // summarize() has no cancel token: its progress callback (between batches) throws.
             attend::SummarizeCallbacks cb;
             cb.on_progress = [cancel](const attend::SummarizeProgress&) {
               if (cancel.cancelled()) throw attend::Cancelled();
             };
             return run_interruptible<std::vector<attend::SummaryResult>>(
                 m.threads, cancel,
                 [model, texts = std::move(texts), opt, cb] { return model->summarize(texts, opt, cb); });
           })
      .def("summarize_settings",
           [](const PyModel& m, const attend::SummarizeOptions& opt) {
             py::gil_scoped_release release;
             return m.model->summarize_settings(opt);
           })
      .def("validate",
           [](const PyModel& m, const attend::TranslateOptions& opt) {
             py::gil_scoped_release release;
             m.model->validate(opt);
           })
      .def("tokenize",
           [](const PyModel& m, const std::string& text, const std::string& src_lang) {
             py::gil_scoped_release release;
             return m.model->tokenize(text, src_lang);
           })
      .def("detokenize",
           [](const PyModel& m, const std::vector<int32_t>& ids) {
             std::string text;
             {
               py::gil_scoped_release release;
               text = m.model->detokenize(ids);
             }
             return utf8(text);
           })
      .def("info", [](const PyModel& m) { return m.model->info(); })
      .def("cached_bytes", [](const PyModel& m) { return m.model->cached_bytes(); })
      .def("release_caches",
           [](const PyModel& m) {
             py::gil_scoped_release release;
             m.model->release_caches();
           })
      // cross-attention: word alignment, token strings, HTML (docs/attention.md)
      .def("align_words",
           [](const PyModel& m, const attend::Hypothesis& h) {
             std::vector<std::pair<int, int>> out;
             for (const auto& l : m.model->align_words(h)) out.emplace_back(l.source, l.target);
             return out;
           })
      .def("token_pieces",
           [](const PyModel& m, const std::vector<int32_t>& ids) {
             py::list out;
             for (const auto& p : m.model->token_pieces(ids)) out.append(utf8(p));
             return out;
           })
      .def("translate_html",
           [](const PyModel& m, std::vector<std::string> html, const attend::TranslateOptions& opt) {
             return call_model(m, std::move(html), opt, &attend::Model::translate_html);
           });

  py::class_<PyTranslator>(m, "Translator")
      .def(py::init([](const PyModel& model, int max_batch_size, int wait_ms, int max_batch_tokens, int max_queued,
                       int threads, int release_caches_after_ms) {
             attend::TranslatorOptions o;
             o.max_batch_size = max_batch_size;
             o.wait_ms = wait_ms;
             o.max_batch_tokens = max_batch_tokens;
             o.max_queued = max_queued;
             o.threads = threads;
             o.release_caches_after_ms = release_caches_after_ms;
             py::gil_scoped_release release;
             return PyTranslator{std::make_shared<attend::Translator>(model.model, o), model.model};
           }),
           py::arg("model"), py::arg("max_batch_size"), py::arg("wait_ms"), py::arg("max_batch_tokens"),
           py::arg("max_queued"), py::arg("threads"), py::arg("release_caches_after_ms"))
      .def("translate",
           [](const PyTranslator& t, std::vector<std::string> texts, const attend::TranslateOptions& opt) {
             auto tr = t.translator;
             return run_interruptible<std::vector<attend::TranslationResult>>(
                 0, opt.cancel, [tr, texts = std::move(texts), opt] { return tr->translate(texts, opt); });
           })
      .def("stats", [](const PyTranslator& t) {
        const auto s = t.translator->stats();
        py::dict d;
        d["batches"] = s.batches;
        d["inputs"] = s.inputs;
        d["max_batch"] = s.max_batch;
        d["cache_releases"] = s.cache_releases;
        return d;
      });

  m.def(
      "convert",
      [](const std::string& hf_dir, const std::string& output, const std::string& quantize, const std::string& dtype,
         const std::string& weights) {
        attend::ConvertOptions o;
        o.quantize = quantize;
        o.dtype = dtype;
        o.weights = weights;
        py::gil_scoped_release release;
        attend::convert_model(hf_dir, output, o);
      },
      py::arg("hf_dir"), py::arg("output"), py::arg("quantize"), py::arg("dtype"), py::arg("weights"));
}
