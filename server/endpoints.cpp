// server/endpoints.cpp — the endpoints of `attend serve`: native /v1/translate and /v1/summarize
// (JSON or Server-Sent Events), LibreTranslate's /translate and /languages, /v1/models, /health,
// /metrics. Sentences go through the model's shared Translator (batched with other clients');
// documents and summaries are direct calls, one at a time per model. Every call is admitted
// against the model's queue limit and watched for deadline, hang-up and shutdown.
#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "server/attention_page.hpp"
#include "server/server_impl.hpp"

namespace attend_server {

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Counts a call's inputs against the model's queue limit for as long as it lives.
class Admission {
 public:
  Admission(LoadedModel& m, size_t n, size_t limit) : m_(m), n_(n) {
    size_t cur = m.inputs.load();
    do {
      if (cur + n > limit)
        throw RequestError(503, "the queue of model '" + m.name + "' is full (" + std::to_string(cur) +
                                    " inputs waiting, --max-queued " + std::to_string(limit) + "); retry later");
    } while (!m.inputs.compare_exchange_weak(cur, cur + n));
  }
  ~Admission() { m_.inputs -= n_; }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

 private:
  LoadedModel& m_;
  size_t n_;
};

// The direct-call slot of a model, waited for while the request is not cancelled.
class DirectSlot {
 public:
  DirectSlot(LoadedModel& m, const attend::CancelToken& token) : m_(m) {
    std::unique_lock<std::mutex> lock(m.direct_mu);
    while (m.direct_busy) {
      if (token.cancelled()) throw attend::Cancelled();
      m.direct_cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    m.direct_busy = true;
  }
  ~DirectSlot() {
    {
      std::lock_guard<std::mutex> lock(m_.direct_mu);
      m_.direct_busy = false;
    }
    m_.direct_cv.notify_all();
  }

 private:
  LoadedModel& m_;
};

// A cancelled call as the client sees it.
RequestError stopped(const Watch::Entry& e, double timeout) {
  switch (e.why()) {
    case StopReason::Deadline: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", timeout);
      return RequestError(504, std::string("the request took longer than the deadline of ") + buf +
                                   " s (--request-timeout)");
    }
    case StopReason::ClientGone: return RequestError(499, "the client closed the connection");
    default: return RequestError(503, "the server shut down before the request finished");
  }
}

uint64_t generated(const attend::TranslationResult& r) {
  if (r.hypotheses.empty() || r.hypotheses[0].ids.empty()) return 0;
  return r.hypotheses[0].ids.size() - 1;  // without the decoder start token
}

json translations_json(const std::vector<attend::TranslationResult>& results, const TranslateCall& c,
                       const attend::Model& model) {
  json out = json::array();
  for (const auto& r : results) {
    json t;
    t["text"] = r.hypotheses.empty() ? "" : r.hypotheses[0].text;
    if (!r.hypotheses.empty() && !r.hypotheses[0].attention.empty()) {
      if (c.return_attention) t["attention"] = attention_json(model, r.hypotheses[0]);
      if (c.alignments) t["alignment"] = attend::format_alignment(model.align_words(r.hypotheses[0]));
    }
    if (c.return_scores && !r.hypotheses.empty()) t["score"] = r.hypotheses[0].score;
    if (c.num_hypotheses > 1) {
      json hs = json::array();
      for (const auto& h : r.hypotheses) {
        json hj{{"text", h.text}};
        if (c.return_scores) hj["score"] = h.score;
        hs.push_back(std::move(hj));
      }
      t["hypotheses"] = std::move(hs);
    }
    out.push_back(std::move(t));
  }
  return json{{"translations", std::move(out)}};
}

// Text pieces from a decoding thread to the thread writing the event stream.
struct EventQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, std::string>> pieces;
  bool done = false;
  std::string result;     // the final event's data
  int error_status = 0;
  std::string error;

  bool push(const attend::StreamEvent& e) {
    if (e.text.empty()) return true;
    {
      std::lock_guard<std::mutex> lock(mu);
      pieces.emplace_back(e.input, e.text);
    }
    cv.notify_one();
    return true;
  }
  void finish(std::string result_json, int status, std::string message) {
    {
      std::lock_guard<std::mutex> lock(mu);
      result = std::move(result_json);
      error_status = status;
      error = std::move(message);
      done = true;
    }
    cv.notify_one();
  }
};

}  // namespace

LoadedModel& Server::Impl::model_named(const std::string& name) {
  if (name.empty()) return *models.front();
  for (auto& m : models)
    if (m->name == name) return *m;
  std::string list;
  for (auto& m : models) list += (list.empty() ? "" : ", ") + m->name;
  throw RequestError(400, "model '" + name + "' is not served here (models: " + list + ")");
}

namespace {

// Runs `work(token)` for the request being handled: admitted, watched (deadline, hang-up,
// shutdown), errors turned into RequestError.
template <typename Work>
auto run_call(Server::Impl& s, const httplib::Request& req, LoadedModel& m, size_t inputs, Work&& work)
    -> decltype(work(std::declval<const attend::CancelToken&>())) {
  Admission admission(m, inputs, s.options.max_queued);
  const int fd = connection_socket(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
  auto deadline = current_request().start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(s.options.request_timeout));
  auto ticket = s.watch.add(fd, deadline);
  try {
    return work((**ticket).token);
  } catch (const attend::Cancelled&) {
    throw stopped(**ticket, s.options.request_timeout);
  } catch (const attend::Error& e) {
    if ((**ticket).why() != StopReason::None) throw stopped(**ticket, s.options.request_timeout);
    throw RequestError(400, e.what());
  }
}

// A direct (unbatched) Model call for one request: run_call's admission, deadline and
// cancellation, then the model's one direct slot and the server's thread count around work(token).
template <typename Work>
auto run_direct(Server::Impl& s, const httplib::Request& req, LoadedModel& m, size_t inputs, Work&& work)
    -> decltype(work(std::declval<const attend::CancelToken&>())) {
  return run_call(s, req, m, inputs, [&](const attend::CancelToken& t) {
    DirectSlot slot(m, t);
    if (s.options.threads > 0) attend::set_num_threads(s.options.threads);
    return work(t);
  });
}

template <typename Handler>
void guarded(httplib::Response& res, Handler&& h) {
  try {
    h();
  } catch (const RequestError& e) {
    if (e.status() == 503) res.set_header("Retry-After", "1");
    set_error(res, e.status(), e.what());
  }
}

attend::TranslateOptions translate_options(const LoadedModel& m, const TranslateCall& c) {
  attend::TranslateOptions opt;
  opt.generation = c.generation;
  if (c.num_hypotheses > 1 && !opt.generation.num_beams)
    opt.generation.num_beams = std::max(m.default_beams, c.num_hypotheses);
  try {
    // Codes as the model spells them, or LibreTranslate's spelling ("en" for mBART's "en_XX");
    // a monolingual model takes only its own languages (and needs no code).
    if (!m.languages.multilingual) {
      auto own = [&](const std::string& code, const std::vector<std::string>& have, const char* field) {
        if (!code.empty() && std::find(have.begin(), have.end(), code) == have.end())
          throw RequestError(400, std::string(field) + " '" + code + "': model '" + m.name + "' translates " +
                                      m.info.source_language + " to " + m.info.target_language);
      };
      own(c.source_lang, m.languages.sources, "source_lang");
      own(c.target_lang, m.languages.targets, "target_lang");
    } else {
      opt.src_lang = c.source_lang.empty() ? "" : model_language_code(m.info, c.source_lang);
      opt.tgt_lang = c.target_lang.empty() ? "" : model_language_code(m.info, c.target_lang);
    }
    if (c.return_attention || c.alignments) {  // cross-attention (docs/attention.md)
      opt.return_attention = true;
      opt.attention_layer = c.attention_layer;
      opt.attention_head = c.attention_head;
      opt.attention_all_layers = c.attention_all_layers;
      opt.attention_all_heads = c.attention_all_heads;
    }
    m.model->validate(opt);
  } catch (const attend::Error& e) {
    throw RequestError(400, e.what());
  }
  return opt;
}

using StreamWork = std::function<std::string(EventQueue&, const attend::CancelToken&, uint64_t& tokens)>;

void write_event(httplib::DataSink& sink, bool& ok, const std::string& event) {
  if (ok && !sink.write(event.data(), event.size())) ok = false;
}

// Answers with Server-Sent Events: one `data: {"index": i, "text": piece}` event per decided
// piece of text, then `event: result` with the whole answer (as without streaming) or
// `event: error` with {"error", "status"}. The call is admitted now (a full queue is still a
// 503); it runs on its own thread while this one writes the events, so a slow client never
// holds up the batch its request is decoded in. A failed write (client gone) cancels it.
void stream_response(Server::Impl& s, const httplib::Request& req, httplib::Response& res, LoadedModel& m,
                     size_t inputs, StreamWork work) {
  auto admission = std::make_shared<Admission>(m, inputs, s.options.max_queued);
  const int fd = connection_socket(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
  const auto deadline = current_request().start + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(s.options.request_timeout));
  current_request().stream = true;  // the handler is done once the provider starts (draining)
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto shared_work = std::make_shared<StreamWork>(std::move(work));
  res.set_chunked_content_provider(
      "text/event-stream",
      [&s, &m, fd, deadline, admission, shared_work](size_t, httplib::DataSink& sink) {
        s.handler_done(current_request());
        auto ticket = s.watch.add(fd, deadline);
        EventQueue q;
        uint64_t tokens = 0;
        std::thread worker([&] {
          try {
            std::string result = (*shared_work)(q, (**ticket).token, tokens);
            q.finish(std::move(result), 0, "");
          } catch (const attend::Cancelled&) {
            const RequestError e = stopped(**ticket, s.options.request_timeout);
            q.finish("", e.status(), e.what());
          } catch (const RequestError& e) {
            q.finish("", e.status(), e.what());
          } catch (const attend::Error& e) {
            if ((**ticket).why() != StopReason::None) {
              const RequestError r = stopped(**ticket, s.options.request_timeout);
              q.finish("", r.status(), r.what());
            } else {
              q.finish("", 400, e.what());
            }
          } catch (const std::exception& e) {
            q.finish("", 500, std::string("internal error: ") + e.what());
          }
        });
        bool ok = true;
        std::unique_lock<std::mutex> lock(q.mu);
        while (true) {
          q.cv.wait(lock, [&] { return !q.pieces.empty() || q.done; });
          auto pieces = std::move(q.pieces);
          q.pieces.clear();
          const bool done = q.done;
          lock.unlock();
          for (const auto& [index, text] : pieces)
            write_event(sink, ok, "data: " + dump(json{{"index", index}, {"text", text}}) + "\n\n");
          if (!ok) (**ticket).stop(StopReason::ClientGone);
          if (done) break;
          lock.lock();
        }
        worker.join();
        if (q.error_status == 0) write_event(sink, ok, "event: result\ndata: " + q.result + "\n\n");
        else write_event(sink, ok, "event: error\ndata: " + dump(json{{"error", q.error}, {"status", q.error_status}}) + "\n\n");
        current_request().tokens += tokens;
        s.metrics.generated_tokens(m.name, tokens);
        if (ok) sink.done();
        return ok;
      });
}

void record_texts(Server::Impl& s, const std::vector<std::string>& texts) {
  RequestRecord& rec = current_request();
  rec.texts = texts.size();
  if (s.options.log_text) rec.texts_json = dump(texts);
}

}  // namespace

// "/": the page to translate a sentence and see its attention (server/attention_page.cpp).
void Server::Impl::index_page(const httplib::Request&, httplib::Response& res) {
  res.status = 200;
  res.set_content(serve_page(), "text/html; charset=utf-8");
}

void Server::Impl::health(const httplib::Request&, httplib::Response& res) {
  if (draining) return set_json(res, R"({"status":"draining"})", 503);
  set_json(res, dump(json{{"status", "ok"}, {"models", models.size()}}));
}

void Server::Impl::languages(const httplib::Request&, httplib::Response& res) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> targets;
  for (const auto& m : models)
    for (const auto& src : m->languages.sources) {
      if (!targets.count(src)) order.push_back(src);
      auto& t = targets[src];
      for (const auto& tgt : m->languages.targets)
        if (tgt != src && std::find(t.begin(), t.end(), tgt) == t.end()) t.push_back(tgt);
    }
  json out = json::array();
  for (const auto& code : order)
    out.push_back(json{{"code", code}, {"name", language_name(code)}, {"targets", targets[code]}});
  set_json(res, dump(out));
}

void Server::Impl::list_models(const httplib::Request&, httplib::Response& res) {
  json out = json::array();
  for (size_t i = 0; i < models.size(); ++i) {
    const LoadedModel& m = *models[i];
    out.push_back(json{{"name", m.name},
                       {"path", m.path},
                       {"default", i == 0},
                       {"family", m.info.family},
                       {"source_languages", m.languages.sources},
                       {"target_languages", m.languages.targets},
                       {"compute_type", m.info.compute_type},
                       {"cpu", m.info.cpu_model},
                       {"cpu_isa", m.info.cpu_isa},
                       {"load_seconds", m.load_seconds}});
  }
  set_json(res, dump(json{{"models", std::move(out)}}));
}

void Server::Impl::metrics_text(const httplib::Request&, httplib::Response& res) {
  std::vector<ModelSample> samples;
  for (const auto& m : models) {
    ModelSample s;
    s.model = m->name;
    s.load_seconds = m->load_seconds;
    s.queued_inputs = m->inputs.load();
    const attend::Translator::Stats st = m->translator->stats();
    s.batch_sizes = st.batch_sizes;
    s.cache_releases = st.cache_releases;
    s.cached_bytes = m->model->cached_bytes();
    samples.push_back(std::move(s));
  }
  res.status = 200;
  res.set_content(metrics.render(samples, in_flight.load()), "text/plain; version=0.0.4");
}

void Server::Impl::translate(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    const TranslateCall call = parse_translate(req.body, options.limits);
    record_texts(*this, call.texts);
    LoadedModel& m = model_named(call.model);
    attend::TranslateOptions opt = translate_options(m, call);

    if (call.document) {
      std::vector<attend::DocumentTranslation> docs = run_direct(*this, req, m, call.texts.size(), [&](const attend::CancelToken& t) {
        opt.cancel = t;
        return m.model->translate_documents(call.texts, opt);
      });
      json out = json::array();
      for (const auto& d : docs) out.push_back(json{{"text", d.text}, {"sentences", d.sentences}});
      return set_json(res, dump(json{{"translations", std::move(out)}}));
    }
    if (call.html) {  // markup kept (Model::translate_html)
      std::vector<std::string> out = run_direct(*this, req, m, call.texts.size(), [&](const attend::CancelToken& t) {
        opt.cancel = t;
        return m.model->translate_html(call.texts, opt);
      });
      json arr = json::array();
      for (auto& text : out) arr.push_back(json{{"text", std::move(text)}});
      return set_json(res, dump(json{{"translations", std::move(arr)}}));
    }
    if (!call.stream) {
      auto results = run_call(*this, req, m, call.texts.size(), [&](const attend::CancelToken& t) {
        opt.cancel = t;
        return m.translator->translate(call.texts, opt);
      });
      uint64_t tokens = 0;
      for (const auto& r : results) tokens += generated(r);
      current_request().tokens = tokens;
      metrics.generated_tokens(m.name, tokens);
      return set_json(res, dump(translations_json(results, call, *m.model)));
    }
    stream_response(*this, req, res, m, call.texts.size(),
                    [&m, call, opt](EventQueue& q, const attend::CancelToken& t, uint64_t& tokens) mutable {
                      opt.cancel = t;
                      opt.on_stream = [&q](const attend::StreamEvent& e) { return q.push(e); };
                      auto results = m.translator->translate(call.texts, opt);
                      for (const auto& r : results) tokens += generated(r);
                      return dump(translations_json(results, call, *m.model));
                    });
  });
}

void Server::Impl::summarize(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    const SummarizeCall call = parse_summarize(req.body, options.limits);
    record_texts(*this, call.texts);
    for (size_t i = 0; i < call.texts.size(); ++i)
      if (call.texts[i].find_first_not_of(" \t\n\r\f\v") == std::string::npos)
        throw RequestError(400, (call.array ? "text[" + std::to_string(i) + "]" : std::string("text")) +
                                    " has only whitespace");
    LoadedModel& m = model_named(call.model);
    attend::SummarizeOptions so;
    so.generation = call.generation;
    so.prefix = call.prefix;
    so.max_batch_size = options.max_batch_size;
    so.max_batch_tokens = options.max_batch_tokens;
    try {
      (void)m.model->summarize_settings(so);  // invalid settings: 400 before any work
    } catch (const attend::Error& e) {
      throw RequestError(400, e.what());
    }
    auto run = [this, &m, call, so](const attend::CancelToken& t, const attend::StreamCallback& on_stream,
                                    uint64_t& tokens) mutable {
      DirectSlot slot(m, t);
      if (options.threads > 0) attend::set_num_threads(options.threads);
      so.cancel = t;
      so.on_stream = on_stream;
      const auto results = m.model->summarize(call.texts, so);
      json out = json::array();
      for (const auto& r : results) {
        tokens += static_cast<uint64_t>(r.generated_tokens);
        out.push_back(json{{"text", r.summary}, {"chunks", r.chunks}, {"rounds", r.rounds}, {"complete", r.complete}});
      }
      return dump(json{{"summaries", std::move(out)}});
    };
    if (call.stream) {
      return stream_response(*this, req, res, m, call.texts.size(),
                             [run](EventQueue& q, const attend::CancelToken& t, uint64_t& tokens) mutable {
                               return run(t, [&q](const attend::StreamEvent& e) { return q.push(e); }, tokens);
                             });
    }
    uint64_t tokens = 0;
    const std::string body = run_call(*this, req, m, call.texts.size(),
                                      [&](const attend::CancelToken& t) { return run(t, nullptr, tokens); });
    current_request().tokens = tokens;
    metrics.generated_tokens(m.name, tokens);
    set_json(res, body);
  });
}

void Server::Impl::libre_translate(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    const std::string type = req.get_header_value("Content-Type");
    LibreCall call;
    if (type.find("application/x-www-form-urlencoded") == 0) {
      call = parse_libre_form(FormFields(req.params.begin(), req.params.end()), options.limits);
    } else if (req.is_multipart_form_data()) {
      FormFields fields;
      for (const auto& [name, file] : req.files) fields.emplace(name, file.content);
      call = parse_libre_form(fields, options.limits);
    } else {
      call = parse_libre_json(req.body, options.limits);
    }
    record_texts(*this, call.texts);
    if (!options.api_keys.empty() && !req.has_header("Authorization") && !req.has_param("api_key")) {
      if (call.api_key.empty()) throw RequestError(401, "an API key is required (api_key)");
      if (!key_valid(call.api_key)) throw RequestError(403, "Invalid API key");
    }
    // The model: the first that translates source → target ("auto": one with a single source).
    LoadedModel* chosen = nullptr;
    std::string source = call.source;
    for (auto& m : models) {
      const auto& l = m->languages;
      const bool has_target = std::find(l.targets.begin(), l.targets.end(), call.target) != l.targets.end();
      if (!has_target) continue;
      if (source == "auto") {
        if (l.sources.size() == 1 && l.sources[0] != call.target) {
          chosen = m.get();
          source = l.sources[0];
          break;
        }
      } else if (std::find(l.sources.begin(), l.sources.end(), source) != l.sources.end() && source != call.target) {
        chosen = m.get();
        break;
      }
    }
    if (!chosen) {
      if (call.source == "auto")
        throw RequestError(400, "source 'auto' needs a model with one source language that translates into '" +
                                    call.target + "'; language detection is not supported (see GET /languages)");
      throw RequestError(400, call.source + " → " + call.target + " is not available (see GET /languages)");
    }
    LoadedModel& m = *chosen;
    attend::TranslateOptions opt;
    try {
      opt.src_lang = m.languages.multilingual ? model_language_code(m.info, source) : "";
      opt.tgt_lang = m.languages.multilingual ? model_language_code(m.info, call.target) : "";
      m.model->validate(opt);
    } catch (const attend::Error& e) {
      throw RequestError(400, e.what());
    }
    if (call.html) {  // markup kept (Model::translate_html)
      std::vector<std::string> out = run_direct(*this, req, m, call.texts.size(), [&](const attend::CancelToken& t) {
        opt.cancel = t;
        return m.model->translate_html(call.texts, opt);
      });
      json texts(out);
      return set_json(res, dump(json{{"translatedText", call.array ? texts : texts[0]}}));
    }
    auto results = run_call(*this, req, m, call.texts.size(), [&](const attend::CancelToken& t) {
      opt.cancel = t;
      return m.translator->translate(call.texts, opt);
    });
    uint64_t tokens = 0;
    json texts = json::array();
    for (const auto& r : results) {
      tokens += generated(r);
      texts.push_back(r.hypotheses.empty() ? "" : r.hypotheses[0].text);
    }
    current_request().tokens = tokens;
    metrics.generated_tokens(m.name, tokens);
    json out{{"translatedText", call.array ? texts : texts[0]}};
    if (call.source == "auto") out["detectedLanguage"] = json{{"confidence", 100}, {"language", source}};
    set_json(res, dump(out));
  });
}

}  // namespace attend_server
