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
//   qarch_rtl_area --yosys yosys --rtl <repo>/rtl --out <dir> [--jobs N] [--check]
//                  [--compare <repo>/rtl/synth/results/area.json]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace

int main(int argc, char** argv) {
  std::string yosys = "yosys", out_dir, compare;
  fs::path rtl;
  bool check = false;
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
    else
      die("unknown argument " + a + " (see the file comment of rtl/tools/rtl_area.cpp)");
  }
  if (rtl.empty() || out_dir.empty()) die("--rtl and --out are required");
  const fs::path out(out_dir), stat_dir = out / "stat";
  fs::create_directories(stat_dir);

  const Sources sources = read_sources(rtl);
  const auto blocks = read_blocks(rtl / "synth" / "blocks.txt");
  const json weights = json::parse(read_file(rtl / "synth" / "cell_weights.json"));
  const json& cells_w = weights.at("nand2_equivalents").at("cells");
  const json& nodes = weights.at("nand2_area_um2");

  // Run Yosys on `jobs` blocks at a time (each run is single-threaded).
  std::vector<int> rc(blocks.size(), 0);
  auto run = [&](size_t k) {
    const Block& b = blocks[k];
    std::string cmd = "read_verilog";
    for (const auto& s : sources.for_top(b.top)) cmd += " " + s.string();
    cmd += "; hierarchy -top " + b.top;
    for (const auto& [n, v] : b.params) cmd += " -chparam " + n + " " + v;
    cmd += "; script " + (rtl / "synth" / "generic.ys").string();
    cmd += "; tee -q -o " + (stat_dir / (b.name + ".json")).string() + " stat -json";
    const std::string sh = "'" + yosys + "' -q -l '" + (stat_dir / (b.name + ".log")).string() +
                           "' -p '" + cmd + "' > /dev/null 2>&1";
    rc[k] = std::system(sh.c_str());
  };
  // `jobs` workers take the next block as soon as they finish one (a batch would wait for its
  // slowest block).
  std::atomic<size_t> next_block{0};
  std::vector<std::thread> th;
  for (int j = 0; j < jobs; ++j) {
    th.emplace_back([&] {
      for (size_t k; (k = next_block++) < blocks.size();) run(k);
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
    doc["olive_comparison"] = o;
  }

  // Outputs.
  std::ofstream(out / "area.json") << doc.dump(2) << "\n";
  {
    std::ofstream csv(out / "area.csv");
    csv << "name,kind,top,num_cells,flops,nand2_eq";
    for (const auto& [node, v] : node_area.items()) csv << ",um2_" << node;
    csv << "\n";
    for (const auto& jb : jblocks) {
      csv << jb["name"].get<std::string>() << "," << jb["kind"].get<std::string>() << ","
          << jb["top"].get<std::string>() << "," << jb["num_cells"] << "," << jb["flops"] << ","
          << fixed(jb["nand2_eq"].get<double>(), 1);
      for (const auto& [node, v] : node_area.items()) {
        csv << "," << fixed(jb["area_um2"][node].get<double>(), 2);
      }
      csv << "\n";
    }
  }
  {
    std::ofstream md(out / "area.md");
    md << "| block | kind | cells | flops | NAND2 eq. |";
    for (const auto& [node, v] : node_area.items()) md << " um^2 " << node << " |";
    md << " what |\n|---|---|---:|---:|---:|";
    for (size_t i = 0; i < node_area.size(); ++i) md << "---:|";
    md << "---|\n";
    for (const auto& jb : jblocks) {
      md << "| " << jb["name"].get<std::string>() << " | " << jb["kind"].get<std::string>() << " | "
         << jb["num_cells"] << " | " << jb["flops"] << " | "
         << fixed(jb["nand2_eq"].get<double>(), 1) << " |";
      for (const auto& [node, v] : node_area.items()) {
        md << " " << fixed(jb["area_um2"][node].get<double>(), 1) << " |";
      }
      md << " " << jb["description"].get<std::string>() << " |\n";
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
    }
  }

  if (!compare.empty()) {
    const json old = json::parse(read_file(compare));
    if (old.value("yosys", "") != yosys_version) {
      std::cerr << "qarch_rtl_area: note: " << compare << " was made by " << old.value("yosys", "?")
                << ", this run by " << yosys_version << ": not compared\n";
    } else {
      std::map<std::string, json> old_cells;
      for (const auto& jb : old.at("blocks")) old_cells[jb.at("name")] = jb.at("cells");
      for (const auto& jb : jblocks) {
        const std::string n = jb["name"];
        if (!old_cells.count(n) || json(jb["cells"]) != old_cells[n]) {
          errors.push_back(n + ": cell counts differ from " + compare +
                           " (stale snapshot: cmake --build build --target rtl_area_update)");
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
