// server/attention_page.cpp — the attention heatmap pages (server/attention_page.hpp). The same
// inline script draws both: a table with one row per target token and one column per source token,
// each cell coloured by its weight, carrying the exact value (data-value, title, and the readout
// on hover), with a layer and head selector (means of layers/heads computed in the page). The
// URL fragment may preselect them: #layer=N&head=H (layer = a decoder layer index, -1 = mean;
// head -1 = mean).
#include "server/attention_page.hpp"

namespace attend_server {
namespace {

const char* const kStyle = R"CSS(
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 .6em; }
.att-text { margin: .2em 0; }
.att-controls { margin: .8em 0; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
.att-info { min-height: 1.4em; color: #444; font-variant-numeric: tabular-nums; }
table.att-table { border-collapse: collapse; margin-top: .5em; }
table.att-table td { width: 30px; height: 26px; border: 1px solid #eee; padding: 0; }
table.att-table th { font-weight: normal; font-size: 13px; padding: 2px 5px; white-space: nowrap; }
table.att-table thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; height: 6em; }
table.att-table tbody th { text-align: right; }
form.att-form { display: grid; gap: .5em; max-width: 46em; }
form.att-form textarea { font: inherit; min-height: 4em; }
.att-row { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
#translation { font-size: 1.1em; min-height: 1.5em; padding: .4em; background: #f6f6f6; }
.att-error { color: #b00; }
)CSS";

// attendHeatmap(root, data): draws data (attention_json) into root.
const char* const kScript = R"JS(
function attendHeatmap(root, d) {
  const L = d.weights.length, H = L ? d.weights[0].length : 0;
  const T = d.target_tokens.length, S = d.source_tokens.length;
  const hash = new URLSearchParams(location.hash.slice(1));
  root.textContent = '';
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls;
                                   if (text !== undefined) e.textContent = text; return e; };
  const bar = el('div', 'att-controls');
  const choose = (label, id, options, value) => {
    const l = el('label', '', label + ' ');
    const s = el('select'); s.id = id;
    for (const [v, text] of options) { const o = el('option', '', text); o.value = v; s.appendChild(o); }
    s.value = String(value); l.appendChild(s); bar.appendChild(l); return s;
  };
  const layerOptions = d.layers.map((l, i) => [i, 'layer ' + l]);
  if (L > 1) layerOptions.push([-1, 'mean of layers']);
  const headOptions = H > 1 ? [[-1, 'mean of heads']] : [[0, d.head != null ? 'head ' + d.head : 'mean of heads']];
  for (let h = 0; H > 1 && h < H; ++h) headOptions.push([h, 'head ' + h]);
  let layer = L - 1, head = H > 1 ? -1 : 0;
  if (hash.has('layer')) { const want = +hash.get('layer'); layer = want < 0 ? -1 : d.layers.indexOf(want); }
  if (hash.has('head') && H > 1) head = +hash.get('head');
  const layerSel = choose('Layer', 'att-layer', layerOptions, layer);
  const headSel = choose('Head', 'att-head', headOptions, head);
  const info = el('span', 'att-info', 'hover a cell for its weight');
  bar.appendChild(info);
  root.appendChild(bar);
  const table = el('table', 'att-table'); table.id = 'heatmap';
  root.appendChild(table);
  const value = (t, s) => {
    const ls = layer < 0 ? [...Array(L).keys()] : [layer], hs = head < 0 ? [...Array(H).keys()] : [head];
    let sum = 0;
    for (const l of ls) for (const h of hs) sum += d.weights[l][h][t][s];
    return sum / (ls.length * hs.length);
  };
  const draw = () => {
    layer = +layerSel.value; head = +headSel.value;
    table.textContent = '';
    table.dataset.layer = layer < 0 ? -1 : d.layers[layer];
    table.dataset.head = head;
    const head_row = el('tr'); head_row.appendChild(el('th'));
    for (const s of d.source_tokens) head_row.appendChild(el('th', 'att-src', s));
    const thead = el('thead'); thead.appendChild(head_row); table.appendChild(thead);
    const body = el('tbody');
    for (let t = 0; t < T; ++t) {
      const row = el('tr'); row.appendChild(el('th', 'att-tgt', d.target_tokens[t]));
      for (let s = 0; s < S; ++s) {
        const v = value(t, s), cell = el('td');
        cell.dataset.t = t; cell.dataset.s = s; cell.dataset.value = String(v);
        cell.title = d.target_tokens[t] + ' \u2192 ' + d.source_tokens[s] + ': ' + v.toFixed(4);
        cell.style.background = 'rgba(178, 34, 34, ' + Math.min(1, Math.max(0, v)).toFixed(4) + ')';
        cell.onmouseenter = () => { info.textContent = cell.title; };
        row.appendChild(cell);
      }
      body.appendChild(row);
    }
    table.appendChild(body);
    const r = table.getBoundingClientRect();
    root.dataset.rect = [Math.round(r.left + scrollX), Math.round(r.top + scrollY), Math.round(r.width),
                         Math.round(r.height)].join(',');
  };
  layerSel.onchange = draw; headSel.onchange = draw;
  draw();
}
)JS";

// The page at "/": a form, the streamed translation, the heatmap of its best hypothesis.
const char* const kServeScript = R"JS(
const $ = (id) => document.getElementById(id);
let models = [];
function fillLanguages() {
  const m = models.find((x) => x.name === $('model').value) || models[0];
  for (const [id, codes] of [['src', m.source_languages], ['tgt', m.target_languages]]) {
    const s = $(id); s.textContent = '';
    for (const c of codes) { const o = document.createElement('option'); o.value = o.textContent = c; s.appendChild(o); }
  }
}
async function translate(ev) {
  if (ev) ev.preventDefault();
  $('translation').textContent = ''; $('att').textContent = ''; $('status').textContent = 'translating\u2026';
  // ?stream=0 asks for the whole answer at once (a headless browser's --dump-dom waits for a
  // pending request, not for the rest of a stream)
  const stream = new URLSearchParams(location.search).get('stream') !== '0';
  const body = { text: $('text').value, model: $('model').value, stream: stream, return_attention: true,
                 attention_all_layers: true, attention_all_heads: true };
  if ($('src').value) body.source_lang = $('src').value;
  if ($('tgt').value) body.target_lang = $('tgt').value;
  try {
    const res = await fetch('/v1/translate', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                               body: JSON.stringify(body) });
    if (!res.ok) throw new Error((await res.json()).error || res.statusText);
    if (!stream) {
      const t = (await res.json()).translations[0];
      $('translation').textContent = t.text;
      attendHeatmap($('att'), t.attention);
      $('status').textContent = '';
      document.body.dataset.done = '1';
      return;
    }
    const reader = res.body.getReader(), dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut); buf = buf.slice(cut + 2);
        let name = 'message', data = '';
        for (const line of event.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        const j = JSON.parse(data);
        if (name === 'message') $('translation').textContent += j.text;
        else if (name === 'error') throw new Error(j.error);
        else if (name === 'result') {
          const t = j.translations[0];
          $('translation').textContent = t.text;
          attendHeatmap($('att'), t.attention);
          $('status').textContent = '';
          document.body.dataset.done = '1';
        }
      }
    }
  } catch (e) {
    $('status').textContent = 'error: ' + e.message; $('status').className = 'att-error';
    document.body.dataset.done = 'error';
  }
}
async function start() {
  models = (await (await fetch('/v1/models')).json()).models;
  for (const m of models) { const o = document.createElement('option'); o.value = o.textContent = m.name; $('model').appendChild(o); }
  $('model').onchange = fillLanguages;
  fillLanguages();
  $('form').onsubmit = translate;
  const q = new URLSearchParams(location.search);
  if (q.has('model')) { $('model').value = q.get('model'); fillLanguages(); }
  if (q.has('source_lang')) $('src').value = q.get('source_lang');
  if (q.has('target_lang')) $('tgt').value = q.get('target_lang');
  if (q.has('text')) { $('text').value = q.get('text'); translate(); }
}
start();
)JS";

// JSON inside <script>: "</" must not end the element.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

nlohmann::json attention_json(const attend::Model& model, const attend::Hypothesis& h) {
  using nlohmann::json;
  const attend::AttentionWeights& a = h.attention;
  json layers = json::array();
  for (size_t l = 0; l < a.layers.size(); ++l) {
    json heads = json::array();
    for (int hh = 0; hh < a.heads; ++hh) {
      json rows = json::array();
      for (int t = 0; t < a.target; ++t) {
        std::vector<float> row(static_cast<size_t>(a.source));
        for (int s = 0; s < a.source; ++s) row[static_cast<size_t>(s)] = a.at(static_cast<int>(l), hh, t, s);
        rows.push_back(std::move(row));
      }
      heads.push_back(std::move(rows));
    }
    layers.push_back(std::move(heads));
  }
  const std::vector<int32_t> produced(h.ids.begin() + 1, h.ids.end());
  json out{{"layers", a.layers}, {"source_tokens", model.token_pieces(a.source_ids)},
           {"target_tokens", model.token_pieces(produced)}, {"weights", std::move(layers)}};
  if (a.head >= 0) out["head"] = a.head;
  else out["heads"] = a.mean_heads ? json("mean") : json(a.heads);
  return out;
}

std::string heatmap_file(const nlohmann::json& data) {
  const std::string source = data.value("source", ""), translation = data.value("translation", "");
  return std::string("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<title>Attend: cross-attention</title>\n<style>") +
         kStyle + "</style></head>\n<body>\n<h1>Cross-attention</h1>\n<p class=\"att-text\"><b>Source:</b> " +
         escape_html(source) + "</p>\n<p class=\"att-text\"><b>Translation:</b> " + escape_html(translation) +
         "</p>\n<div id=\"att\"></div>\n<script>" + kScript + "\nconst ATTENTION = " + script_json(data) +
         ";\nattendHeatmap(document.getElementById('att'), ATTENTION);\n</script>\n</body></html>\n";
}

std::string serve_page() {
  return std::string("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<title>Attend</title>\n<style>") +
         kStyle +
         "</style></head>\n<body>\n<h1>Attend: translate and look inside attention</h1>\n"
         "<form id=\"form\" class=\"att-form\">\n"
         "<textarea id=\"text\" placeholder=\"Type a sentence\">A dog runs in the park.</textarea>\n"
         "<div class=\"att-row\"><label>Model <select id=\"model\"></select></label>\n"
         "<label>From <select id=\"src\"></select></label>\n<label>To <select id=\"tgt\"></select></label>\n"
         "<button type=\"submit\">Translate</button> <span id=\"status\"></span></div>\n</form>\n"
         "<p id=\"translation\"></p>\n<div id=\"att\"></div>\n<script>" +
         kScript + kServeScript + "</script>\n</body></html>\n";
}

}  // namespace attend_server
