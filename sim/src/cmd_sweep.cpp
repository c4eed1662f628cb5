// `qarch sweep` (run the points of a sweep file, or one shard of them) and `qarch report`
// (merge point files and reports into one report with the Pareto front). See sweep.h for the
// file format, the point numbering and the resume rule.
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/explore/sweep.h"
#include "qarch/reports/writers.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "run_common.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool read_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream os;
  os << in.rdbuf();
  text = os.str();
  return true;
}

std::vector<std::string> list_json(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return files;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 && n[0] != '.')
      files.push_back(dir + "/" + n);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

// Progress on a terminal: one line redrawn in place; otherwise a line per finished point.
class Progress {
 public:
  Progress(std::ostream& os, size_t total, bool tty) : os_(os), total_(total), tty_(tty) {
    t0_ = std::chrono::steady_clock::now();
  }
  void done(const std::string& id, const std::string& what) {
    std::lock_guard<std::mutex> lock(m_);
    ++n_;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (tty_) {
      const int width = 30;
      const int fill = total_ ? static_cast<int>(width * n_ / total_) : width;
      const double eta = n_ ? el / n_ * (total_ - n_) : 0;
      os_ << "\r[" << std::string(fill, '#') << std::string(width - fill, '.') << "] " << n_ << "/"
          << total_ << " " << id << " " << what << ", eta " << fixed(eta, 0) << " s   "
          << std::flush;
      if (n_ == total_) os_ << "\n";
    } else {
      os_ << "[" << n_ << "/" << total_ << "] " << id << " " << what << " (" << fixed(el, 1)
          << " s)\n";
    }
  }

 private:
  std::ostream& os_;
  size_t total_, n_ = 0;
  bool tty_;
  std::mutex m_;
  std::chrono::steady_clock::time_point t0_;
};

// Loads every point of `dirs` (sweep output directories with points/*.json, run/compare report
// directories with report.json, or single .json files). Identical duplicates are merged;
// conflicting ones are an error naming both files.
struct Collected {
  std::vector<reports::PointResult> points;
  std::set<std::string> sweeps;
  size_t expected = 0;  // largest "of" among point files
};

Collected collect(const std::vector<std::string>& inputs) {
  Collected c;
  std::map<std::string, std::pair<std::string, std::string>> by_id;  // id -> (json, file)
  auto add = [&](const reports::PointResult& p, const std::string& file) {
    const std::string text = nlohmann::json(p).dump();
    auto it = by_id.find(p.id);
    if (it == by_id.end()) {
      by_id[p.id] = {text, file};
      c.points.push_back(p);
    } else if (it->second.first != text) {
      throw Error("point '" + p.id + "' differs between " + it->second.second + " and " + file +
                  " (results of different sweeps or versions?)");
    }
  };
  for (const std::string& in : inputs) {
    std::string text;
    if (is_dir(in) && is_dir(in + "/points")) {
      const auto files = list_json(in + "/points");
      if (files.empty()) throw Error(in + "/points: no point files");
      for (const auto& f : files) {
        if (!read_file(f, text)) throw Error(f + ": cannot read file");
        const PointFile pf = parse_point_file(text, f);
        if (!c.sweeps.empty() && !c.sweeps.count(pf.sweep)) {
          throw Error(f + ": a point of sweep '" + pf.sweep +
                      "', but the other point files are of "
                      "sweep '" +
                      *c.sweeps.begin() + "'; merge the shards of one sweep at a time");
        }
        c.sweeps.insert(pf.sweep);
        c.expected = std::max(c.expected, pf.of);
        add(pf.point, f);
      }
    } else {
      const std::string f = is_dir(in) ? in + "/report.json" : in;
      if (!read_file(f, text))
        throw Error(in +
                    ": not a sweep directory (no points/), a report directory (no "
                    "report.json) or a readable .json file");
      const reports::Report r = reports::parse_report_json(text, f);
      for (const auto& p : r.points) add(p, f);
    }
  }
  std::sort(
      c.points.begin(), c.points.end(),
      [](const reports::PointResult& a, const reports::PointResult& b) { return a.id < b.id; });
  return c;
}

reports::Report merged_report(const Collected& c, const std::string& title_arg) {
  std::string title = title_arg;
  if (title.empty()) title = c.sweeps.size() == 1 ? *c.sweeps.begin() : "qarch report";
  std::vector<std::string> notes;
  if (c.expected > 0 && c.points.size() < c.expected) {
    notes.push_back("partial: " + std::to_string(c.points.size()) + " of " +
                    std::to_string(c.expected) + " sweep points are present");
  }
  return make_report(title, c.points, notes);
}

// DIR/sweep.json names the sweep whose points DIR holds, so a second, different sweep cannot
// mix its points into the first one's folder (and report them as its own).
void claim_out_dir(const std::string& out_dir, const Sweep& s, bool force, std::ostream& err) {
  const std::string stamp = out_dir + "/sweep.json";
  std::string text, owner, old_hash;
  const std::string& hash = s.file_fnv1a64;
  if (read_file(stamp, text)) {
    try {
      const nlohmann::json j = nlohmann::json::parse(text);
      owner = j.at("sweep").get<std::string>();
      old_hash = j.value("file_fnv1a64", "");
    } catch (const std::exception&) {
      throw Error(stamp +
                  ": damaged (expected {\"sweep\": name, ...}); remove it if the folder is "
                  "yours");
    }
  } else {
    // A folder from before the stamp: the point files say whose they are.
    for (const auto& f : list_json(out_dir + "/points")) {
      if (!read_file(f, text)) continue;
      try {
        const std::string w = nlohmann::json::parse(text).value("sweep", "");
        if (w != s.name) owner = w;
      } catch (const std::exception&) {
      }
      if (!owner.empty()) break;
    }
    if (owner.empty()) owner = s.name;
  }
  if (owner != s.name) {
    if (!force) {
      throw Error(out_dir + ": holds the results of sweep '" + owner + "', not '" + s.name + "' (" +
                  s.file + "); choose another --out, or pass --force to discard them");
    }
    size_t removed = 0;
    for (const auto& f : list_json(out_dir + "/points")) removed += std::remove(f.c_str()) == 0;
    err << "qarch sweep: --force: removed " << removed << " point files of sweep '" << owner
        << "' from " << out_dir << "/points\n";
  }
  if (owner == s.name && !old_hash.empty() && old_hash != hash) {
    err << "qarch sweep: " << s.file << " changed since " << out_dir
        << " was last written (file hash " << old_hash << " -> " << hash
        << "); points whose definition changed are recomputed, the others reused\n";
  }
  // The sweep's name says whose folder this is; the file's hash records which version of it.
  const nlohmann::json j{
      {"sweep", s.name}, {"file", s.file}, {"file_fnv1a64", hash}, {"points", s.points.size()}};
  write_file_atomic(stamp, j.dump(1) + "\n");
}

// The finished points of this sweep in out_dir: only ids of `s` whose key matches (a file left
// from an earlier definition of a point, or a damaged one, is not reported as a result).
Collected collect_sweep(const std::string& out_dir, const Sweep& s) {
  Collected c;
  c.sweeps.insert(s.name);
  c.expected = s.points.size();
  for (const SweepPoint& p : s.points) {
    std::string text;
    const std::string f = point_file(out_dir, p.id);
    if (!read_file(f, text)) continue;
    const PointFile pf = parse_point_file(text, f);
    if (pf.key == p.key) c.points.push_back(pf.point);
  }
  std::sort(
      c.points.begin(), c.points.end(),
      [](const reports::PointResult& a, const reports::PointResult& b) { return a.id < b.id; });
  return c;
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(
      "qarch sweep: run the points of a sweep file (architecture parameters x workloads)\n\n"
      "usage: qarch sweep SWEEP.yaml [--out DIR] [--shard i/N] [--jobs J] [--list]\n\n"
      "Each point's result goes to DIR/points/<id>.json, written atomically: a rerun skips\n"
      "finished points, so an interrupted sweep loses nothing. --shard i/N runs every N-th\n"
      "point (one shard per batch job, e.g. a Slurm array task: scripts/slurm/sweep.sbatch);\n"
      "`qarch report DIR` then merges the shards. An unsharded sweep writes the report itself.\n"
      "The sweep file format is documented in explore/include/qarch/explore/sweep.h and\n"
      "configs/sweeps/example.yaml.\n\noptions");
  std::string file, out_dir, shard_arg = "1/1";
  int jobs = 1;
  bool list = false, force = false;
  desc.add_options()("help,h", "print this help")("sweep", po::value(&file), "sweep YAML file")(
      "out,o", po::value(&out_dir), "output directory (default: the sweep file's name)")(
      "shard", po::value(&shard_arg)->default_value(shard_arg), "run shard i of N (1-based)")(
      "jobs,j", po::value(&jobs)->default_value(jobs), "points computed concurrently")(
      "list", po::bool_switch(&list), "list the points of this shard and exit")(
      "force", po::bool_switch(&force),
      "recompute finished points (and discard another sweep's points in --out)");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out, &pos)) return 0;
  if (file.empty()) throw Error("a sweep file is required: qarch sweep SWEEP.yaml");
  if (jobs < 1 || jobs > 256) throw Error("--jobs: 1..256, got " + std::to_string(jobs));
  const auto [shard, shards] = parse_shard(shard_arg);
  if (list) {  // streamed: nothing is built, so a 10^6-point sweep lists in about a second
    size_t in_mine = 0, total = 0;
    const int my_shard = shard, n_shards = shards;  // C++17 lambdas cannot capture bindings
    list_sweep(file, [&](const SweepPoint& p) {
      ++total;
      if (!in_shard(p.index, my_shard, n_shards)) return;
      ++in_mine;
      out << p.id;
      for (const auto& [k, v] : p.params) out << "  " << k << "=" << v;
      out << "\n";
    });
    out << in_mine << " of " << total << " points in shard " << shard << "/" << shards << "\n";
    return 0;
  }
  const Sweep s = load_sweep(file);
  if (out_dir.empty()) {
    std::string base = file.substr(file.find_last_of('/') + 1);
    base = base.substr(0, base.find('.'));
    out_dir = base + "-sweep";
  }

  std::vector<const SweepPoint*> mine;
  for (const SweepPoint& p : s.points)
    if (in_shard(p.index, shard, shards)) mine.push_back(&p);

  make_directories(out_dir + "/points", "the sweep output directory");
  claim_out_dir(out_dir, s, force, err);
  // A point file is written in milliseconds, so a temporary one older than ten minutes was left
  // by a killed run; younger ones may belong to a shard still running on another machine.
  if (const size_t n = remove_stale_temporaries(out_dir + "/points", 600))
    err << "qarch sweep: removed " << n << " temporary file(s) left by an interrupted run in "
        << out_dir << "/points\n";
  // Skip finished points whose key matches (same architecture, workload and options).
  std::vector<const SweepPoint*> todo;
  size_t skipped = 0;
  for (const SweepPoint* p : mine) {
    std::string text;
    const std::string f = point_file(out_dir, p->id);
    if (!force && read_file(f, text)) {
      try {
        if (parse_point_file(text, f).key == p->key) {
          ++skipped;
          continue;
        }
        err << "qarch sweep: " << f << " is from a different definition; recomputing\n";
      } catch (const Error& e) {
        err << "qarch sweep: " << e.what() << "; recomputing\n";
      }
    }
    todo.push_back(p);
  }
  out << "qarch sweep: " << s.name << ": " << s.points.size() << " points, shard " << shard << "/"
      << shards << ": " << mine.size() << " points, " << skipped << " already done, " << todo.size()
      << " to run with " << jobs << " job(s) -> " << out_dir << "\n";

  ExploreCache cache;
  Progress progress(err, todo.size(), ::isatty(2));
  std::atomic<size_t> next{0};
  std::mutex fail_mutex;
  std::vector<std::string> failures;
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const SweepPoint& p = *todo[i];
      try {
        reports::PointResult r = run_point(p.id, p.arch, p.workload, s.accuracy, cache);
        r.params = p.params;
        r.arch_file = p.arch_arg;
        write_file_atomic(point_file(out_dir, p.id), point_file_text(s, p, r));
        progress.done(p.id, "done");
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(fail_mutex);
        failures.push_back(p.id + ": " + e.what());
        progress.done(p.id, "FAILED");
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int>(jobs, static_cast<int>(todo.size())); ++j)
    threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  if (!failures.empty()) {
    std::sort(failures.begin(), failures.end());
    for (const auto& f : failures) err << "qarch sweep: point " << f << "\n";
    err << "qarch sweep: " << failures.size() << " point(s) failed; the others are saved, a "
        << "rerun retries only the failed ones\n";
    return 1;
  }
  if (shards == 1) {
    const reports::Report r = merged_report(collect_sweep(out_dir, s), "");
    reports::write_report(out_dir, r);
    print_points(out, r.points, r.pareto);
    print_serve(out, r.points);
    out << "wrote " << out_dir << "/{report.json,summary.csv,gemms.csv,index.html}\n";
  } else {
    out << "shard " << shard << "/" << shards << " done; when every shard is done: qarch report "
        << out_dir << "\n";
  }
  return 0;
}

int cmd_report(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)err;
  po::options_description desc(
      "qarch report: merge sweep shards and reports into one report with the Pareto front\n\n"
      "usage: qarch report DIR... [--out OUT] [--title TEXT]\n\n"
      "Each DIR is a sweep output directory (points/*.json), a run/compare report directory\n"
      "(report.json) or a report.json file. Points are merged by id (identical duplicates are\n"
      "fine, conflicting ones an error) and sorted by id. Writes OUT/report.json, summary.csv,\n"
      "gemms.csv and index.html (OUT defaults to the first DIR).\n\noptions");
  std::vector<std::string> inputs;
  std::string out_dir, title;
  desc.add_options()("help,h", "print this help")("inputs", po::value(&inputs)->multitoken(),
                                                  "directories or report files")(
      "out,o", po::value(&out_dir), "output directory")("title", po::value(&title), "report title");
  po::positional_options_description pos;
  pos.add("inputs", -1);
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out, &pos)) return 0;
  if (inputs.empty()) throw Error("give at least one directory: qarch report DIR...");
  if (out_dir.empty()) out_dir = inputs.front();
  const Collected c = collect(inputs);
  const reports::Report r = merged_report(c, title);
  reports::write_report(out_dir, r);
  print_points(out, r.points, r.pareto);
  print_serve(out, r.points);
  if (c.expected > 0 && c.points.size() < c.expected)
    err << "qarch report: warning: only " << c.points.size() << " of " << c.expected
        << " sweep points are present (the report says so in its notes)\n";
  out << "merged " << r.points.size() << " points; Pareto front: " << r.pareto.size()
      << " points; wrote " << out_dir << "/{report.json,summary.csv,gemms.csv,index.html}\n";
  return 0;
}

}  // namespace qarch::sim
