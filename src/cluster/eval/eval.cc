#include "cluster/eval/eval.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string_view>

#include "cluster/engine.h"
#include "core/json_writer.h"

namespace causeloop::cluster::eval {
namespace {

constexpr const char* kEvalUsage =
    R"(Usage: causeloop eval cluster --dataset PATH [--labels original|corrected|loghub2] [--json] [--repeat N]

Clusters each labelled dataset with a fresh engine (default configuration), in file order, and
prints grouping accuracy (GA), F1 of grouping accuracy (FGA), pairwise F1, the adjusted Rand
index (ARI) and Assign throughput, then their unweighted means.

  --dataset PATH  a Loghub-2k root (<S>/<S>_2k.log_structured.csv), one Loghub system directory,
                  a .jsonl file or a directory of .jsonl files ({"text"|"title"[,"body"],
                  "service"?, "source"?, "label"} a line; one dataset per file)
  --labels V      Loghub ground truth: original (default), corrected (logparser), loghub2
  --json          print one JSON object instead of the table
  --repeat N      time N passes per dataset and report the fastest (default 1); quality is
                  scored on the first pass
)";

struct Args {
  std::string dataset;
  std::string labels = "original";
  bool json = false;
  bool help = false;
  int repeat = 1;
};

Result<Args> ParseArgs(const std::vector<std::string>& args) {
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto take_value = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return Fail(ErrorCode::kValidation, name + " needs a value");
      return args[++i];
    };
    if (name == "--help" || name == "-h") {
      out.help = true;
    } else if (name == "--json" && !has_value) {
      out.json = true;
    } else if (name == "--dataset" || name == "--labels" || name == "--repeat") {
      auto v = take_value();
      if (!v) return Fail(v.error());
      if (name == "--dataset") out.dataset = *v;
      if (name == "--labels") out.labels = *v;
      if (name == "--repeat") {
        char* end = nullptr;
        long n = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || n < 1 || n > 1000) {
          return Fail(ErrorCode::kValidation, "--repeat must be an integer from 1 to 1000");
        }
        out.repeat = static_cast<int>(n);
      }
    } else {
      return Fail(ErrorCode::kValidation, "unknown argument '" + args[i] + "'");
    }
  }
  if (!out.help && out.dataset.empty()) {
    return Fail(ErrorCode::kValidation, "--dataset is required");
  }
  return out;
}

std::string Fixed(double value, int decimals) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return std::string(buf, static_cast<size_t>(n));
}

std::string Row(std::string_view name, const std::string& messages, const std::string& groups,
                const std::string& clusters, double ga, double fga, double pair_f1, double ari,
                double rate) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%-12.*s %9s %7s %9s %7.4f %7.4f %8.4f %7.4f %10.0f\n",
                        static_cast<int>(name.size()), name.data(), messages.c_str(),
                        groups.c_str(), clusters.c_str(), ga, fga, pair_f1, ari, rate);
  return std::string(buf, static_cast<size_t>(std::max(n, 0)));
}

}  // namespace

Result<EvalReport> EvaluateEngine(const std::vector<Dataset>& datasets, int repeat) {
  EvalReport report;
  for (const auto& dataset : datasets) {
    std::vector<Signal> signals;
    std::vector<std::string> truth;
    signals.reserve(dataset.records.size());
    truth.reserve(dataset.records.size());
    for (const auto& r : dataset.records) {
      signals.push_back(
          Signal{.title = r.title, .body = r.body, .service = r.service, .source = r.source});
      truth.push_back(r.label);
    }
    std::vector<uint32_t> first;
    std::vector<uint32_t> assigned(signals.size());
    double best = 0;
    for (int pass = 0; pass < std::max(repeat, 1); ++pass) {
      Engine engine;
      auto start = std::chrono::steady_clock::now();
      for (size_t i = 0; i < signals.size(); ++i) assigned[i] = engine.Assign(signals[i]).cluster;
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      best = pass == 0 ? took.count() : std::min(best, took.count());
      if (pass == 0) {
        first = assigned;
      } else if (assigned != first) {
        return Fail(ErrorCode::kInternal,
                    dataset.name +
                        ": two passes assigned differently; the engine must be "
                        "deterministic for a given input order");
      }
    }
    auto metrics = Evaluate(truth, first);
    if (!metrics) {
      return Fail(ErrorCode::kValidation, dataset.name + ": " + metrics.error().message);
    }
    DatasetReport d{.name = dataset.name, .metrics = *metrics, .seconds = best};
    d.messages_per_second = best > 0 ? static_cast<double>(metrics->messages) / best : 0;
    report.messages += metrics->messages;
    report.seconds += best;
    report.mean_grouping_accuracy += metrics->grouping_accuracy;
    report.mean_fga += metrics->fga;
    report.mean_pair_f1 += metrics->pair_f1;
    report.mean_ari += metrics->ari;
    report.datasets.push_back(std::move(d));
  }
  if (!report.datasets.empty()) {
    auto k = static_cast<double>(report.datasets.size());
    report.mean_grouping_accuracy /= k;
    report.mean_fga /= k;
    report.mean_pair_f1 /= k;
    report.mean_ari /= k;
  }
  report.messages_per_second =
      report.seconds > 0 ? static_cast<double>(report.messages) / report.seconds : 0;
  return report;
}

std::string FormatTable(const EvalReport& report) {
  char header[256];
  std::snprintf(header, sizeof header, "%-12s %9s %7s %9s %7s %7s %8s %7s %10s\n", "system",
                "messages", "groups", "clusters", "GA", "FGA", "pair F1", "ARI", "msg/s");
  std::string out = header;
  size_t groups = 0;
  size_t clusters = 0;
  for (const auto& d : report.datasets) {
    const auto& m = d.metrics;
    out += Row(d.name, std::to_string(m.messages), std::to_string(m.truth_groups),
               std::to_string(m.predicted_clusters), m.grouping_accuracy, m.fga, m.pair_f1, m.ari,
               d.messages_per_second);
    groups += m.truth_groups;
    clusters += m.predicted_clusters;
  }
  out += Row("average", std::to_string(report.messages), std::to_string(groups),
             std::to_string(clusters), report.mean_grouping_accuracy, report.mean_fga,
             report.mean_pair_f1, report.mean_ari, report.messages_per_second);
  out +=
      "(average: unweighted mean of each metric over " + std::to_string(report.datasets.size()) +
      " datasets; messages, groups, clusters: totals;\n msg/s: " + std::to_string(report.messages) +
      " messages / " + Fixed(report.seconds, 4) + " s spent in Assign)\n";
  return out;
}

std::string FormatJson(const EvalReport& report, std::string_view labels,
                       const std::vector<std::string>& skipped) {
  // Six decimals: the figures are fractions of at most a few thousand messages.
  auto number = [](JsonWriter& w, std::string_view key, double value) {
    w.Key(key).Raw(Fixed(value, 6));
  };
  JsonWriter w;
  w.BeginObject().Field("labels", labels).Key("datasets").BeginArray();
  for (const auto& d : report.datasets) {
    const auto& m = d.metrics;
    w.BeginObject().Field("name", d.name);
    w.Field("messages", static_cast<long long>(m.messages));
    w.Field("truth_groups", static_cast<long long>(m.truth_groups));
    w.Field("clusters", static_cast<long long>(m.predicted_clusters));
    w.Field("correct_groups", static_cast<long long>(m.correct_groups));
    number(w, "ga", m.grouping_accuracy);
    number(w, "fga", m.fga);
    number(w, "group_precision", m.group_precision);
    number(w, "group_recall", m.group_recall);
    number(w, "pair_precision", m.pair_precision);
    number(w, "pair_recall", m.pair_recall);
    number(w, "pair_f1", m.pair_f1);
    number(w, "ari", m.ari);
    number(w, "seconds", d.seconds);
    w.Key("messages_per_second").Raw(Fixed(d.messages_per_second, 0));
    w.EndObject();
  }
  w.EndArray().Key("average").BeginObject();
  w.Field("datasets", static_cast<long long>(report.datasets.size()));
  number(w, "ga", report.mean_grouping_accuracy);
  number(w, "fga", report.mean_fga);
  number(w, "pair_f1", report.mean_pair_f1);
  number(w, "ari", report.mean_ari);
  w.Field("messages", static_cast<long long>(report.messages));
  number(w, "seconds", report.seconds);
  w.Key("messages_per_second").Raw(Fixed(report.messages_per_second, 0));
  w.EndObject().Key("skipped").BeginArray();
  for (const auto& s : skipped) w.String(s);
  w.EndArray().EndObject();
  return w.Take();
}

int RunEvalCluster(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto parsed = ParseArgs(args);
  if (!parsed) {
    err << "causeloop eval cluster: " << parsed.error().message << "\n\n" << kEvalUsage;
    return 2;
  }
  if (parsed->help) {
    out << kEvalUsage;
    return 0;
  }
  auto labels = ParseLabelVariant(parsed->labels);
  if (!labels) {
    err << "causeloop eval cluster: --labels " << labels.error().message << "\n\n" << kEvalUsage;
    return 2;
  }
  auto loaded = LoadDatasets(parsed->dataset, *labels);
  if (!loaded) {
    err << "causeloop eval cluster: " << loaded.error().message << "\n";
    return 1;
  }
  auto report = EvaluateEngine(loaded->datasets, parsed->repeat);
  if (!report) {
    err << "causeloop eval cluster: " << report.error().message << "\n";
    return 1;
  }
  if (parsed->json) {
    out << FormatJson(*report, parsed->labels, loaded->skipped) << "\n";
  } else {
    for (const auto& s : loaded->skipped) err << "skipped " << s << "\n";
    out << FormatTable(*report);
  }
  return 0;
}

}  // namespace causeloop::cluster::eval
