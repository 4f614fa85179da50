#include "cluster/eval/dataset.h"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace causeloop::cluster::eval {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStructuredSuffix = "_2k.log_structured.csv";

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot open " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Fail(ErrorCode::kUnavailable, "cannot read " + path.string());
  return std::move(content).str();
}

std::string_view VariantSuffix(LabelVariant labels) {
  switch (labels) {
    case LabelVariant::kOriginal:
      return "_2k.log_structured.csv";
    case LabelVariant::kCorrected:
      return "_2k.log_structured_corrected.csv";
    case LabelVariant::kLoghub2:
      return "_2k.log_structured_corrected_loghub2.csv";
  }
  return "";
}

// "<system><suffix>", e.g. "HDFS_2k.log_structured.csv".
std::string FileName(std::string_view system, std::string_view suffix) {
  std::string name(system);
  name += suffix;
  return name;
}

Error Invalid(const fs::path& file, std::string message) {
  return Error{ErrorCode::kValidation, file.string() + ": " + std::move(message), {}};
}

// The parsed rows of a Loghub structured CSV and the index of `column` in its header.
struct Column {
  std::vector<std::vector<std::string>> rows;  // without the header
  size_t index = 0;
};

Result<Column> ReadColumn(const fs::path& file, std::string_view column) {
  auto text = ReadFile(file);
  if (!text) return Fail(text.error());
  auto rows = ParseCsv(*text);
  if (!rows) return Fail(Invalid(file, rows.error().message));
  if (rows->empty()) return Fail(Invalid(file, "empty file, expected a header row"));
  const auto& header = rows->front();
  auto it = std::find(header.begin(), header.end(), column);
  if (it == header.end()) {
    return Fail(Invalid(file, "no column '" + std::string(column) + "' in the header"));
  }
  Column out;
  out.index = static_cast<size_t>(it - header.begin());
  for (size_t i = 1; i < rows->size(); ++i) {
    if ((*rows)[i].size() != header.size()) {
      return Fail(Invalid(file, "row " + std::to_string(i) + " has " +
                                    std::to_string((*rows)[i].size()) + " fields, the header " +
                                    std::to_string(header.size())));
    }
  }
  rows->erase(rows->begin());
  out.rows = std::move(*rows);
  return out;
}

Result<Dataset> LoadLoghubSystem(const fs::path& dir, const std::string& system,
                                 LabelVariant labels) {
  fs::path original = dir / FileName(system, kStructuredSuffix);
  fs::path variant = dir / FileName(system, VariantSuffix(labels));
  auto content = ReadColumn(original, "Content");
  if (!content) return Fail(content.error());
  Dataset dataset{.name = system, .records = {}};
  dataset.records.reserve(content->rows.size());
  for (auto& row : content->rows) {
    dataset.records.push_back(Record{.title = std::move(row[content->index])});
  }
  auto label_column = ReadColumn(variant, "EventId");
  if (!label_column) return Fail(label_column.error());
  if (label_column->rows.size() != dataset.records.size()) {
    return Fail(Invalid(variant, std::to_string(label_column->rows.size()) + " rows, but " +
                                     original.string() + " has " +
                                     std::to_string(dataset.records.size())));
  }
  for (size_t i = 0; i < dataset.records.size(); ++i) {
    dataset.records[i].label = std::move(label_column->rows[i][label_column->index]);
  }
  if (dataset.records.empty()) return Fail(Invalid(original, "no rows"));
  return dataset;
}

// An optional string member; kValidation when present with another type.
Result<std::string> OptionalString(simdjson::dom::object object, std::string_view key,
                                   const fs::path& file, size_t line) {
  simdjson::dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::string();
  std::string_view s;
  if (value.get(s) != simdjson::SUCCESS) {
    return Fail(Invalid(
        file, "line " + std::to_string(line) + ": \"" + std::string(key) + "\" must be a string"));
  }
  return std::string(s);
}

Result<Record> DecodeJsonRecord(simdjson::dom::parser& parser, std::string_view line_text,
                                const fs::path& file, size_t line) {
  auto where = [&](const std::string& message) {
    return Fail(Invalid(file, "line " + std::to_string(line) + ": " + message));
  };
  simdjson::dom::element root;
  if (auto err = parser.parse(line_text.data(), line_text.size()).get(root);
      err != simdjson::SUCCESS) {
    return where(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return where("expected a JSON object");

  Record record;
  auto text = OptionalString(object, "text", file, line);
  auto title = OptionalString(object, "title", file, line);
  auto body = OptionalString(object, "body", file, line);
  auto service = OptionalString(object, "service", file, line);
  auto source = OptionalString(object, "source", file, line);
  for (const auto* r : {&text, &title, &body, &service, &source}) {
    if (!*r) return Fail(r->error());
  }
  if (!text->empty()) {
    if (!title->empty()) return where("give \"text\" or \"title\", not both");
    record.title = std::move(*text);
  } else {
    record.title = std::move(*title);
  }
  if (record.title.empty() && body->empty()) {
    return where("no \"text\", \"title\" or \"body\" to cluster");
  }
  record.body = std::move(*body);
  record.service = std::move(*service);
  record.source = std::move(*source);

  simdjson::dom::element label;
  if (object["label"].get(label) != simdjson::SUCCESS || label.is_null()) {
    return where("no \"label\"");
  }
  if (std::string_view s; label.get(s) == simdjson::SUCCESS) {
    record.label = std::string(s);
  } else if (label.is_number()) {
    record.label = simdjson::to_string(label);  // the number as written, minified
  } else {
    return where("\"label\" must be a string or a number");
  }
  return record;
}

Result<Dataset> LoadJsonl(const fs::path& file) {
  auto text = ReadFile(file);
  if (!text) return Fail(text.error());
  Dataset dataset{.name = file.stem().string(), .records = {}};
  simdjson::dom::parser parser;
  std::string_view rest = *text;
  size_t line = 0;
  while (!rest.empty()) {
    ++line;
    size_t end = rest.find('\n');
    std::string_view line_text = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line_text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto record = DecodeJsonRecord(parser, line_text, file, line);
    if (!record) return Fail(record.error());
    dataset.records.push_back(std::move(*record));
  }
  if (dataset.records.empty()) return Fail(Invalid(file, "no records"));
  return dataset;
}

bool IsJsonl(const fs::path& path) { return path.extension() == ".jsonl"; }

bool IsLoghubSystemDir(const fs::path& dir, std::string& system) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > kStructuredSuffix.size() && name.ends_with(kStructuredSuffix) &&
        entry.is_regular_file(ec)) {
      system = name.substr(0, name.size() - kStructuredSuffix.size());
      return true;
    }
  }
  return false;
}

Result<LoadedDatasets> LoadLoghubRoot(const fs::path& root, LabelVariant labels) {
  LoadedDatasets out;
  std::error_code ec;
  for (std::string_view system_view : kLoghubSystems) {
    std::string system(system_view);
    fs::path dir = root / system;
    if (!fs::is_regular_file(dir / FileName(system, kStructuredSuffix), ec)) continue;
    if (!fs::is_regular_file(dir / FileName(system, VariantSuffix(labels)), ec)) {
      out.skipped.push_back(system + ": no " + FileName(system, VariantSuffix(labels)));
      continue;
    }
    auto dataset = LoadLoghubSystem(dir, system, labels);
    if (!dataset) return Fail(dataset.error());
    out.datasets.push_back(std::move(*dataset));
  }
  if (out.datasets.empty()) {
    return Fail(ErrorCode::kNotFound,
                root.string() + ": no Loghub system has the requested labels");
  }
  return out;
}

bool IsLoghubRoot(const fs::path& dir) {
  std::error_code ec;
  return std::any_of(kLoghubSystems.begin(), kLoghubSystems.end(), [&](std::string_view s) {
    std::string system(s);
    return fs::is_regular_file(dir / system / FileName(system, kStructuredSuffix), ec);
  });
}

}  // namespace

Result<LabelVariant> ParseLabelVariant(std::string_view name) {
  if (name == "original") return LabelVariant::kOriginal;
  if (name == "corrected") return LabelVariant::kCorrected;
  if (name == "loghub2") return LabelVariant::kLoghub2;
  return FailField("labels",
                   "must be original, corrected or loghub2, not '" + std::string(name) + "'");
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_row = false;       // the current line has content, so it is not a blank line
  bool after_quote = false;  // the current field was quoted and its closing quote was read
  size_t line = 1;
  auto finish_row = [&] {
    if (in_row) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    in_row = false;
    after_quote = false;
  };
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      finish_row();
      i += (c == '\r' && i + 1 < n && text[i + 1] == '\n') ? 2 : 1;
      ++line;
      continue;
    }
    in_row = true;
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
      ++i;
      continue;
    }
    if (after_quote) {
      return Fail(ErrorCode::kValidation,
                  "line " + std::to_string(line) + ": text after a closing quote");
    }
    if (c != '"' || !field.empty()) {
      field += c;  // a quote inside an unquoted field is literal, as in Python's csv
      ++i;
      continue;
    }
    const size_t start_line = line;
    for (++i;; ++i) {
      if (i >= n) {
        return Fail(ErrorCode::kValidation,
                    "line " + std::to_string(start_line) + ": unterminated quoted field");
      }
      if (text[i] == '"') {
        if (i + 1 < n && text[i + 1] == '"') {
          field += '"';
          ++i;
          continue;
        }
        ++i;
        break;
      }
      if (text[i] == '\n') ++line;
      field += text[i];
    }
    after_quote = true;
  }
  finish_row();
  return rows;
}

Result<LoadedDatasets> LoadDatasets(const fs::path& path, LabelVariant labels) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Fail(ErrorCode::kNotFound, path.string() + ": no such path");
  if (fs::is_regular_file(path, ec)) {
    if (!IsJsonl(path)) {
      return Fail(ErrorCode::kNotFound,
                  path.string() + ": expected a .jsonl file or a Loghub or .jsonl directory");
    }
    auto dataset = LoadJsonl(path);
    if (!dataset) return Fail(dataset.error());
    LoadedDatasets out;
    out.datasets.push_back(std::move(*dataset));
    return out;
  }
  if (!fs::is_directory(path, ec)) {
    return Fail(ErrorCode::kNotFound, path.string() + ": not a file or a directory");
  }
  if (IsLoghubRoot(path)) return LoadLoghubRoot(path, labels);
  if (std::string system; IsLoghubSystemDir(path, system)) {
    fs::path variant = path / FileName(system, VariantSuffix(labels));
    if (!fs::is_regular_file(variant, ec)) {
      return Fail(ErrorCode::kNotFound, variant.string() + ": no such file");
    }
    auto dataset = LoadLoghubSystem(path, system, labels);
    if (!dataset) return Fail(dataset.error());
    LoadedDatasets out;
    out.datasets.push_back(std::move(*dataset));
    return out;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (IsJsonl(entry.path()) && entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) return Fail(ErrorCode::kUnavailable, path.string() + ": " + ec.message());
  if (files.empty()) {
    return Fail(ErrorCode::kNotFound,
                path.string() +
                    ": no Loghub data (<S>/<S>_2k.log_structured.csv) and no .jsonl "
                    "files");
  }
  std::sort(files.begin(), files.end());
  LoadedDatasets out;
  for (const auto& file : files) {
    auto dataset = LoadJsonl(file);
    if (!dataset) return Fail(dataset.error());
    out.datasets.push_back(std::move(*dataset));
  }
  return out;
}

}  // namespace causeloop::cluster::eval
