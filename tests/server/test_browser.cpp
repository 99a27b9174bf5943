// tests/server/test_browser.cpp — the attention heatmap in a real browser: Debian's headless
// Chromium (installed by setup.sh) opens the file `attend attention` writes and the page
// `attend serve` serves at "/" (which translates through the server on 127.0.0.1);
// the rendered DOM's cell values must equal the weights /v1/translate returns, for a chosen layer
// and head and for the default view (last layer, mean over heads), and a screenshot's heatmap
// region (its position read from the DOM) must not be blank.
#include <catch2/catch.hpp>

#include <png.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/server/server_fixture.hpp"
#include "tests/support/child_process.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Headless Chromium with a throwaway profile, no background network traffic.
attend_test::CommandResult chromium(const fs::path& profile, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
                                   "--no-first-run", "--disable-extensions", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile.string(), "--window-size=1100,800"};
  argv.insert(argv.end(), args.begin(), args.end());
  return attend_test::run_command(argv);
}

struct Cell {
  int t, s;
  double value;
};

std::vector<Cell> cells_of(const std::string& dom) {
  static const std::regex cell(R"re(<td data-t="(\d+)" data-s="(\d+)" data-value="([^"]+)")re");
  std::vector<Cell> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), cell); it != std::sregex_iterator(); ++it)
    out.push_back(Cell{std::stoi((*it)[1]), std::stoi((*it)[2]), std::stod((*it)[3])});
  return out;
}

// The heatmap's cells equal weights[layer][head] (head -1: the mean over heads).
void check_cells(const std::vector<Cell>& cells, const json& weights, int layer, int head) {
  const json& l = weights.at(static_cast<size_t>(layer));
  const size_t T = l[0].size(), S = l[0][0].size(), H = l.size();
  REQUIRE(cells.size() == T * S);
  for (const Cell& c : cells) {
    double want = 0;
    if (head >= 0) {
      want = l[static_cast<size_t>(head)][static_cast<size_t>(c.t)][static_cast<size_t>(c.s)].get<double>();
    } else {
      for (size_t h = 0; h < H; ++h) want += l[h][static_cast<size_t>(c.t)][static_cast<size_t>(c.s)].get<double>();
      want /= static_cast<double>(H);
    }
    INFO("cell " << c.t << "," << c.s);
    CHECK(c.value == Approx(want).margin(1e-9));
  }
}

// x,y,w,h of the heatmap table as the page measured it (data-rect of the container).
std::vector<int> rect_of(const std::string& dom) {
  static const std::regex rect(R"re(data-rect="(\d+),(\d+),(\d+),(\d+)")re");
  std::smatch m;
  if (!std::regex_search(dom, m, rect)) return {};
  return {std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4])};
}

}  // namespace

TEST_CASE("browser: the heatmap file and the serve page show the returned weights", "[server][browser]") {
  REQUIRE_FALSE(chromium_path().empty());  // setup.sh installs Debian's chromium
  const fs::path dir = fs::temp_directory_path() / ("attend-browser-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  const std::string sentence = "A black dog runs through the snow.";

  server_test::RunningServer s;
  auto c = s.client();
  const json req = {{"text", sentence}, {"return_attention", true}, {"attention_all_layers", true},
                    {"attention_all_heads", true}};
  auto r = c.Post("/v1/translate", req.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json t = json::parse(r->body)["translations"][0];
  const json& weights = t["attention"]["weights"];
  const int layers = static_cast<int>(weights.size());
  REQUIRE(layers == server_test::model()->info().decoder_layers);

  // the self-contained file
  const fs::path file = dir / "attention.html";
  const auto made = attend_test::run_command(
      {attend_test::attend_cli(), "attention", "-m", ATTEND_DEFAULT_MODEL_PATH, sentence, "-o", file.string()});
  REQUIRE(made.exit_code == 0);
  const std::string url = "file://" + file.string();
  {
    const auto dom = chromium(dir / "p1", {"--dump-dom", url + "#layer=1&head=2"});
    REQUIRE(dom.exit_code == 0);
    CHECK(dom.out.find("data-layer=\"1\" data-head=\"2\"") != std::string::npos);
    check_cells(cells_of(dom.out), weights, 1, 2);
  }
  const auto dom = chromium(dir / "p2", {"--dump-dom", url});
  REQUIRE(dom.exit_code == 0);
  check_cells(cells_of(dom.out), weights, layers - 1, -1);  // default: last layer, mean over heads
  CHECK(dom.out.find(t["text"].get<std::string>()) != std::string::npos);

  // the page of attend serve: translates through the server (streamed), then draws
  {
    std::string q = "/?text=";
    for (char ch : sentence) q += ch == ' ' ? std::string("%20") : std::string(1, ch);
    // Chromium's --dump-dom waits while a request is pending but not for the rest of a streamed
    // body, so the page is asked for the whole answer at once (?stream=0); the streamed events
    // themselves are tested in test_server.cpp (their pieces add up to the unstreamed text).
    q += "&stream=0";
    attend_test::CommandResult page;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a dump before the page's data-done is taken again
      page = chromium(dir / ("p3-" + std::to_string(attempt)),
                      {"--virtual-time-budget=600000", "--timeout=20000", "--dump-dom",
                       "http://127.0.0.1:" + std::to_string(s.port()) + q + "#layer=0&head=1"});
      REQUIRE(page.exit_code == 0);
      if (page.out.find("data-done=") != std::string::npos) break;
    }
    INFO(page.out.substr(0, 2000));
    REQUIRE(page.out.find("data-done=\"1\"") != std::string::npos);
    CHECK(page.out.find("<p id=\"translation\">" + t["text"].get<std::string>() + "</p>") != std::string::npos);
    check_cells(cells_of(page.out), weights, 0, 1);
  }

  // a screenshot: the heatmap region holds many coloured pixels
  const std::vector<int> rect = rect_of(dom.out);
  REQUIRE(rect.size() == 4);
  REQUIRE(rect[2] > 50);
  REQUIRE(rect[3] > 50);
  const fs::path png = dir / "shot.png";
  REQUIRE(chromium(dir / "p4", {"--screenshot=" + png.string(), url}).exit_code == 0);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, png.string().c_str()) != 0);
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> px(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, px.data(), 0, nullptr) != 0);
  const int W = static_cast<int>(image.width), Hh = static_cast<int>(image.height);
  size_t coloured = 0, total = 0, red = 0;
  for (int y = rect[1]; y < std::min(Hh, rect[1] + rect[3]); ++y)
    for (int x = rect[0]; x < std::min(W, rect[0] + rect[2]); ++x) {
      const unsigned char* p = px.data() + (static_cast<size_t>(y) * W + x) * 3;
      ++total;
      coloured += (p[0] < 235 || p[1] < 235 || p[2] < 235);
      red += (p[0] > p[1] + 60);  // strong weights are drawn in red
    }
  INFO("heatmap region " << rect[0] << "," << rect[1] << " " << rect[2] << "x" << rect[3] << ": " << coloured
                         << " of " << total << " pixels coloured, " << red << " red");
  CHECK(total > 5000);
  CHECK(coloured > total / 10);
  CHECK(red > total / 50);
}
