#include "http/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/log.h"

namespace causeloop::http {

namespace {
void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void AppendHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

std::string RenderLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out.push_back(',');
    out += k;
    out += "=\"";
    AppendEscapedLabelValue(out, v);
    out.push_back('"');
  }
  return out;
}

void AppendNumber(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shorter form when it round-trips (0.005 instead of 0.0050000000000000001).
  char shorter[32];
  int m = std::snprintf(shorter, sizeof shorter, "%g", v);
  if (std::strtod(shorter, nullptr) == v) {
    out.append(shorter, static_cast<size_t>(m));
  } else {
    out.append(buf, static_cast<size_t>(n));
  }
}

void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out.push_back('{');
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out.push_back(',');
    out += extra_label;
    out.push_back('}');
  }
  out.push_back(' ');
  AppendNumber(out, value);
  out.push_back('\n');
}
}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                 bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::Count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += BucketCount(i);
  return total;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Metrics::Series& Metrics::Find(std::string_view name, std::string_view help, Type type,
                               const Labels& labels, std::vector<double> bounds) {
  std::string rendered = RenderLabels(labels);
  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) {
    Family family;
    family.type = type;
    family.help = std::string(help);
    if (type == Type::kHistogram) {
      family.bounds = bounds.empty() ? DefaultLatencyBuckets() : std::move(bounds);
      std::sort(family.bounds.begin(), family.bounds.end());
    }
    fit = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = fit->second;
  auto make_series = [&](const std::vector<double>& b) {
    auto s = std::make_unique<Series>();
    s->labels = rendered;
    switch (type) {
      case Type::kCounter:
        s->counter = std::make_unique<http::Counter>();
        break;
      case Type::kGauge:
        s->gauge = std::make_unique<http::Gauge>();
        break;
      case Type::kHistogram:
        s->histogram = std::make_unique<http::Histogram>(b);
        break;
    }
    return s;
  };
  if (family.type != type) {
    log::Error("metrics: name registered with another type", {{"name", name}});
    detached_.push_back(make_series(DefaultLatencyBuckets()));
    return *detached_.back();
  }
  auto sit = family.by_labels.find(rendered);
  if (sit != family.by_labels.end()) return *sit->second;
  family.series.push_back(make_series(family.bounds));
  Series* s = family.series.back().get();
  family.by_labels.emplace(rendered, s);
  return *s;
}

Counter& Metrics::Counter(std::string_view name, std::string_view help, const Labels& labels) {
  return *Find(name, help, Type::kCounter, labels, {}).counter;
}

Gauge& Metrics::Gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *Find(name, help, Type::kGauge, labels, {}).gauge;
}

Histogram& Metrics::Histogram(std::string_view name, std::string_view help, const Labels& labels,
                              std::vector<double> upper_bounds) {
  return *Find(name, help, Type::kHistogram, labels, std::move(upper_bounds)).histogram;
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    AppendHelp(out, family.help);
    out += "\n# TYPE ";
    out += name;
    switch (family.type) {
      case Type::kCounter:
        out += " counter\n";
        break;
      case Type::kGauge:
        out += " gauge\n";
        break;
      case Type::kHistogram:
        out += " histogram\n";
        break;
    }
    for (const auto& s : family.series) {
      switch (family.type) {
        case Type::kCounter:
          AppendSample(out, name, "", s->labels, "", static_cast<double>(s->counter->Value()));
          break;
        case Type::kGauge:
          AppendSample(out, name, "", s->labels, "", s->gauge->Value());
          break;
        case Type::kHistogram: {
          const http::Histogram& h = *s->histogram;
          uint64_t cumulative = 0;
          std::string le;
          for (size_t i = 0; i <= h.upper_bounds().size(); ++i) {
            cumulative += h.BucketCount(i);
            le = "le=\"";
            if (i < h.upper_bounds().size()) {
              AppendNumber(le, h.upper_bounds()[i]);
            } else {
              le += "+Inf";
            }
            le.push_back('"');
            AppendSample(out, name, "_bucket", s->labels, le, static_cast<double>(cumulative));
          }
          AppendSample(out, name, "_sum", s->labels, "", h.Sum());
          AppendSample(out, name, "_count", s->labels, "", static_cast<double>(cumulative));
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace causeloop::http
