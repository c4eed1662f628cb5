// qarch_rtl_area: the Yosys area flow of rtl/. For every block of rtl/synth/blocks.txt it runs
//   yosys: read_verilog rtl/src/*.v (as rtl/synth/sources.txt orders them: read_sources);
//          hierarchy -top <top> -chparam ...; script generic.ys;
//          stat -json
// converts the generic cell counts into NAND2 equivalents with rtl/synth/cell_weights.json and
// into um^2 per technology node, and writes
//   <out>/area.json  machine-readable (reports/ reads it), <out>/area.csv, <out>/area.md
// With --check it fails (exit 1) unless every block synthesizes, maps only to known cells, has
// exactly the flip-flop count its blocks.txt line states (derived by hand from the RTL) and
// plausible totals; with --compare FILE it also fails if the cell counts differ from a
// committed area.json made by the same Yosys version (the snapshot is stale).
//
// With --liberty DIR (rtl/pdk/asap7: gzipped Liberty files listed in DIR/libs.txt) it also maps
// blocks onto those standard cells (rtl/synth/liberty.ys): the files are gunzipped and merged
// into one library at --liberty-lib (in the build tree; reused while its inputs are unchanged),
// and each block gets its area in um^2 (the sum of its cells' Liberty areas, checked against
// Yosys's `stat -liberty`), its cell mix by class (libs.txt: flop, inv_buf, simple, complex) and
// a critical-path estimate: ABC's delay of the mapped logic between flip-flops plus the
// flip-flop's clock-to-Q and setup times read from the library (--liberty-blocks limits the
// blocks mapped; --require-long makes the run exit 77, "skipped", unless QARCH_RTL_LONG=1).
//
//   qarch_rtl_area --yosys yosys --rtl <repo>/rtl --out <dir> [--jobs N] [--check]
//                  [--compare <repo>/rtl/synth/results/area.json]
//                  [--liberty <repo>/rtl/pdk/asap7 --liberty-lib <build>/asap7_rvt_tt.lib
//                   [--liberty-blocks all|NAME,NAME...] [--require-long]]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>
#include <zlib.h>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

struct Block {
  std::string name, kind, top, description;
  std::vector<std::pair<std::string, std::string>> params;
  long expected_flops = -1;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(trim(item));
  return out;
}

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "qarch_rtl_area: " << msg << "\n";
  std::exit(2);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) die("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// blocks.txt: name | kind | top | NAME=VALUE ... | flops | description
std::vector<Block> read_blocks(const fs::path& p) {
  std::vector<Block> blocks;
  std::istringstream in(read_file(p));
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    const auto f = split(line, '|');
    if (f.size() != 6) die(p.string() + ":" + std::to_string(no) + ": expected 6 '|' fields");
    Block b{f[0], f[1], f[2], f[5], {}, std::stol(f[4])};
    std::istringstream ps(f[3]);
    std::string kv;
    while (ps >> kv) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) die(p.string() + ":" + std::to_string(no) + ": bad param " + kv);
      b.params.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    blocks.push_back(b);
  }
  return blocks;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The Verilog sources as rtl/synth/sources.txt lists them: files of rtl/src in groups
// ("epochs", separated by a line "---"), in reading order. A block reads the files of every
// epoch up to the one that defines its top module, and no later ones. Why: ABC's mapping depends
// on Yosys's internal object numbering, which counts everything parsed in the run (file paths,
// line numbers and the running index are part of the names), so any added file would change the
// cell counts of every other block, and with them the technology table derived from area.json.
// New files therefore go into a new epoch at the end: the blocks of earlier epochs read exactly
// what they read before. Every rtl/src/*.v must be listed.
struct Sources {
  std::vector<std::vector<fs::path>> epochs;
  std::map<std::string, size_t> module_epoch;  // module name -> epoch of its file

  // The files a block with top module `top` reads.
  std::vector<fs::path> for_top(const std::string& top) const {
    const auto it = module_epoch.find(top);
    if (it == module_epoch.end()) die("no file of rtl/synth/sources.txt defines module " + top);
    std::vector<fs::path> files;
    for (size_t e = 0; e <= it->second; ++e) {
      files.insert(files.end(), epochs[e].begin(), epochs[e].end());
    }
    return files;
  }
};

Sources read_sources(const fs::path& rtl) {
  const fs::path list = rtl / "synth" / "sources.txt";
  Sources s;
  s.epochs.emplace_back();
  std::vector<fs::path> all;
  std::istringstream in(read_file(list));
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line == "---") {
      s.epochs.emplace_back();
      continue;
    }
    const fs::path p = rtl / "src" / line;
    if (!fs::exists(p)) die(list.string() + ": " + line + " is not in " + (rtl / "src").string());
    s.epochs.back().push_back(p);
    all.push_back(p);
    // Module definitions: "module <name>" at the start of a line (the sources' style).
    std::istringstream text(read_file(p));
    std::string l;
    while (std::getline(text, l)) {
      std::istringstream w(l);
      std::string kw, name;
      if (w >> kw >> name && kw == "module") {
        name = name.substr(0, name.find_first_of("#(;"));
        s.module_epoch[name] = s.epochs.size() - 1;
      }
    }
  }
  for (const auto& e : fs::directory_iterator(rtl / "src")) {
    if (e.path().extension() == ".v" && std::find(all.begin(), all.end(), e.path()) == all.end()) {
      die(e.path().string() + " is not listed in " + list.string() +
          " (add it in a new epoch at the end)");
    }
  }
  return s;
}

// ---- The Liberty flow ------------------------------------------------------------------------

// A gzipped (or plain) file's text, through zlib (gzopen reads both).
std::string read_gz(const fs::path& p) {
  gzFile f = gzopen(p.string().c_str(), "rb");
  if (!f) die("cannot read " + p.string());
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  const bool bad = n < 0;
  gzclose(f);
  if (bad) die(p.string() + ": not a readable gzip file");
  return text;
}

bool starts_with(const std::string& s, size_t pos, const char* prefix) {
  return s.compare(pos, std::char_traits<char>::length(prefix), prefix) == 0;
}

// "cell (NAME) {" or "cell(\"NAME\")" at the start of the line holding `pos` (after blanks):
// the cell's name, else "".
std::string cell_name_at(const std::string& text, size_t line_start) {
  size_t i = text.find_first_not_of(" \t", line_start);
  if (i == std::string::npos || !starts_with(text, i, "cell")) return "";
  i = text.find_first_not_of(" \t", i + 4);
  if (i == std::string::npos || text[i] != '(') return "";
  const size_t close = text.find(')', i);
  if (close == std::string::npos) return "";
  std::string name = trim(text.substr(i + 1, close - i - 1));
  if (!name.empty() && name.front() == '"') name = name.substr(1);
  if (!name.empty() && name.back() == '"') name.pop_back();
  return name;
}

// The end of the brace group that opens at text[open] == '{'.
size_t group_end(const std::string& text, size_t open, const std::string& what) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) return i;
  }
  die(what + ": unbalanced braces");
}

struct LibCell {
  std::string cls, file;
  double area = 0;
};

// One Liberty file split into its parts: the text before `library (`, the library header
// (attributes and templates before the first cell), and the cells (up to the library's closing
// brace), with each cell's name and area.
struct LibParts {
  std::string pre, header, cells;
  std::vector<std::pair<std::string, double>> cell_area;
};

LibParts split_liberty(const std::string& text, const std::string& file) {
  LibParts p;
  size_t lib = std::string::npos;
  for (size_t ls = 0; ls < text.size();) {
    const size_t i = text.find_first_not_of(" \t", ls);
    if (i != std::string::npos && starts_with(text, i, "library")) {
      lib = i;
      break;
    }
    const size_t nl = text.find('\n', ls);
    if (nl == std::string::npos) break;
    ls = nl + 1;
  }
  if (lib == std::string::npos) die(file + ": no 'library (' group");
  const size_t open = text.find('{', lib);
  if (open == std::string::npos) die(file + ": 'library (' without '{'");
  const size_t close = group_end(text, open, file);
  p.pre = text.substr(0, lib);
  size_t first_cell = std::string::npos;
  for (size_t ls = text.find('\n', open) + 1; ls < close;) {
    const std::string name = cell_name_at(text, ls);
    if (!name.empty()) {
      const size_t copen = text.find('{', ls);
      const size_t cend = group_end(text, copen, file + ": cell " + name);
      if (first_cell == std::string::npos) first_cell = ls;
      // The cell's own `area :` attribute (the first one in its group, before any pin).
      const size_t a = text.find("area", copen);
      double area = -1;
      if (a != std::string::npos && a < cend) {
        const size_t colon = text.find(':', a);
        area = std::strtod(text.c_str() + colon + 1, nullptr);
      }
      if (!(area >= 0)) die(file + ": cell " + name + " has no area attribute");
      p.cell_area.emplace_back(name, area);
      ls = text.find('\n', cend);
      ls = ls == std::string::npos ? close : ls + 1;
      continue;
    }
    const size_t nl = text.find('\n', ls);
    if (nl == std::string::npos) break;
    ls = nl + 1;
  }
  if (first_cell == std::string::npos) die(file + ": no cell");
  p.header = text.substr(open + 1, first_cell - open - 1);
  p.cells = text.substr(first_cell, close - first_cell);
  return p;
}

// The top-level named groups of a library header ("  lu_table_template (name) { ... }"): key
// "kind(name)" -> text.
std::vector<std::pair<std::string, std::string>> header_groups(const std::string& hdr,
                                                               const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t ls = 0; ls < hdr.size();) {
    size_t nl = hdr.find('\n', ls);
    if (nl == std::string::npos) nl = hdr.size();
    const std::string line = hdr.substr(ls, nl - ls);
    const size_t paren = line.find('('), brace = line.find('{');
    if (paren != std::string::npos && brace != std::string::npos && brace > paren &&
        line.find(';') == std::string::npos) {
      const size_t end = group_end(hdr, ls + brace, file + " header");
      const std::string key = trim(line.substr(0, paren)) + "(" +
                              trim(line.substr(paren + 1, line.find(')') - paren - 1)) + ")";
      out.emplace_back(key, hdr.substr(ls, end + 1 - ls) + "\n");
      nl = hdr.find('\n', end);
      if (nl == std::string::npos) break;
    }
    ls = nl + 1;
  }
  return out;
}

struct Liberty {
  fs::path lib;                          // the merged file Yosys reads
  std::map<std::string, LibCell> cells;  // name -> class, area
  std::vector<std::string> files;
};

// Merges the files of dir/libs.txt into `merged` (unless an earlier run left it with the same
// inputs: the side file <merged>.cells.json records their names and sizes) and returns the
// cells' classes and areas. Written to a temporary name and renamed, so two runs at once are
// safe.
Liberty merge_liberty(const fs::path& dir, const fs::path& merged) {
  const fs::path list = dir / "libs.txt";
  std::vector<std::pair<std::string, std::string>> files;  // file, class
  {
    std::istringstream in(read_file(list));
    std::string line;
    int no = 0;
    while (std::getline(in, line)) {
      ++no;
      if (trim(line).empty() || trim(line)[0] == '#') continue;
      const auto f = split(line, '|');
      const std::string where = list.string() + ":" + std::to_string(no);
      if (f.size() != 2) die(where + ": expected 'file | class'");
      if (f[1] != "flop" && f[1] != "inv_buf" && f[1] != "simple" && f[1] != "complex") {
        die(where + ": class '" + f[1] + "' is not one of flop, inv_buf, simple, complex");
      }
      if (!fs::exists(dir / f[0])) die(where + ": " + (dir / f[0]).string() + " does not exist");
      files.emplace_back(f[0], f[1]);
    }
  }
  if (files.empty()) die(list.string() + ": no library file listed");
  json inputs = json::array();
  for (const auto& [f, c] : files) {
    inputs.push_back({{"file", f}, {"class", c}, {"bytes", fs::file_size(dir / f)}});
  }
  const fs::path side = merged.string() + ".cells.json";
  Liberty L;
  L.lib = merged;
  for (const auto& fc : files) L.files.push_back(fc.first);
  if (fs::exists(merged) && fs::exists(side)) {
    const json j = json::parse(read_file(side), nullptr, false);
    if (!j.is_discarded() && j.value("inputs", json()) == inputs) {
      for (const auto& [name, c] : j.at("cells").items()) {
        L.cells[name] = {c.at("class"), c.at("file"), c.at("area")};
      }
      return L;
    }
  }
  fs::create_directories(merged.parent_path());
  std::string header, extra, body, pre;
  std::set<std::string> have_groups;
  for (size_t k = 0; k < files.size(); ++k) {
    const std::string path = (dir / files[k].first).string();
    LibParts p = split_liberty(read_gz(dir / files[k].first), path);
    const auto groups = header_groups(p.header, path);
    if (k == 0) {
      pre = p.pre;
      header = p.header;
      for (const auto& g : groups) have_groups.insert(g.first);
    } else {
      for (const auto& g : groups) {
        if (have_groups.insert(g.first).second) extra += g.second;
      }
    }
    for (const auto& [name, area] : p.cell_area) {
      if (L.cells.count(name)) die(path + ": cell " + name + " is also in " + L.cells[name].file);
      L.cells[name] = {files[k].second, files[k].first, area};
    }
    body += p.cells;
    if (!body.empty() && body.back() != '\n') body += '\n';
  }
  const fs::path tmp = merged.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out << pre << "/* merged by qarch_rtl_area (rtl/tools/rtl_area.cpp) from:";
    for (const auto& fc : files) out << " " << fc.first;
    out << " */\nlibrary (asap7_merged) {" << header << extra << body << "}\n";
    if (!out) die("cannot write " + tmp.string());
  }
  fs::rename(tmp, merged);
  json jc = json::object();
  for (const auto& [name, c] : L.cells) {
    jc[name] = {{"class", c.cls}, {"file", c.file}, {"area", c.area}};
  }
  const fs::path stmp = side.string() + ".tmp" + std::to_string(::getpid());
  std::ofstream(stmp) << json{{"inputs", inputs}, {"cells", jc}}.dump(1) << "\n";
  fs::rename(stmp, side);
  return L;
}

// One value of an NLDM table in cell `cell`'s timing group of `timing_type` (the largest over
// such groups and over the tables named in `tables`), at index_1 == i1 and index_2 == i2 (the
// table must have those points: no interpolation).
double liberty_table_value(const std::string& lib_text, const std::string& cell,
                           const std::string& timing_type, const std::vector<std::string>& tables,
                           double i1, double i2, const std::string& lib_name) {
  const std::string where = lib_name + ": cell " + cell;
  size_t c = std::string::npos;
  for (const std::string& head : {"cell (" + cell + ")", "cell (\"" + cell + "\")"}) {
    c = lib_text.find(head);
    if (c != std::string::npos) break;
  }
  if (c == std::string::npos) die(where + ": not in the library");
  const size_t cend = group_end(lib_text, lib_text.find('{', c), where);
  auto numbers = [](const std::string& s) {
    std::vector<double> v;
    const char* p = s.c_str();
    char* e;
    for (;;) {
      while (*p && !(std::isdigit(static_cast<unsigned char>(*p)) || *p == '-' || *p == '.')) ++p;
      if (!*p) break;
      v.push_back(std::strtod(p, &e));
      if (e == p) break;
      p = e;
    }
    return v;
  };
  auto attr_text = [&](size_t from, size_t to, const std::string& name) {
    const size_t a = lib_text.find(name + " (", from);
    if (a == std::string::npos || a > to) die(where + ": table without " + name);
    return lib_text.substr(a + name.size() + 2, lib_text.find(')', a) - a - name.size() - 2);
  };
  double best = -1e300;
  bool found = false;
  const std::string tt = "timing_type : " + timing_type + ";";
  for (size_t t = lib_text.find(tt, c); t != std::string::npos && t < cend;
       t = lib_text.find(tt, t + 1)) {
    const size_t g = lib_text.rfind("timing ()", t);
    const size_t gend = group_end(lib_text, lib_text.find('{', g), where);
    for (const std::string& table : tables) {
      const size_t tb = lib_text.find(table + " (", g);
      if (tb == std::string::npos || tb > gend) continue;
      const size_t tend = group_end(lib_text, lib_text.find('{', tb), where);
      const auto idx1 = numbers(attr_text(tb, tend, "index_1"));
      const auto idx2 = numbers(attr_text(tb, tend, "index_2"));
      const size_t v = lib_text.find("values (", tb);
      const auto vals = numbers(lib_text.substr(v + 8, tend - v - 8));
      const auto r = std::find(idx1.begin(), idx1.end(), i1);
      const auto k = std::find(idx2.begin(), idx2.end(), i2);
      if (r == idx1.end() || k == idx2.end() || vals.size() != idx1.size() * idx2.size()) {
        die(where + ": " + timing_type + " " + table + " has no point (" + fixed(i1, 2) + ", " +
            fixed(i2, 2) + ")");
      }
      best = std::max(best, vals[(r - idx1.begin()) * idx2.size() + (k - idx2.begin())]);
      found = true;
    }
  }
  if (!found) die(where + ": no " + timing_type + " timing table");
  return best;
}

// The operating point at which the flip-flop's clock-to-Q and setup times are read: 20 ps input
// (clock and data) transition, 2.88 fF output load (about four ASAP7 gate inputs, ~0.6 fF each).
constexpr double kClockSlewPs = 20, kDataSlewPs = 20, kFlopLoadFf = 2.88;

// The last "Delay = <x> ps" of ABC's `stime -p` in a Yosys log (after sizing); -1 if none.
double abc_delay_ps(const std::string& log) {
  const size_t w = log.rfind("ABC: WireLoad");
  if (w == std::string::npos) return -1;
  const size_t d = log.find("Delay =", w);
  if (d == std::string::npos) return -1;
  return std::strtod(log.c_str() + d + 7, nullptr);
}

// Yosys's "Chip area for module '\top': <x>" (stat -liberty); -1 if none.
double yosys_chip_area(const std::string& log) {
  const size_t a = log.rfind("Chip area for module");
  if (a == std::string::npos) return -1;
  const size_t colon = log.find("':", a);
  return colon == std::string::npos ? -1 : std::strtod(log.c_str() + colon + 2, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  std::string yosys = "yosys", out_dir, compare, liberty_blocks = "all";
  fs::path rtl, liberty_dir, liberty_lib;
  bool check = false, require_long = false;
  int jobs = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--yosys")
      yosys = next();
    else if (a == "--rtl")
      rtl = next();
    else if (a == "--out")
      out_dir = next();
    else if (a == "--compare")
      compare = next();
    else if (a == "--jobs")
      jobs = std::max(1, std::atoi(next().c_str()));
    else if (a == "--check")
      check = true;
    else if (a == "--liberty")
      liberty_dir = next();
    else if (a == "--liberty-lib")
      liberty_lib = next();
    else if (a == "--liberty-blocks")
      liberty_blocks = next();
    else if (a == "--require-long")
      require_long = true;
    else
      die("unknown argument " + a + " (see the file comment of rtl/tools/rtl_area.cpp)");
  }
  if (rtl.empty() || out_dir.empty()) die("--rtl and --out are required");
  if (require_long) {
    const char* l = std::getenv("QARCH_RTL_LONG");
    if (!l || std::string(l) != "1") {
      std::cout << "qarch_rtl_area: skipped: the full standard-cell run is long (a few minutes); "
                   "set QARCH_RTL_LONG=1 to run it\n";
      return 77;
    }
  }
  if (liberty_dir.empty() != liberty_lib.empty()) {
    die("--liberty and --liberty-lib go together (the folder of libs.txt and the merged file)");
  }
  const fs::path out(out_dir), stat_dir = out / "stat";
  fs::create_directories(stat_dir);

  const Sources sources = read_sources(rtl);
  const auto blocks = read_blocks(rtl / "synth" / "blocks.txt");
  const json weights = json::parse(read_file(rtl / "synth" / "cell_weights.json"));
  const json& cells_w = weights.at("nand2_equivalents").at("cells");
  const json& nodes = weights.at("nand2_area_um2");

  // The standard-cell flow: the merged library, its script, and the blocks it maps.
  Liberty lib;
  std::vector<bool> on_liberty(blocks.size(), false);
  fs::path liberty_script;
  if (!liberty_dir.empty()) {
    lib = merge_liberty(liberty_dir, liberty_lib);
    std::string script = read_file(rtl / "synth" / "liberty.ys");
    for (size_t p; (p = script.find("%LIB%")) != std::string::npos;) {
      script.replace(p, 5, fs::absolute(liberty_lib).string());
    }
    liberty_script = stat_dir / "liberty.ys";
    std::ofstream(liberty_script) << script;
    std::set<std::string> wanted;
    for (const auto& n : split(liberty_blocks, ',')) wanted.insert(n);
    for (size_t k = 0; k < blocks.size(); ++k) {
      on_liberty[k] = wanted.count("all") || wanted.count(blocks[k].name);
      wanted.erase(blocks[k].name);
    }
    wanted.erase("all");
    if (!wanted.empty()) die("--liberty-blocks: no block " + *wanted.begin() + " in blocks.txt");
  }

  // Run Yosys on `jobs` blocks at a time (each run is single-threaded).
  // Jobs: every block on generic gates (k < n), then the blocks mapped on the library (n + k).
  const size_t nb = blocks.size();
  std::vector<int> rc(2 * nb, 0);
  auto run = [&](size_t job) {
    const bool std_cells = job >= nb;
    const Block& b = blocks[job % nb];
    const std::string stem = b.name + (std_cells ? ".lib" : "");
    std::string cmd = "read_verilog";
    for (const auto& s : sources.for_top(b.top)) cmd += " " + s.string();
    cmd += "; hierarchy -top " + b.top;
    for (const auto& [pn, v] : b.params) cmd += " -chparam " + pn + " " + v;
    cmd += "; script " + (std_cells ? liberty_script : rtl / "synth" / "generic.ys").string();
    cmd += "; tee -q -o " + (stat_dir / (stem + ".json")).string() + " stat -json";
    const std::string sh = "'" + yosys + "' -q -l '" + (stat_dir / (stem + ".log")).string() +
                           "' -p '" + cmd + "' > /dev/null 2>&1";
    rc[job] = std::system(sh.c_str());
  };
  std::vector<size_t> jobs_todo;
  for (size_t k = 0; k < nb; ++k) jobs_todo.push_back(k);
  for (size_t k = 0; k < nb; ++k)
    if (on_liberty[k]) jobs_todo.push_back(nb + k);
  // Longest first (the workers' tail is then a short job): the cost of a block is its cell count
  // in the --compare snapshot (generic: ~1 ms of CPU per cell), a standard-cell run ~3x that
  // plus ~1.5 s for reading the 46 MB library four times (measured: int8_mac 0.6 s generic,
  // 3.4 s on ASAP7). The order changes no result: every Yosys run is a separate process.
  if (!compare.empty() && fs::exists(compare)) {
    std::map<std::string, double> cells_of;
    const json old = json::parse(read_file(compare), nullptr, false);
    if (!old.is_discarded() && old.contains("blocks")) {
      for (const auto& jb : old["blocks"]) {
        cells_of[jb.value("name", "")] = jb.value("num_cells", 0.0);
      }
    }
    auto cost = [&](size_t job) {
      const double c = cells_of.count(blocks[job % nb].name) ? cells_of[blocks[job % nb].name] : 0;
      return job >= nb ? 3 * c + 1500 : c;
    };
    std::stable_sort(jobs_todo.begin(), jobs_todo.end(),
                     [&](size_t a, size_t b) { return cost(a) > cost(b); });
  }
  // `jobs` workers take the next block as soon as they finish one (a batch would wait for its
  // slowest block).
  std::atomic<size_t> next_block{0};
  std::vector<std::thread> th;
  for (int j = 0; j < jobs; ++j) {
    th.emplace_back([&] {
      for (size_t k; (k = next_block++) < jobs_todo.size();) run(jobs_todo[k]);
    });
  }
  for (auto& t : th) t.join();

  std::vector<std::string> errors;
  ordered_json doc;
  std::string yosys_version;
  doc["generator"] = "qarch_rtl_area (rtl/tools/rtl_area.cpp): Yosys generic-gate synthesis";
  doc["flow"] = "rtl/synth/generic.ys; cell weights rtl/synth/cell_weights.json";
  ordered_json node_area;
  for (const auto& [node, v] : nodes.items()) node_area[node] = v.at("um2");
  doc["nand2_area_um2"] = node_area;
  ordered_json jblocks = ordered_json::array();
  std::map<std::string, double> nand2_of;
  std::set<std::string> flop_types;  // the library flip-flops the blocks map to
  for (size_t k = 0; k < blocks.size(); ++k) {
    const Block& b = blocks[k];
    const fs::path sj = stat_dir / (b.name + ".json");
    if (rc[k] != 0 || !fs::exists(sj)) {
      errors.push_back(b.name + ": yosys failed (log: " + (stat_dir / (b.name + ".log")).string() +
                       ")");
      continue;
    }
    const json st = json::parse(read_file(sj));
    yosys_version = st.value("creator", "");
    const json& design = st.at("design");
    const json& by_type = design.at("num_cells_by_type");
    double nand2 = 0;
    long flops = 0, cells = 0;
    ordered_json jc;
    for (const auto& [type, count] : by_type.items()) {
      const long n = count.get<long>();
      cells += n;
      jc[type] = n;
      if (!cells_w.contains(type)) {
        errors.push_back(b.name + ": cell type " + type + " has no NAND2 weight (not generic?)");
        continue;
      }
      nand2 += static_cast<double>(n) * cells_w.at(type).at("nand2_eq").get<double>();
      if (type == "$_DFF_P_") flops += n;
    }
    nand2_of[b.name] = nand2;
    ordered_json jb;
    jb["name"] = b.name;
    jb["kind"] = b.kind;
    jb["top"] = b.top;
    ordered_json jp = ordered_json::object();
    for (const auto& [n, v] : b.params) jp[n] = v;
    jb["params"] = jp;
    jb["description"] = b.description;
    jb["num_cells"] = cells;
    jb["flops"] = flops;
    jb["cells"] = jc;
    jb["nand2_eq"] = std::round(nand2 * 10) / 10;
    ordered_json ja;
    for (const auto& [node, v] : node_area.items()) {
      ja[node] = std::round(nand2 * v.get<double>() * 100) / 100;
    }
    jb["area_um2"] = ja;
    if (on_liberty[k]) {
      // The standard-cell mapping: area from the cells' Liberty areas, mix by class, and ABC's
      // delay of the logic between flip-flops (clock-to-Q and setup are added below).
      const fs::path lj = stat_dir / (b.name + ".lib.json"), ll = stat_dir / (b.name + ".lib.log");
      if (rc[nb + k] != 0 || !fs::exists(lj)) {
        errors.push_back(b.name + ": yosys failed on " + lib.lib.filename().string() +
                         " (log: " + ll.string() + ")");
      } else {
        const json lst = json::parse(read_file(lj));
        const std::string log = read_file(ll);
        ordered_json lc, mix;
        for (const char* cls : {"flop", "inv_buf", "simple", "complex"}) {
          mix[cls] = {{"cells", 0}, {"um2", 0.0}};
        }
        double um2 = 0;
        long lcells = 0, lflops = 0;
        for (const auto& [type, count] : lst.at("design").at("num_cells_by_type").items()) {
          const long c = count.get<long>();
          lc[type] = c;
          lcells += c;
          const auto it = lib.cells.find(type);
          if (it == lib.cells.end()) {
            errors.push_back(b.name + ": cell type " + type + " is not a cell of the library");
            continue;
          }
          const double a = static_cast<double>(c) * it->second.area;
          um2 += a;
          mix[it->second.cls]["cells"] = mix[it->second.cls]["cells"].get<long>() + c;
          mix[it->second.cls]["um2"] = mix[it->second.cls]["um2"].get<double>() + a;
          if (it->second.cls == "flop") {
            lflops += c;
            flop_types.insert(type);
          }
        }
        for (auto& [cls, m] : mix.items())
          m["um2"] = std::round(m["um2"].get<double>() * 1e4) / 1e4;
        const double chip = yosys_chip_area(log), comb = abc_delay_ps(log);
        if (std::fabs(chip - um2) > 1e-3 * std::max(1.0, um2)) {
          errors.push_back(b.name + ": cell areas sum to " + fixed(um2, 4) +
                           " um^2, Yosys's stat " + "-liberty says " + fixed(chip, 4) +
                           " (log: " + ll.string() + ")");
        }
        if (!(comb > 0)) {
          errors.push_back(b.name + ": no ABC delay (stime -p) in " + ll.string());
        }
        if (check && b.expected_flops >= 0 && lflops != b.expected_flops) {
          errors.push_back(b.name + ": " + std::to_string(lflops) + " flip-flops on " +
                           lib.lib.filename().string() + ", blocks.txt states " +
                           std::to_string(b.expected_flops));
        }
        ordered_json jl;
        jl["num_cells"] = lcells;
        jl["flops"] = lflops;
        jl["um2"] = std::round(um2 * 1e4) / 1e4;
        jl["mix"] = mix;
        jl["comb_delay_ps"] = comb;
        jl["cells"] = lc;
        jb["liberty"] = jl;
      }
    }
    jblocks.push_back(jb);
    if (check) {
      if (cells == 0) errors.push_back(b.name + ": no cells");
      if (b.expected_flops >= 0 && flops != b.expected_flops) {
        errors.push_back(b.name + ": " + std::to_string(flops) + " flip-flops, blocks.txt states " +
                         std::to_string(b.expected_flops));
      }
      if (b.kind == "decoder" && b.expected_flops == 0 && nand2 > 200) {
        errors.push_back(b.name + ": a combinational decoder of " + fixed(nand2, 0) +
                         " NAND2 is implausible");
      }
    }
  }
  // Timing: the critical path of a block = clock-to-Q of its launching flip-flop + ABC's delay
  // of the logic + setup of the capturing one, at kClockSlewPs / kDataSlewPs / kFlopLoadFf from
  // the library's tables (the largest over the flip-flop types used and over rise/fall). A
  // combinational block (decoder, part) is timed as if registered on both sides.
  if (!flop_types.empty()) {
    const std::string text = read_file(lib.lib);
    double clk_q = 0, setup = 0;
    for (const auto& f : flop_types) {
      clk_q =
          std::max(clk_q, liberty_table_value(text, f, "rising_edge", {"cell_rise", "cell_fall"},
                                              kClockSlewPs, kFlopLoadFf, lib.lib.string()));
      setup = std::max(setup, liberty_table_value(text, f, "setup_rising",
                                                  {"rise_constraint", "fall_constraint"},
                                                  kDataSlewPs, kClockSlewPs, lib.lib.string()));
    }
    for (auto& jb : jblocks) {
      if (!jb.contains("liberty")) continue;
      auto& jl = jb["liberty"];
      const double period = clk_q + jl["comb_delay_ps"].get<double>() + setup;
      jl["period_ps"] = std::round(period * 100) / 100;
      jl["fmax_ghz"] = std::round(1000.0 / period * 1000) / 1000;
    }
    ordered_json lj;
    lj["dir"] = fs::absolute(liberty_dir).filename().string();
    lj["files"] = lib.files;
    lj["flow"] =
        "rtl/synth/liberty.ys (dfflibmap, abc -liberty with stime -p, buffer, upsize, "
        "dnsize; stat -liberty)";
    lj["flip_flops"] = std::vector<std::string>(flop_types.begin(), flop_types.end());
    lj["clk_to_q_ps"] = clk_q;
    lj["setup_ps"] = setup;
    lj["timing_point"] = "clock and data transition " + fixed(kClockSlewPs, 0) + " ps, Q load " +
                         fixed(kFlopLoadFf, 2) + " fF; ABC's delay: no wire load, no output load";
    doc["liberty"] = lj;
  }
  doc["yosys"] = yosys_version;
  doc["blocks"] = jblocks;

  // OliVe's published decoder figures (formats.md: decoder 13.53 um^2 (4-bit) / 18.00 um^2
  // (8-bit) at 22 nm; decoder area 2.2% / 1.5% of the systolic core) against ours.
  if (nand2_of.count("ovp4_decoder") && nand2_of.count("ovp4_cell") &&
      nand2_of.count("ovp4_core_4x4") && node_area.contains("22nm")) {
    const double a22 = node_area["22nm"].get<double>();
    const double d4 = nand2_of["ovp4_decoder"], cell = nand2_of["ovp4_cell"];
    const double core = nand2_of["ovp4_core_4x4"];
    const double d8 = nand2_of.count("ovp8_decoder_e4m3") ? nand2_of["ovp8_decoder_e4m3"] : 0;
    // n x n core with 2n border decoders: share(n) = 2n D / (n^2 C + 2n D); OliVe's 2.2% at
    // n = 2 D (1 - s) / (s C).
    auto share = [&](double n) { return 2 * n * d4 / (n * n * cell + 2 * n * d4); };
    const double s = 0.022;
    ordered_json o;
    o["published"] = {{"decoder4_um2_22nm", 13.53},
                      {"decoder8_um2_22nm", 18.00},
                      {"decoder4_share_of_core", 0.022},
                      {"decoder8_share_of_core", 0.015},
                      {"source", "Guo et al., OliVe, ISCA 2023 (specs/formats.md)"}};
    o["ours"] = {{"decoder4_nand2_eq", std::round(d4 * 10) / 10},
                 {"decoder4_um2_22nm", std::round(d4 * a22 * 100) / 100},
                 {"decoder8_e4m3_um2_22nm", std::round(d8 * a22 * 100) / 100},
                 {"decoder4_over_pe_cell", std::round(d4 / cell * 10000) / 10000},
                 {"decoder4_share_4x4_core", std::round(8 * d4 / core * 10000) / 10000},
                 {"decoder4_share_32x32_model", std::round(share(32) * 10000) / 10000},
                 {"decoder4_share_64x64_model", std::round(share(64) * 10000) / 10000},
                 {"array_side_for_published_share", std::round(2 * d4 * (1 - s) / (s * cell))}};
    // The same on the standard cells (7 nm: no scaling rule involved).
    const auto lib_um2 = [&](const std::string& name) {
      for (const auto& jb : jblocks) {
        if (jb["name"] == name && jb.contains("liberty")) return jb["liberty"]["um2"].get<double>();
      }
      return -1.0;
    };
    const double l4 = lib_um2("ovp4_decoder"), lcell = lib_um2("ovp4_cell");
    const double lcore = lib_um2("ovp4_core_4x4"), l8 = lib_um2("ovp8_decoder_e4m3");
    if (l4 > 0 && lcell > 0 && lcore > 0) {
      o["ours_liberty"] = {
          {"decoder4_um2", l4},
          {"decoder8_e4m3_um2", l8 > 0 ? l8 : 0.0},
          {"decoder4_over_published", std::round(l4 / 13.53 * 10000) / 10000},
          {"decoder4_over_pe_cell", std::round(l4 / lcell * 10000) / 10000},
          {"decoder4_share_4x4_core", std::round(8 * l4 / lcore * 10000) / 10000},
          {"array_side_for_published_share", std::round(2 * l4 * (1 - s) / (s * lcell))}};
    }
    doc["olive_comparison"] = o;
  }
  // AMXFP4 against MXFP4: the PEs (both E2M1 products; AMXFP4 keeps four sign-pair partial sums).
  if (nand2_of.count("amxfp4_pe") && nand2_of.count("mxfp4_pe")) {
    ordered_json r;
    r["nand2_eq"] = std::round(nand2_of["amxfp4_pe"] / nand2_of["mxfp4_pe"] * 1000) / 1000;
    double la = -1, lm = -1;
    for (const auto& jb : jblocks) {
      if (!jb.contains("liberty")) continue;
      if (jb["name"] == "amxfp4_pe") la = jb["liberty"]["um2"].get<double>();
      if (jb["name"] == "mxfp4_pe") lm = jb["liberty"]["um2"].get<double>();
    }
    if (la > 0 && lm > 0) r["liberty_um2"] = std::round(la / lm * 1000) / 1000;
    doc["amxfp4_over_mxfp4_pe"] = r;
  }

  // Outputs.
  std::ofstream(out / "area.json") << doc.dump(2) << "\n";
  {
    std::ofstream csv(out / "area.csv");
    csv << "name,kind,top,num_cells,flops,nand2_eq";
    for (const auto& [node, v] : node_area.items()) csv << ",um2_" << node;
    const std::string lname =
        doc.contains("liberty") ? doc["liberty"]["dir"].get<std::string>() : "";
    if (!lname.empty()) {
      csv << "," << lname << "_cells," << lname << "_flops," << lname << "_um2";
      for (const char* cls : {"flop", "inv_buf", "simple", "complex"}) {
        csv << "," << lname << "_" << cls << "_cells," << lname << "_" << cls << "_um2";
      }
      csv << "," << lname << "_comb_ps," << lname << "_period_ps," << lname << "_fmax_ghz";
    }
    csv << "\n";
    for (const auto& jb : jblocks) {
      csv << jb["name"].get<std::string>() << "," << jb["kind"].get<std::string>() << ","
          << jb["top"].get<std::string>() << "," << jb["num_cells"] << "," << jb["flops"] << ","
          << fixed(jb["nand2_eq"].get<double>(), 1);
      for (const auto& [node, v] : node_area.items()) {
        csv << "," << fixed(jb["area_um2"][node].get<double>(), 2);
      }
      if (!lname.empty()) {
        if (jb.contains("liberty")) {
          const auto& jl = jb["liberty"];
          csv << "," << jl["num_cells"] << "," << jl["flops"] << "," << fixed(jl["um2"], 4);
          for (const char* cls : {"flop", "inv_buf", "simple", "complex"}) {
            csv << "," << jl["mix"][cls]["cells"] << "," << fixed(jl["mix"][cls]["um2"], 4);
          }
          csv << "," << fixed(jl["comb_delay_ps"], 2) << "," << fixed(jl["period_ps"], 2) << ","
              << fixed(jl["fmax_ghz"], 3);
        } else {
          csv << std::string(14, ',');
        }
      }
      csv << "\n";
    }
  }
  {
    std::ofstream md(out / "area.md");
    const bool has_lib = doc.contains("liberty");
    const std::string lname = has_lib ? doc["liberty"]["dir"].get<std::string>() : "";
    md << "| block | kind | cells | flops | NAND2 eq. |";
    for (const auto& [node, v] : node_area.items()) md << " um^2 " << node << " |";
    if (has_lib) md << " um^2 " << lname << " | path ps | f_max GHz |";
    md << " what |\n|---|---|---:|---:|---:|";
    for (size_t i = 0; i < node_area.size() + (has_lib ? 3 : 0); ++i) md << "---:|";
    md << "---|\n";
    for (const auto& jb : jblocks) {
      md << "| " << jb["name"].get<std::string>() << " | " << jb["kind"].get<std::string>() << " | "
         << jb["num_cells"] << " | " << jb["flops"] << " | "
         << fixed(jb["nand2_eq"].get<double>(), 1) << " |";
      for (const auto& [node, v] : node_area.items()) {
        md << " " << fixed(jb["area_um2"][node].get<double>(), 1) << " |";
      }
      if (has_lib) {
        if (jb.contains("liberty")) {
          const auto& jl = jb["liberty"];
          md << " " << fixed(jl["um2"], 2) << " | " << fixed(jl["period_ps"], 0) << " | "
             << fixed(jl["fmax_ghz"], 2) << " |";
        } else {
          md << " - | - | - |";
        }
      }
      md << " " << jb["description"].get<std::string>() << " |\n";
    }
    if (has_lib) {
      const auto& L = doc["liberty"];
      md << "\nStandard cells (" << lname << ", rtl/pdk/" << lname << ", flow "
         << L["flow"].get<std::string>()
         << "): area = sum of the cells' Liberty areas; path = flip-flop clock-to-Q "
         << fixed(L["clk_to_q_ps"], 1) << " ps + ABC's delay of the logic between flip-flops + "
         << "setup " << fixed(L["setup_ps"], 1) << " ps (" << L["timing_point"].get<std::string>()
         << "; combinational blocks timed as if registered on both sides); f_max = 1 / path.\n\n"
         << "Cell mix on " << lname << " (cells / um^2 by class: flip-flops; inverters and "
         << "buffers; simple gates NAND/NOR/AND/OR/XOR/majority/adders; AO/OA complex gates):\n\n"
         << "| block | cells | um^2 | flops | inv/buf | simple | AO/OA | logic ps |\n"
         << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
      for (const auto& jb : jblocks) {
        if (!jb.contains("liberty")) continue;
        const auto& jl = jb["liberty"];
        md << "| " << jb["name"].get<std::string>() << " | " << jl["num_cells"] << " | "
           << fixed(jl["um2"], 2) << " |";
        for (const char* cls : {"flop", "inv_buf", "simple", "complex"}) {
          md << " " << jl["mix"][cls]["cells"] << " / " << fixed(jl["mix"][cls]["um2"], 2) << " |";
        }
        md << " " << fixed(jl["comb_delay_ps"], 0) << " |\n";
      }
    }
    if (doc.contains("olive_comparison")) {
      const auto& o = doc["olive_comparison"]["ours"];
      md << "\nOliVe comparison (22 nm; published: 4-bit decoder 13.53 um^2, 8-bit 18.00 um^2, "
            "decoders 2.2% / 1.5% of the systolic core):\n"
         << "- 4-bit OVP decoder: " << fixed(o["decoder4_um2_22nm"].get<double>(), 2) << " um^2 ("
         << fixed(o["decoder4_um2_22nm"].get<double>() / 13.53, 2)
         << "x the published 13.53); 8-bit (E4M3): "
         << fixed(o["decoder8_e4m3_um2_22nm"].get<double>(), 2) << " um^2 ("
         << fixed(o["decoder8_e4m3_um2_22nm"].get<double>() / 18.0, 2) << "x 18.00)\n"
         << "- decoder / PE cell: " << fixed(100 * o["decoder4_over_pe_cell"].get<double>(), 1)
         << "%; decoders in the 4x4 core: "
         << fixed(100 * o["decoder4_share_4x4_core"].get<double>(), 1)
         << "%; modelled n x n core with 2n decoders: 32x32 "
         << fixed(100 * o["decoder4_share_32x32_model"].get<double>(), 2) << "%, 64x64 "
         << fixed(100 * o["decoder4_share_64x64_model"].get<double>(), 2)
         << "%; 2.2% corresponds to n = " << o["array_side_for_published_share"] << "\n";
      if (doc["olive_comparison"].contains("ours_liberty")) {
        const auto& l = doc["olive_comparison"]["ours_liberty"];
        md << "- on " << doc["liberty"]["dir"].get<std::string>() << " (7 nm cells, no scaling): "
           << "4-bit decoder " << fixed(l["decoder4_um2"], 2) << " um^2 ("
           << fixed(l["decoder4_over_published"], 3) << "x the published 22 nm 13.53), 8-bit "
           << fixed(l["decoder8_e4m3_um2"], 2) << " um^2; decoder / PE cell "
           << fixed(100 * l["decoder4_over_pe_cell"].get<double>(), 1)
           << "%; decoders in the 4x4 core "
           << fixed(100 * l["decoder4_share_4x4_core"].get<double>(), 1)
           << "%; 2.2% corresponds to n = " << l["array_side_for_published_share"] << "\n";
      }
    }
    if (doc.contains("amxfp4_over_mxfp4_pe")) {
      const auto& r = doc["amxfp4_over_mxfp4_pe"];
      md << "\nAMXFP4 / MXFP4 PE area: " << fixed(r["nand2_eq"], 3) << "x (NAND2 eq.)";
      if (r.contains("liberty_um2")) {
        md << ", " << fixed(r["liberty_um2"], 3) << "x ("
           << doc["liberty"]["dir"].get<std::string>() << " um^2)";
      }
      md << "\n";
    }
  }

  if (!compare.empty()) {
    const json old = json::parse(read_file(compare));
    if (old.value("yosys", "") != yosys_version) {
      std::cerr << "qarch_rtl_area: note: " << compare << " was made by " << old.value("yosys", "?")
                << ", this run by " << yosys_version << ": not compared\n";
    } else {
      std::map<std::string, json> old_cells, old_lib;
      for (const auto& jb : old.at("blocks")) {
        old_cells[jb.at("name")] = jb.at("cells");
        if (jb.contains("liberty")) old_lib[jb.at("name")] = jb.at("liberty");
      }
      for (const auto& jb : jblocks) {
        const std::string n = jb["name"];
        if (!old_cells.count(n) || json(jb["cells"]) != old_cells[n]) {
          errors.push_back(n + ": cell counts differ from " + compare +
                           " (stale snapshot: cmake --build build --target rtl_area_update)");
        }
        // Standard cells: the same cells, hence the same area, and the same ABC delay.
        if (!jb.contains("liberty")) continue;
        const json& jl = jb["liberty"];
        if (!old_lib.count(n)) {
          errors.push_back(n + ": " + compare +
                           " has no standard-cell mapping of it (rtl_area_update)");
        } else if (json(jl["cells"]) != old_lib[n].at("cells") ||
                   std::fabs(jl["um2"].get<double>() - old_lib[n].at("um2").get<double>()) > 1e-3 ||
                   std::fabs(jl["comb_delay_ps"].get<double>() -
                             old_lib[n].at("comb_delay_ps").get<double>()) > 0.01) {
          errors.push_back(
              n + ": standard cells differ from " + compare + " (" +
              std::to_string(jl["num_cells"].get<long>()) + " cells, " + fixed(jl["um2"], 4) +
              " um^2, " + fixed(jl["comb_delay_ps"], 2) + " ps; the snapshot: " +
              std::to_string(old_lib[n].at("num_cells").get<long>()) + ", " +
              fixed(old_lib[n].at("um2"), 4) + ", " + fixed(old_lib[n].at("comb_delay_ps"), 2) +
              "; stale snapshot: cmake --build build --target rtl_area_update)");
        }
      }
      if (old.at("blocks").size() != jblocks.size()) {
        errors.push_back("the block list differs from " + compare + " (rtl_area_update)");
      }
    }
  }
  for (const auto& e : errors) std::cerr << "qarch_rtl_area: " << e << "\n";
  std::cout << "qarch_rtl_area: " << jblocks.size() << " blocks, " << (out / "area.json").string()
            << "\n";
  return errors.empty() ? 0 : 1;
}
