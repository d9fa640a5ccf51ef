// RecordPrinter: how values print, and `pgparity dump [--full-values]`.
#include "record_printer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "pgparity/record/record_file.h"
#include "support/pg_server.h"

namespace pgparity::cli {
namespace {

using pgparity::v1::Record;
using pgparity::v1::Value;

// 40 MiB of 'a'. Its MD5, computed outside pgparity with
//   head -c 41943040 /dev/zero | tr '\0' a | md5sum
// (the same as: printf '%*s' 41943040 '' | tr ' ' a | md5sum).
constexpr size_t kHugeBytes = 40 * 1024 * 1024;
constexpr char kHugeMd5[] = "1886e67cf8783e89ce6ddc5bb09a3944";

Value Text(std::string text) {
  Value v;
  v.set_kind(Value::TEXT);
  v.set_text(std::move(text));
  return v;
}

// A Relation public.t (id, note), then an INSERT of (1, note): the records
// `pgparity record` writes for one row.
std::vector<Record> InsertRecords(const Value& note) {
  Record relation;
  auto* r = relation.mutable_relation();
  r->set_relid(16384);
  r->set_schema("public");
  r->set_name("t");
  r->set_replica_identity("d");
  r->add_columns()->set_name("id");
  r->add_columns()->set_name("note");
  Record change;
  auto* c = change.mutable_change();
  c->set_lsn(0x16B4F00);
  c->set_relid(16384);
  c->set_relation("public.t");
  c->set_operation(pgparity::v1::Change::INSERT);
  *c->mutable_new_tuple()->add_values() = Text("1");
  *c->mutable_new_tuple()->add_values() = note;
  return {relation, change};
}

// The line RecordPrinter prints for the INSERT of `note`.
std::string ChangeLine(const Value& note, RecordPrinterOptions options = {}) {
  std::ostringstream out;
  RecordPrinter printer(out, options);
  const auto records = InsertRecords(note);
  printer.Print(records[0]);
  out.str("");
  printer.Print(records[1]);
  return out.str();
}

std::string Line(const std::string& printed_note) {
  return "0/16B4F00 INSERT public.t: id='1' note=" + printed_note + " [-]\n";
}

TEST(RecordPrinterTest, ShortValuePrintsWholeAndQuoted) {
  EXPECT_EQ(ChangeLine(Text("it's short")), Line("'it''s short'"));
}

TEST(RecordPrinterTest, ValueOfExactlyTheLimitPrintsWhole) {
  const std::string text(kDefaultMaxValueBytes, 'b');
  EXPECT_EQ(ChangeLine(Text(text)), Line("'" + text + "'"));
}

TEST(RecordPrinterTest, HugeValueIsCutWithItsLengthAndMd5) {
  const std::string line = ChangeLine(Text(std::string(kHugeBytes, 'a')));
  EXPECT_EQ(line, Line("'" + std::string(kDefaultMaxValueBytes, 'a') + "'...(41943040 bytes, md5 " +
                       kHugeMd5 + ")"));
}

TEST(RecordPrinterTest, OneByteOverTheLimitIsCut) {
  // MD5 of 201 x 'c': printf 'c%.0s' $(seq 201) | md5sum
  const std::string line = ChangeLine(Text(std::string(kDefaultMaxValueBytes + 1, 'c')));
  EXPECT_EQ(line, Line("'" + std::string(kDefaultMaxValueBytes, 'c') +
                       "'...(201 bytes, md5 e2f1e865c99a5f251c6a493ff9d6e62f)"));
}

TEST(RecordPrinterTest, QuotesInTheKeptPrefixAreDoubled) {
  // 300 quotes: the kept 200 print as 400, the length is the value's.
  // MD5: printf "'%.0s" $(seq 300) | md5sum
  const std::string line = ChangeLine(Text(std::string(300, '\'')));
  EXPECT_EQ(line, Line("'" + std::string(2 * kDefaultMaxValueBytes, '\'') +
                       "'...(300 bytes, md5 916d4c2d262d52761026ddc350e3ba1b)"));
}

TEST(RecordPrinterTest, TwoByteCharacterAtTheCutIsNotSplit) {
  // "x" then 150 x "é" (2 bytes each): bytes 199-200 are one "é", so the
  // cut at 200 backs off to 199 bytes, "x" and 99 x "é".
  // MD5: printf 'x'"$(printf 'é%.0s' $(seq 150))" | md5sum
  std::string text = "x";
  for (int i = 0; i < 150; ++i) text += "\xC3\xA9";
  std::string kept = "x";
  for (int i = 0; i < 99; ++i) kept += "\xC3\xA9";
  EXPECT_EQ(ChangeLine(Text(text)),
            Line("'" + kept + "'...(301 bytes, md5 16f762ca936b7fea3a325aaaf476c0ce)"));
}

TEST(RecordPrinterTest, FourByteCharacterAtTheCutIsNotSplit) {
  // "ab" then 80 x U+1F600 (4 bytes each): bytes 198-201 are one character,
  // so the cut backs off to 198 bytes, "ab" and 49 characters.
  // MD5: printf 'ab'"$(printf '\xf0\x9f\x98\x80%.0s' $(seq 80))" | md5sum
  std::string text = "ab";
  for (int i = 0; i < 80; ++i) text += "\xF0\x9F\x98\x80";
  std::string kept = "ab";
  for (int i = 0; i < 49; ++i) kept += "\xF0\x9F\x98\x80";
  EXPECT_EQ(ChangeLine(Text(text)),
            Line("'" + kept + "'...(322 bytes, md5 31f5f09f59a13e7e67d8c2c7ae87fd53)"));
}

TEST(RecordPrinterTest, Utf8PrefixLengthBacksOffAtMostThreeBytes) {
  EXPECT_EQ(Utf8PrefixLength("abc", 5), 3u);
  EXPECT_EQ(Utf8PrefixLength("ab\xC3\xA9", 3), 2u);
  EXPECT_EQ(Utf8PrefixLength("ab\xC3\xA9", 4), 4u);
  // Malformed: continuation bytes only. The cut stays within 3 bytes of the
  // limit instead of running back to the start.
  EXPECT_EQ(Utf8PrefixLength(std::string(10, '\x80'), 8), 5u);
}

TEST(RecordPrinterTest, BinaryValuePrintsItsLengthAndMd5) {
  Value v;
  v.set_kind(Value::BINARY);
  v.set_binary(std::string("\x00\x01\x02\xff", 4));
  // MD5: printf '\x00\x01\x02\xff' | md5sum
  EXPECT_EQ(ChangeLine(v), Line("binary:4B(md5 0416dab819887333af831f8c765ac2ae)"));
}

TEST(RecordPrinterTest, FullValuesPrintsAHugeValueWhole) {
  const std::string text(kHugeBytes, 'a');
  const std::string line = ChangeLine(Text(text), {.max_value_bytes = 0});
  EXPECT_EQ(line.size(), Line("'" + text + "'").size());
  EXPECT_TRUE(line == Line("'" + text + "'"));  // no 80 MB diff on failure
}

// The flag, end to end: a recording with one huge value, dumped by the
// pgparity binary with and without --full-values.
class DumpCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("record_printer_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "huge.rec").string();
    auto writer = record::RecordFileWriter::Create(path_);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    Record header;
    header.mutable_header()->set_format_version(2);
    header.mutable_header()->set_slot("s");
    ASSERT_TRUE((*writer)->Write(header).ok());
    for (const auto& r : InsertRecords(Text(std::string(kHugeBytes, 'a')))) {
      ASSERT_TRUE((*writer)->Write(r).ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The INSERT's line of `pgparity dump FILE <flags>`.
  std::string DumpedChange(const std::string& flags) {
    std::string out;
    const int rc = testing::RunCommand(
        testing::ShellQuote(PGPARITY_CLI) + " dump " + testing::ShellQuote(path_) + flags, &out);
    EXPECT_EQ(rc, 0) << out.substr(0, 1000);
    const size_t at = out.find("0/16B4F00 INSERT");
    if (at == std::string::npos) return "(no INSERT line) " + out.substr(0, 1000);
    return out.substr(at);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(DumpCommandTest, CutsByDefault) {
  EXPECT_EQ(DumpedChange(""), Line("'" + std::string(kDefaultMaxValueBytes, 'a') +
                                   "'...(41943040 bytes, md5 " + kHugeMd5 + ")"));
}

TEST_F(DumpCommandTest, FullValuesPrintsWhole) {
  const std::string line = DumpedChange(" --full-values");
  EXPECT_EQ(line.size(), Line("'" + std::string(kHugeBytes, 'a') + "'").size());
  EXPECT_TRUE(line == Line("'" + std::string(kHugeBytes, 'a') + "'"));  // no 80 MB diff on failure
}

}  // namespace
}  // namespace pgparity::cli
