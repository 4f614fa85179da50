#include "cluster/mask.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace causeloop::cluster::internal {
namespace {

// Character classes, one table lookup each: the masker and the signature scanner test every
// byte of every title and body on the ingest path.
enum CharClass : uint16_t {
  kSpace = 1,
  kDigit = 2,
  kAlpha = 4,
  kHexLetter = 8,    // a-f, A-F
  kDelim = 16,       // punctuation that separates the pieces of one token
  kIdentExtra = 32,  // '_', '$', '.': with letters and digits, an identifier's characters
  kDash = 64,
  kDot = 128,
  kColon = 256,
  kSlash = 512,
  kAt = 1024,
};

constexpr std::array<uint16_t, 256> kCharClass = [] {
  std::array<uint16_t, 256> t{};
  for (unsigned char c : std::string_view(" \t\n\r\f\v")) t[c] |= kSpace;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kDigit;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kAlpha;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kAlpha;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHexLetter;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHexLetter;
  for (unsigned char c : std::string_view("=:,;()[]{}<>|/\\\"'")) t[c] |= kDelim;
  for (unsigned char c : std::string_view("_$.")) t[c] |= kIdentExtra;
  t['-'] |= kDash;
  t['.'] |= kDot;
  t[':'] |= kColon;
  t['/'] |= kSlash;
  t['@'] |= kAt;
  return t;
}();

unsigned ClassOf(char c) { return kCharClass[static_cast<unsigned char>(c)]; }

bool Is(char c, unsigned classes) { return (ClassOf(c) & classes) != 0; }

bool IsSpace(char c) { return Is(c, kSpace); }
bool IsDigit(char c) { return Is(c, kDigit); }
bool IsAlpha(char c) { return Is(c, kAlpha); }
bool IsAlnum(char c) { return Is(c, kDigit | kAlpha); }
bool IsDelim(char c) { return Is(c, kDelim); }

bool HasDigit(std::string_view s) { return std::any_of(s.begin(), s.end(), IsDigit); }

// Technical words that carry digits but name a thing, not a value.
bool IsDigitWord(std::string_view s) {
  static constexpr std::array<std::string_view, 40> kWords = {
      "ipv4",    "ipv6",  "utf-8",  "utf8",  "utf-16", "x86",    "x86_64", "amd64",
      "arm64",   "i386",  "i686",   "ext2",  "ext3",   "ext4",   "s3",     "ec2",
      "http2",   "log4j", "oauth2", "sha1",  "sha256", "sha512", "md5",    "base64",
      "k8s",     "win32", "win64",  "int32", "int64",  "uint32", "uint64", "float32",
      "float64", "e2e",   "p2p",    "2fa",   "h2",     "l4",     "l7",     "x509"};
  // Called for every piece that mixes letters and digits, most of them values: ruled out on
  // the first character before the list is searched.
  static constexpr std::array<bool, 256> kFirst = [] {
    std::array<bool, 256> t{};
    for (std::string_view w : kWords) t[static_cast<unsigned char>(w[0])] = true;
    return t;
  }();
  if (s.size() > 8 || s.size() < 2 ||
      !kFirst[static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(s[0])))]) {
    return false;
  }
  std::array<char, 8> lower{};
  for (size_t i = 0; i < s.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  }
  std::string_view l(lower.data(), s.size());
  return std::find(kWords.begin(), kWords.end(), l) != kWords.end();
}

// "db-1.prod.example.com", "hm.baidu.com", "report.pdf": lower-case labels joined by dots,
// the last one 2–6 letters. Java packages and classes carry upper case or end otherwise.
bool IsHostOrFileName(std::string_view s) {
  if (s.size() < 4 || s.front() == '.' || s.back() == '.') return false;
  size_t dot = s.find_last_of('.');
  if (dot == std::string_view::npos) return false;
  std::string_view last = s.substr(dot + 1);
  if (last.size() < 2 || last.size() > 6) return false;
  if (!std::all_of(last.begin(), last.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return false;
  }
  char prev = '.';
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

// Parts of dates: month and weekday names.
bool IsDateWord(std::string_view s) {
  static constexpr std::array<std::string_view, 19> kWords = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept",
      "Oct", "Nov", "Dec", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (s == "Sun") return true;
  return s.size() <= 4 && std::find(kWords.begin(), kWords.end(), s) != kWords.end();
}

bool IsOpenPunct(char c) { return c == '(' || c == '[' || c == '{' || c == '<'; }
bool IsClosePunct(char c) {
  return c == ')' || c == ']' || c == '}' || c == '>' || c == ',' || c == '.' || c == ';' ||
         c == ':' || c == '!' || c == '?';
}

bool IsEmail(std::string_view s) {
  size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || at + 3 > s.size()) return false;
  size_t dot = s.find('.', at);
  if (dot == std::string_view::npos || dot + 1 >= s.size()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
  });
}

bool IsPath(std::string_view s) {
  if (s.size() >= 3 && IsAlpha(s[0]) && s[1] == ':' && s[2] == '\\') return true;  // C:\…
  if (s.size() >= 2 && s[0] == '/' && (IsAlnum(s[1]) || s[1] == '.' || s[1] == '_')) {
    return true;
  }
  if (s.starts_with("./") || s.starts_with("../") || s.starts_with("~/")) return true;
  return std::count(s.begin(), s.end(), '/') >= 2 && IsAlnum(s[0]);
}

bool IsIpv6(std::string_view s) {
  if (std::count(s.begin(), s.end(), ':') < 2) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return Is(c, kDigit | kHexLetter | kColon | kDot); });
}

// A token that is one value as a whole. `classes`: every CharClass of the token, a superset
// of the core's: a URL and an IPv6 address hold a colon, a path a slash (or "C:\\"), an email
// address an '@', and most tokens none of these.
bool IsWholeVariable(std::string_view core, unsigned classes) {
  if (core.size() < 2 || (classes & (kColon | kSlash | kAt)) == 0) return false;
  return core.find("://") != std::string_view::npos || IsEmail(core) || IsPath(core) ||
         IsIpv6(core);
}

class Masker {
 public:
  Masker(std::string_view input, MaskedText& out, size_t max_tokens)
      : in_(input), out_(out), max_(max_tokens) {}

  void Run() {
    size_t i = 0;
    while (i < in_.size()) {
      while (i < in_.size() && IsSpace(in_[i])) ++i;
      if (i >= in_.size()) break;
      if (out_.tokens.size() >= max_) {
        out_.truncated = true;
        break;
      }
      size_t end = i;
      unsigned classes = 0;
      for (unsigned k = 0; end < in_.size() && ((k = ClassOf(in_[end])) & kSpace) == 0; ++end) {
        classes |= k;
      }
      Token(i, end, classes);
      i = end;
    }
  }

 private:
  void Begin(size_t raw_begin, size_t raw_end) {
    if (!out_.text.empty()) out_.text.push_back(' ');
    out_.tokens.push_back({static_cast<uint32_t>(out_.text.size()), 0});
    out_.raw.push_back(
        {static_cast<uint32_t>(raw_begin), static_cast<uint32_t>(raw_end - raw_begin)});
  }
  void End() {
    Span& tok = out_.tokens.back();
    tok.size = static_cast<uint32_t>(out_.text.size()) - tok.begin;
    std::string_view t = out_.Token(out_.tokens.size() - 1);
    // "<*>:<*>", "[<*>]", "(<*>": values and punctuation only are one value.
    if (!IsWildcard(t) && IsValueOnly(t)) {
      out_.text.resize(tok.begin);
      out_.text.append(kWildcard);
      tok.size = static_cast<uint32_t>(kWildcard.size());
    }
    size_t n = out_.tokens.size();
    // "18.4 KB)", "<1 sec", "1190 bytes": the unit belongs to the value before it.
    bool unit = n >= 2 && IsWildcard(out_.Token(n - 2)) && IsUnit(out_.Token(n - 1));
    // A run of values ("3552 3534 3375", "Jun 17 07:07:00 2005") is one value.
    if (unit || (n >= 2 && IsWildcard(out_.Token(n - 1)) && IsWildcard(out_.Token(n - 2)))) {
      out_.text.resize(out_.tokens[n - 2].begin + out_.tokens[n - 2].size);
      out_.tokens.pop_back();
      Span last = out_.raw.back();
      out_.raw.pop_back();
      out_.raw.back().size = last.begin + last.size - out_.raw.back().begin;
    }
  }

  static bool IsWildcard(std::string_view t) {
    return t.size() == 3 && t[0] == '<' && t[1] == '*' && t[2] == '>';
  }

  static bool IsValueOnly(std::string_view t) {
    if (t.size() == 2 && (t == "()" || t == "[]" || t == "{}" || t == "''" || t == "\"\"")) {
      return true;  // empty
    }
    if (t.find(kWildcard) == std::string_view::npos) return false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t.substr(i, kWildcard.size()) == kWildcard) {
        i += kWildcard.size() - 1;
        continue;
      }
      if (IsAlnum(t[i])) return false;
    }
    return true;
  }

  static bool IsUnit(std::string_view t) {
    while (!t.empty() && !IsAlpha(t.back()) && t.back() != '%') t.remove_suffix(1);
    if (t.empty() || t.size() > 7) return false;  // the longest unit below has 7 letters
    static constexpr std::array<std::string_view, 24> kUnits = {
        "B",     "KB",   "MB",      "GB",    "TB", "KiB", "MiB",    "GiB",
        "bytes", "ms",   "us",      "ns",    "s",  "sec", "secs",   "seconds",
        "min",   "mins", "minutes", "hours", "%",  "kB",  "millis", "msec"};
    return std::find(kUnits.begin(), kUnits.end(), t) != kUnits.end();
  }

  // `classes`: every CharClass of the token's characters.
  void Token(size_t begin, size_t end, unsigned classes) {
    std::string_view tok = in_.substr(begin, end - begin);
    Begin(begin, end);
    // Quoted values (the whole run, quotes included) and whole-token values.
    size_t lead = 0;
    while (lead < tok.size() && IsOpenPunct(tok[lead])) ++lead;
    size_t trail = tok.size();
    while (trail > lead && IsClosePunct(tok[trail - 1])) --trail;
    std::string_view core = tok.substr(lead, trail - lead);
    bool quoted = core.size() >= 2 &&
                  (core.front() == '"' || core.front() == '\'' || core.front() == '`') &&
                  core.back() == core.front();
    if (quoted || IsWholeVariable(core, classes)) {
      out_.text.append(tok.substr(0, lead));
      out_.text.append(kWildcard);
      out_.text.append(tok.substr(trail));
      End();
      return;
    }
    // Piece by piece.
    size_t i = 0;
    while (i < tok.size()) {
      if (IsDelim(tok[i])) {
        out_.text.push_back(tok[i]);
        ++i;
        continue;
      }
      size_t j = i;
      unsigned piece_classes = 0;
      for (unsigned k = 0; j < tok.size() && ((k = ClassOf(tok[j])) & kDelim) == 0; ++j) {
        piece_classes |= k;
      }
      std::string_view piece = tok.substr(i, j - i);
      // The technical words with digits all hold letters, host and file names a dot, and
      // month and weekday names start upper case.
      const bool digits = (piece_classes & kDigit) != 0;
      if ((digits && ((piece_classes & kAlpha) == 0 || !IsDigitWord(piece))) ||
          ((piece_classes & kDot) != 0 && IsHostOrFileName(piece)) ||
          (!digits && piece.size() >= 3 && piece.size() <= 4 && piece[0] >= 'A' &&
           piece[0] <= 'Z' && IsDateWord(piece))) {
        out_.text.append(kWildcard);
      } else {
        out_.text.append(piece);
      }
      i = j;
    }
    End();
  }

  std::string_view in_;
  MaskedText& out_;
  size_t max_;
};

// ---- error signatures ----

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsIdentChar(char c) { return Is(c, kDigit | kAlpha | kIdentExtra); }
bool IsWordChar(char c) { return Is(c, kDigit | kAlpha | kIdentExtra | kDash); }

// Digits in frame names come from generated code (lambda$3, Foo$1): dropped.
std::string FrameName(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!IsDigit(c)) out.push_back(c);
  }
  return out;
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "com.foo.BarException", "KeyError", "java.lang.OutOfMemoryError": the last dotted part
// starts upper-case and ends in Exception or Error.
bool IsExceptionName(std::string_view s) {
  if (s.size() < 6 || !std::all_of(s.begin(), s.end(), IsIdentChar)) return false;
  size_t dot = s.find_last_of('.');
  std::string_view last = dot == std::string_view::npos ? s : s.substr(dot + 1);
  if (last.empty() || !(last[0] >= 'A' && last[0] <= 'Z')) return false;
  return (last.ends_with("Exception") || last.ends_with("Error")) && last != "Error";
}

bool IsErrnoName(std::string_view s) {
  static constexpr std::array<std::string_view, 16> kNames = {
      "ECONNREFUSED", "ECONNRESET",   "ETIMEDOUT",   "ENOENT",     "EACCES", "EPIPE",
      "ENOSPC",       "EHOSTUNREACH", "ENETUNREACH", "EADDRINUSE", "ENOMEM", "EMFILE",
      "EPERM",        "ECONNABORTED", "EAI_AGAIN",   "ENOTFOUND"};
  return std::find(kNames.begin(), kNames.end(), s) != kNames.end();
}

bool IsSignalName(std::string_view s) {
  return s == "SIGKILL" || s == "SIGSEGV" || s == "SIGABRT" || s == "SIGBUS" || s == "OOMKilled" ||
         s == "OutOfMemory";
}

class SignatureScanner {
 public:
  void Scan(std::string_view text, bool frames) {
    size_t lines = 0;
    size_t pos = 0;
    std::string_view prev;
    while (pos < text.size() && lines < 400) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      if (frames) Frame(prev, line);
      Words(line);
      prev = line;
      pos = nl + 1;
      ++lines;
    }
  }

  ErrorSignature Finish() {
    ErrorSignature sig;
    if (!exceptions_.empty()) sig.exception = exceptions_.front();
    std::vector<std::string>& frames = python_ ? python_frames_ : frames_;
    size_t n = std::min<size_t>(3, frames.size());
    for (size_t i = 0; i < n; ++i) {
      // Python prints the innermost frame last.
      const std::string& f = python_ ? frames[frames.size() - 1 - i] : frames[i];
      if (!sig.frames.empty()) sig.frames.push_back('>');
      sig.frames += f;
    }
    for (size_t i = 0; i < codes_.size() && i < 3; ++i) {
      if (i > 0) sig.codes.push_back(',');
      sig.codes += codes_[i];
    }
    if (!sig.frames.empty()) {
      sig.strong_key = Mix(Hash(sig.frames, Hash(sig.exception) ^ 0x5bd1e995ULL));
    }
    std::string_view weak = !sig.exception.empty() ? std::string_view(sig.exception)
                            : !codes_.empty()      ? std::string_view(codes_.front())
                                                   : std::string_view();
    if (!weak.empty()) sig.weak_key = Mix(Hash(weak) ^ 0x9e3779b97f4a7c15ULL);
    return sig;
  }

 private:
  void AddFrame(std::vector<std::string>& to, std::string frame) {
    if (frame.empty() || to.size() >= 64) return;
    to.push_back(std::move(frame));
  }

  void Frame(std::string_view prev, std::string_view raw) {
    std::string_view line = Trim(raw);
    if (line.starts_with("Traceback (most recent call last)")) python_ = true;
    // Java, .NET, JavaScript: "at com.foo.Bar.baz(Bar.java:12)", "at baz (file.js:1:2)".
    if (line.starts_with("at ")) {
      std::string_view rest = Trim(line.substr(3));
      size_t paren = rest.find('(');
      std::string_view name = Trim(paren == std::string_view::npos ? rest : rest.substr(0, paren));
      if (paren == std::string_view::npos) {
        name = Basename(name.substr(0, name.find(':')));  // "at file.js:10:5"
      }
      AddFrame(frames_, FrameName(name));
      return;
    }
    // Python: File "app/x.py", line 12, in charge
    if (line.starts_with("File \"")) {
      size_t close = line.find('"', 6);
      size_t in = line.rfind(", in ");
      if (close != std::string_view::npos && in != std::string_view::npos && in > close) {
        std::string frame(Basename(line.substr(6, close - 6)));
        frame += ':';
        frame += Trim(line.substr(in + 5));
        AddFrame(python_frames_, FrameName(frame));
      }
      return;
    }
    // Ruby: app/models/x.rb:12:in `charge'
    if (size_t in = line.find(":in `"); in != std::string_view::npos) {
      size_t colon = line.find(':');
      size_t close = line.find('\'', in + 5);
      if (close == std::string_view::npos) close = line.find('`', in + 5);
      if (colon != std::string_view::npos && close != std::string_view::npos) {
        std::string frame(Basename(line.substr(0, colon)));
        frame += ':';
        frame += line.substr(in + 5, close - in - 5);
        AddFrame(frames_, FrameName(frame));
      }
      return;
    }
    // Go: "main.(*Server).handle(0xc000…)" followed by "\t/src/app/server.go:42 +0x1d".
    if (line.find(".go:") != std::string_view::npos && !raw.empty() && raw[0] == '\t') {
      std::string_view fn = Trim(prev);
      size_t paren = fn.rfind('(');
      if (paren != std::string_view::npos && paren > 0 && fn.find(' ') == std::string_view::npos) {
        AddFrame(frames_, FrameName(fn.substr(0, paren)));
      }
    }
  }

  // Every word Word() acts on holds an upper-case E, S or O (…Exception, …Error, the errno
  // names, SIG…, OOMKilled, OutOfMemory, ORA-…, SQLSTATE), so only the words around those
  // letters are looked at, in line order; memchr finds the letters, a few bytes a cycle,
  // where testing each byte's class cost most of preparing a record for clustering.
  void Words(std::string_view line) {
    static constexpr std::array<char, 3> kLetters = {'E', 'S', 'O'};
    const size_t n = line.size();
    auto find = [&](char letter, size_t from) -> size_t {
      if (from >= n) return n;
      const void* at = std::memchr(line.data() + from, letter, n - from);
      return at == nullptr ? n : static_cast<size_t>(static_cast<const char*>(at) - line.data());
    };
    std::array<size_t, 3> next{};
    for (size_t k = 0; k < kLetters.size(); ++k) next[k] = find(kLetters[k], 0);
    for (;;) {
      size_t at = *std::min_element(next.begin(), next.end());
      if (at >= n) return;
      // The word holding the letter (a word ends at a non-word byte, so the scan back stops
      // before the previous word).
      size_t i = at;
      while (i > 0 && IsWordChar(line[i - 1])) --i;
      size_t j = at + 1;
      while (j < n && IsWordChar(line[j])) ++j;
      std::string_view w = line.substr(i, j - i);
      while (!w.empty() && (w.back() == '.' || w.back() == '-')) w.remove_suffix(1);
      if (MaybeSignatureWord(w)) Word(w, line.substr(j));
      for (size_t k = 0; k < kLetters.size(); ++k) {
        if (next[k] < j) next[k] = find(kLetters[k], j);
      }
    }
  }

  // Most words are none of the ones Word() looks for: decided on the first and last letters.
  static bool MaybeException(std::string_view w) {
    return w.size() >= 6 && (w.back() == 'n' || w.back() == 'r');
  }
  static bool MaybeCode(std::string_view w) {
    return w.front() == 'E' || w.front() == 'S' || w.front() == 'O';
  }
  static bool MaybeSignatureWord(std::string_view w) {
    return !w.empty() && (MaybeException(w) || MaybeCode(w));
  }

  void Word(std::string_view w, std::string_view after) {
    if (MaybeException(w) && IsExceptionName(w)) {
      AddUnique(exceptions_, std::string(w.substr(w.find_last_of('.') + 1)));
      return;
    }
    if (IsErrnoName(w) || IsSignalName(w)) {
      AddUnique(codes_, std::string(w));
      return;
    }
    // ORA-00942, SQLSTATE 40001 / SQLSTATE[40001]
    if (w.starts_with("ORA-") && w.size() > 4 && HasDigit(w)) {
      AddUnique(codes_, std::string(w));
      return;
    }
    if (w == "SQLSTATE") {
      std::string_view rest = after;
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '[' || rest.front() == '=')) {
        rest.remove_prefix(1);
      }
      size_t n = 0;
      while (n < rest.size() && n < 5 && IsAlnum(rest[n])) ++n;
      if (n == 5) AddUnique(codes_, "SQLSTATE-" + std::string(rest.substr(0, 5)));
    }
  }

  static void AddUnique(std::vector<std::string>& v, std::string s) {
    if (v.size() < 8 && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
  }

  bool python_ = false;
  std::vector<std::string> frames_;
  std::vector<std::string> python_frames_;
  std::vector<std::string> exceptions_;
  std::vector<std::string> codes_;
};

}  // namespace

void MaskInto(std::string_view input, MaskedText& out, size_t max_tokens) {
  out.Clear();
  // Room for the usual case up front: words of ~6 bytes, masked text no longer than the input.
  const size_t expect = std::min(max_tokens, input.size() / 6 + 4);
  out.tokens.reserve(expect);
  out.raw.reserve(expect);
  out.text.reserve(input.size() + 8);
  Masker(input, out, max_tokens).Run();
}

std::string ErrorSignature::Text() const {
  if (empty()) return {};
  return exception + "|" + frames + "|" + codes;
}

ErrorSignature ExtractSignature(std::string_view title, std::string_view body) {
  // Without a body there is nothing but the title, which the template already describes.
  if (Trim(body).empty()) return {};
  constexpr size_t kMaxBody = size_t{32} * 1024;
  SignatureScanner scanner;
  scanner.Scan(body.substr(0, kMaxBody), /*frames=*/true);
  scanner.Scan(title, /*frames=*/false);
  return scanner.Finish();
}

}  // namespace causeloop::cluster::internal
