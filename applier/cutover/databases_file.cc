// The [databases] entry of a PgBouncer config file: found, rewritten and
// restored exactly as PgBouncer itself reads the file, so that what we write
// is what RELOAD loads.
//
// The syntax, from PgBouncer's source (1.18 = current master here):
// - lib/usual/cfparser.c (parse_ini_file): leading whitespace is skipped;
//   a line starting with '#' or ';' is a comment (only at the start: there
//   are no trailing comments); "%include FILE"; "[name]" opens a section;
//   otherwise a key — in single quotes, or a run of [A-Za-z0-9_.*-] — then
//   blanks, '=', blanks, and the value: the rest of the line with trailing
//   whitespace dropped. Section and key names compare case-sensitively.
// - src/loader.c (cstr_get_pair / cstr_get_key / cstr_get_value): the value
//   of a [databases] entry is pairs "key=value" separated by spaces (only
//   ' ' counts as whitespace there); blanks may surround '='; a value is
//   either a run of non-space characters or single-quoted with '' standing
//   for one quote; empty values are refused; the character right after a
//   closing quote is consumed as the separator.
// - src/loader.c (parse_database): keys compare case-sensitively ("host",
//   "port", "dbname", "user", ...).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "pgparity/applier/cutover/pgbouncer.h"
#include "pgparity/file_util.h"

namespace pgparity::applier {

namespace {

bool IsSpace(char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }
bool IsBareKeyChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) != 0 || std::strchr("_.-*", ch) != nullptr;
}

// One pair of a connect string with where its value's text (quotes
// included) lies in the string, so a rewrite can splice in place.
struct RawPair {
  ConnectStringPair pair;
  size_t value_begin = 0;
  size_t value_end = 0;
};

// Reads a quoted value starting after the opening quote at `pos`
// (cstr_unquote_value); the position after the closing quote.
Result<size_t> ReadQuoted(std::string_view text, size_t pos, std::string& out) {
  while (true) {
    if (pos >= text.size()) return Status::InvalidArgument("unterminated quoted value");
    if (text[pos] == '\'') {
      if (pos + 1 < text.size() && text[pos + 1] == '\'') {
        out += '\'';
        pos += 2;
        continue;
      }
      return pos + 1;
    }
    out += text[pos++];
  }
}

// cstr_get_pair, keeping offsets. `pos` is at a non-space character.
Result<RawPair> ReadPair(std::string_view text, size_t& pos) {
  RawPair raw;
  const size_t key_begin = pos;
  while (pos < text.size() && text[pos] != '=' && text[pos] != ' ') ++pos;
  raw.pair.key = std::string(text.substr(key_begin, pos - key_begin));
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos >= text.size() || text[pos] != '=' || raw.pair.key.empty()) {
    return Status::InvalidArgument("expected key=value at offset " + std::to_string(key_begin));
  }
  ++pos;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  raw.value_begin = pos;
  if (pos < text.size() && text[pos] == '\'') {
    PGPARITY_ASSIGN_OR_RETURN(pos, ReadQuoted(text, pos + 1, raw.pair.value));
  } else {
    while (pos < text.size() && text[pos] != ' ') raw.pair.value += text[pos++];
  }
  raw.value_end = pos;
  if (pos < text.size()) ++pos;  // the separator (PgBouncer cuts the string there)
  if (raw.pair.value.empty()) {
    return Status::InvalidArgument("empty value for " + raw.pair.key);
  }
  return raw;
}

Result<std::vector<RawPair>> ParseRaw(std::string_view text) {
  std::vector<RawPair> pairs;
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) return pairs;
    PGPARITY_ASSIGN_OR_RETURN(RawPair raw, ReadPair(text, pos));
    pairs.push_back(std::move(raw));
  }
}

// Where db's value lies in a config file's text.
struct EntrySpan {
  size_t begin = 0;
  size_t end = 0;
  int line = 0;
};

// The key of an ini line starting at `p` (cfparser's rules), "" when the
// line holds none; `p` is left after it.
std::string ReadIniKey(std::string_view line, size_t& p) {
  if (p < line.size() && line[p] == '\'') {
    const size_t close = line.find('\'', p + 1);
    if (close == std::string_view::npos) return "";
    std::string key(line.substr(p + 1, close - p - 1));
    p = close + 1;
    return key;
  }
  const size_t begin = p;
  while (p < line.size() && IsBareKeyChar(line[p])) ++p;
  return std::string(line.substr(begin, p - begin));
}

// The value span of `key = value` on `line` if it is an entry for `db`.
std::optional<std::pair<size_t, size_t>> EntryValue(std::string_view line, size_t p,
                                                    std::string_view db) {
  if (ReadIniKey(line, p) != db) return std::nullopt;
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  if (p >= line.size() || line[p] != '=') return std::nullopt;
  ++p;
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  size_t end = line.size();
  while (end > p && IsSpace(line[end - 1])) --end;
  return std::make_pair(p, end);
}

// Finds db's entry in the [databases] section of `text`.
Result<std::optional<EntrySpan>> FindEntry(std::string_view text, std::string_view db,
                                           const std::string& path) {
  std::optional<EntrySpan> found;
  std::string section;
  size_t start = 0;
  for (int line_no = 1; start < text.size(); ++line_no) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    size_t p = 0;
    while (p < line.size() && IsSpace(line[p])) ++p;
    if (p < line.size() && line[p] == '[') {
      const size_t close = line.find(']', p);
      if (close != std::string_view::npos) section = line.substr(p + 1, close - p - 1);
    } else if (section == "databases" && p < line.size() && line[p] != '#' && line[p] != ';' &&
               line[p] != '%') {
      if (auto v = EntryValue(line, p, db)) {
        if (found) {
          return Status::InvalidArgument(
              path + ": database \"" + std::string(db) + "\" has two entries (lines " +
              std::to_string(found->line) + " and " + std::to_string(line_no) +
              ") — keep one, then run cutover again");
        }
        found = EntrySpan{start + v->first, start + v->second, line_no};
      }
    }
    start = nl + 1;
  }
  return found;
}

// `value` with every `key`'s value replaced by `quoted` (the rest of the
// text untouched), or " key=quoted" appended when the key is absent.
Result<std::string> WithValue(std::string_view value, std::string_view key,
                              std::string_view quoted) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<RawPair> pairs, ParseRaw(value));
  std::string out(value);
  bool present = false;
  // Back to front: a replacement never moves the offsets of earlier pairs.
  for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) {
    if (it->pair.key != key) continue;
    present = true;
    out.replace(it->value_begin, it->value_end - it->value_begin, quoted);
  }
  if (!present) out += " " + std::string(key) + "=" + std::string(quoted);
  return out;
}

// Writes all of `text` to `fd`.
Status WriteAll(int fd, std::string_view text, const std::string& what) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot write " + what + ": " + std::strerror(errno));
    text.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// The temporary file's content, mode and owner (the owner when we may: as
// root, so that PgBouncer's unprivileged user still reads it), then fsync.
// mkstemp creates 0600, which PgBouncer's user could not read.
Status FillTemporary(int fd, const std::string& tmp, std::string_view text,
                     const struct stat& original) {
  PGPARITY_RETURN_IF_ERROR(WriteAll(fd, text, tmp));
  if (::fchmod(fd, original.st_mode & 07777) != 0) {
    return Status::IOError("cannot chmod " + tmp + ": " + std::strerror(errno));
  }
  if (::fchown(fd, original.st_uid, original.st_gid) != 0 && errno != EPERM) {
    return Status::IOError("cannot chown " + tmp + ": " + std::strerror(errno));
  }
  if (::fsync(fd) != 0) return Status::IOError("cannot fsync " + tmp + ": " + std::strerror(errno));
  return Status::OK();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IOError("cannot read PgBouncer's databases file " + path + ": " +
                           std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  return text.str();
}

}  // namespace

Result<std::vector<ConnectStringPair>> ParseConnectString(std::string_view text) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<RawPair> raw, ParseRaw(text));
  std::vector<ConnectStringPair> pairs;
  pairs.reserve(raw.size());
  for (RawPair& r : raw) pairs.push_back(std::move(r.pair));
  return pairs;
}

Result<std::string> QuoteConnectStringValue(std::string_view value) {
  if (value.empty()) {
    return Status::InvalidArgument("an empty value cannot stand in a PgBouncer connect string");
  }
  if (value.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos) {
    return Status::InvalidArgument(
        "a line break or NUL cannot stand in a PgBouncer connect string");
  }
  // Quote anything beyond the characters host names, ports and plain
  // database names use: quoting is always understood, bare text only when it
  // has no space, no leading quote and no whitespace the ini parser trims.
  const bool bare = std::all_of(value.begin(), value.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
           std::strchr("_.-/:,@+", ch) != nullptr;
  });
  if (bare) return std::string(value);
  std::string quoted = "'";
  for (char ch : value) {
    if (ch == '\'') quoted += '\'';
    quoted += ch;
  }
  return quoted + "'";
}

DatabasesFile::DatabasesFile(std::string path, std::string db, std::string original,
                             size_t value_begin, size_t value_end)
    : path_(std::move(path)),
      db_(std::move(db)),
      original_(std::move(original)),
      value_begin_(value_begin),
      value_end_(value_end),
      connect_string_(original_.substr(value_begin_, value_end_ - value_begin_)) {}

Result<DatabasesFile> DatabasesFile::Open(std::string path, std::string db) {
  PGPARITY_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  PGPARITY_ASSIGN_OR_RETURN(std::optional<EntrySpan> span, FindEntry(text, db, path));
  if (!span) {
    return Status::NotFound("no entry for database \"" + db + "\" in the [databases] section of " +
                            path + " — give the file PgBouncer's config %includes for it");
  }
  const std::string_view value =
      std::string_view(text).substr(span->begin, span->end - span->begin);
  if (Result<std::vector<RawPair>> pairs = ParseRaw(value); !pairs.ok()) {
    return Status::InvalidArgument(
        path + " line " + std::to_string(span->line) + ": the entry of " + db +
        " does not parse as PgBouncer reads it: " + std::string(pairs.status().message()));
  }
  return DatabasesFile(std::move(path), std::move(db), std::move(text), span->begin, span->end);
}

Status DatabasesFile::PointAt(std::string_view host, int port, std::string_view dbname) {
  if (port <= 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) + " is not a TCP port");
  }
  const std::string port_text = std::to_string(port);
  const std::pair<std::string_view, std::string_view> wanted[] = {
      {"host", host}, {"port", port_text}, {"dbname", dbname}};
  std::string value = original_.substr(value_begin_, value_end_ - value_begin_);
  for (const auto& [key, new_value] : wanted) {
    Result<std::string> quoted = QuoteConnectStringValue(new_value);
    if (!quoted.ok()) {
      return Status::InvalidArgument(std::string(key) + " for " + path_ + ": " +
                                     std::string(quoted.status().message()));
    }
    PGPARITY_ASSIGN_OR_RETURN(value, WithValue(value, key, *quoted));
  }
  std::string text = original_;
  text.replace(value_begin_, value_end_ - value_begin_, value);
  PGPARITY_RETURN_IF_ERROR(Replace(text));
  connect_string_ = std::move(value);
  return Status::OK();
}

Status DatabasesFile::Restore() {
  PGPARITY_RETURN_IF_ERROR(Replace(original_));
  connect_string_ = original_.substr(value_begin_, value_end_ - value_begin_);
  return Status::OK();
}

Status DatabasesFile::Replace(const std::string& text) const {
  // A symlinked file (a mounted config) is replaced where it really lives,
  // not by a regular file in place of the link.
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::canonical(path_, ec);
  if (ec) return Status::IOError("cannot resolve " + path_ + ": " + ec.message());
  struct stat original {};
  if (::stat(target.c_str(), &original) != 0) {
    return Status::IOError("cannot stat " + target.string() + ": " + std::strerror(errno));
  }
  std::string tmp = target.string() + ".pgparity-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return Status::IOError("cannot create a temporary file beside " + target.string() + ": " +
                           std::strerror(errno));
  }
  Status s = FillTemporary(fd, tmp, text, original);
  if (::close(fd) != 0 && s.ok()) {
    s = Status::IOError("cannot close " + tmp + ": " + std::strerror(errno));
  }
  if (s.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
    s = Status::IOError("cannot rename " + tmp + " over " + target.string() + ": " +
                        std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());  // nothing half-created: the original is untouched
    return s;
  }
  return SyncDirectory(target.parent_path());
}

}  // namespace pgparity::applier
