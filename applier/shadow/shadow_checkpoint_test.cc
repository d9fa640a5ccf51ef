// The shadow checkpoint's format (shadow_checkpoint.h) pinned down: a small
// ShadowState built by hand is written and compared with the bytes format 05
// has — format 04's plus each table's compared columns' types; 04's are
// format 03's plus the row store's name and each table's in-store byte;
// 03's are format 02's, captured from the writer before the format
// moved into one file, with 03's magic and kept values written by hand and
// the XXH64 recomputed with libxxhash — so a refactoring cannot change a
// byte unnoticed; read back, and written again. Format 03 and 04 files are
// read as the same state.
//
// Every map of the state holds at most one entry: abseil's tables iterate in
// an order that depends on heap addresses, and the format writes them in
// iteration order, so only single entries give fixed bytes.
#include "pgparity/applier/shadow/shadow_checkpoint.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/testing/stream_builder.h"
#include "pgparity/applier/shadow/shadow_state.h"
#include "pgparity/core/relation_cache.h"
#include "pgparity/wire/big_endian.h"
#include "shadow/testing_files.h"
#include "shadow/testing_rows.h"

namespace pgparity::applier {
namespace {

using core::testing::Row;  // "<null>" NULL, "<u>" unchanged TOAST
using core::testing::Tuple;
using digest::ColumnValue;

using testing::ReadBytes;
using testing::Values;

// public.accounts (id int PK, note text, body text, n int not compared),
// partitioned, toast_tuple_target 128: rows of 16 bytes of text keep their
// toastable values.
TableSpec AccountsSpec() {
  TableSpec s;
  s.schema = "public";
  s.name = "accounts";
  s.relkind = 'p';
  s.partitions = {"public.accounts_1", "public.accounts_2"};
  s.columns = {"id", "note", "body", "n"};
  s.types = {"integer", "text", "text", "integer"};
  s.key_positions = {0};
  s.integer_key = true;
  s.toastable = {false, true, true, false};
  s.toast_tuple_target = 128;
  s.compare.resize(4);
  s.compare[3].rule = CompareRule::kNotCompared;
  return s;
}

// public.bag (v text), REPLICA IDENTITY FULL without a key: a multiset.
TableSpec BagSpec() {
  TableSpec s;
  s.schema = "public";
  s.name = "bag";
  s.columns = {"v"};
  s.types = {"text"};
  s.toastable = {true};
  s.replica_identity = 'f';
  return s;
}

// public.empty (k text PK): no rows.
TableSpec EmptySpec() {
  TableSpec s;
  s.schema = "public";
  s.name = "empty";
  s.columns = {"k"};
  s.types = {"text"};
  s.key_positions = {0};
  s.toastable = {true};
  return s;
}

std::vector<TableSpec> Specs() { return {AccountsSpec(), BagSpec(), EmptySpec()}; }

const CheckpointMeta kMeta{"pgparity_audit", "my_publication", "7301234567890123456"};
constexpr wire::Lsn kLsn(0x16B3748);

// One change of public.accounts: an UPDATE without an old tuple (`row` is
// the new one) or a DELETE by key (`row` is the key).
Status ChangeAccounts(TableShadow& table, core::ChangeOp op, const Row& row, uint64_t lsn) {
  wire::Relation r;
  r.relid = 16384;
  r.namespace_name = "public";
  r.name = "accounts";
  r.columns = {{1, "id", 23, -1}, {0, "note", 25, -1}, {0, "body", 25, -1}, {0, "n", 23, -1}};
  core::RelationCache cache;
  const core::RelationInfo& rel = cache.Apply(r);
  const wire::TupleBuilder t = Tuple(row);
  const bool update = op == core::ChangeOp::kUpdate;
  const core::Change c{op,
                       rel,
                       update ? wire::OldTupleKind::kNone : wire::OldTupleKind::kKey,
                       update ? wire::TupleView{} : t.view(),
                       update ? t.view() : wire::TupleView{},
                       wire::Lsn(lsn),
                       7,
                       7};
  std::vector<std::string> touched;
  return table.Apply(c, touched);
}

// Fills `state` (Specs()) with one entry in each of a table's maps:
// accounts: an integer key (7, big: its values kept, one NULL), a key kept
// as a RowKey ("08" is not an integer's canonical text), an unresolved row
// ("009", updated with an unchanged TOAST value it did not keep) and an
// anomaly (a delete of a key it does not hold); bag: one row twice.
void FillGoldenState(ShadowState& state) {
  TableShadow& accounts = state.table(0);
  for (const Row& row : {Row{"7", "<null>", "a body of some length", "1"}, Row{"08", "x", "y", "2"},
                         Row{"009", "p", "q", "3"}}) {
    accounts.AddScannedRow(Values(row));
  }
  ASSERT_TRUE(
      ChangeAccounts(accounts, core::ChangeOp::kUpdate, {"009", "<u>", "r", "4"}, 0x16B3000).ok());
  ASSERT_TRUE(ChangeAccounts(accounts, core::ChangeOp::kDelete,
                             {"99", "<null>", "<null>", "<null>"}, 0x16B3100)
                  .ok());
  const Row dup{"dup"};
  state.table(1).AddScannedRow(Values(dup));
  state.table(1).AddScannedRow(Values(dup));
}

std::string Hex(std::string_view bytes) {
  std::string out;
  char buf[3];
  for (const char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

// The checkpoint of FillGoldenState, as format 05 writes it: integers are
// big-endian u64, strings a u64 length and the bytes, digests hi then lo.
constexpr std::string_view kGoldenHex =
    // magic "PGPSHD05"
    "5047505348443035"
    // LSN 0/16B3748
    "00000000016b3748"
    // slot: 'pgparity_audit'
    "000000000000000e70677061726974795f6175646974"
    // publication: 'my_publication'
    "000000000000000e6d795f7075626c69636174696f6e"
    // system id: '7301234567890123456'
    "000000000000001337333031323334353637383930313233343536"
    // row store checkpoint: '' (no table spilled)
    "0000000000000000"
    // table: 'public.accounts'
    "000000000000000f7075626c69632e6163636f756e7473"
    // compared columns: 3
    "0000000000000003"
    //   compared: 'id'
    "00000000000000026964"
    //   compared: 'note'
    "00000000000000046e6f7465"
    //   compared: 'body'
    "0000000000000004626f6479"
    // types: 3
    "0000000000000003"
    //   type: 'integer'
    "0000000000000007696e7465676572"
    //   type: 'text'
    "000000000000000474657874"
    //   type: 'text'
    "000000000000000474657874"
    // partitions: 2
    "0000000000000002"
    //   partition: 'public.accounts_1'
    "00000000000000117075626c69632e6163636f756e74735f31"
    //   partition: 'public.accounts_2'
    "00000000000000117075626c69632e6163636f756e74735f32"
    // rows: 2
    "0000000000000002"
    // sum
    "ec257abe41ca3f547697a0df9ed702d1"
    // anomalies: 1
    "0000000000000001"
    // first anomaly: 'delete of a key not in the shadow at LSN 0/16B3100'
    "000000000000003264656c657465206f662061206b6579206e6f7420696e2074"
    "686520736861646f77206174204c534e20302f31364233313030"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 2
    "0000000000000002"
    //   key 'V2:08', digest
    "000000000000000556323a3038ff6d395a7d17487ea806dc7cef39bb22"
    //   key 'V1:7', digest
    "000000000000000456313a37ecb84163c4b2f6d5ce90c462af9d47af"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 1
    "0000000000000001"
    //   key 'V1:7', kept values (24 bytes): 'N', 'V' 21 'a body of some length'
    "000000000000000456313a370000000000000018"
    "4e56156120626f6479206f6620736f6d65206c656e677468"
    // unresolved: 1
    "0000000000000001"
    //   key: 'V3:009'
    "000000000000000656333a303039"
    // table: 'public.bag'
    "000000000000000a7075626c69632e626167"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'v'
    "000000000000000176"
    // types: 1
    "0000000000000001"
    //   type: 'text'
    "000000000000000474657874"
    // partitions: 0
    "0000000000000000"
    // rows: 2
    "0000000000000002"
    // sum
    "04a33698005d1edd7c17609d2ca7d944"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 1
    "0000000000000001"
    //   digest, count 2
    "02519b4c002e8f6ebe0bb04e9653eca20000000000000002"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // table: 'public.empty'
    "000000000000000c7075626c69632e656d707479"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'k'
    "00000000000000016b"
    // types: 1
    "0000000000000001"
    //   type: 'text'
    "000000000000000474657874"
    // partitions: 0
    "0000000000000000"
    // rows: 0
    "0000000000000000"
    // sum
    "00000000000000000000000000000000"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // XXH64 of all the above (the writer's; format 03's below was computed
    // with libxxhash, and the reader accepts it)
    "7afcdb493b12f10f";

// The same state as format 04 wrote it (before the compared columns' types):
// still read.
constexpr std::string_view kGolden04Hex =
    // magic "PGPSHD04"
    "5047505348443034"
    // LSN 0/16B3748
    "00000000016b3748"
    // slot: 'pgparity_audit'
    "000000000000000e70677061726974795f6175646974"
    // publication: 'my_publication'
    "000000000000000e6d795f7075626c69636174696f6e"
    // system id: '7301234567890123456'
    "000000000000001337333031323334353637383930313233343536"
    // row store checkpoint: '' (no table spilled)
    "0000000000000000"
    // table: 'public.accounts'
    "000000000000000f7075626c69632e6163636f756e7473"
    // compared columns: 3
    "0000000000000003"
    //   compared: 'id'
    "00000000000000026964"
    //   compared: 'note'
    "00000000000000046e6f7465"
    //   compared: 'body'
    "0000000000000004626f6479"
    // partitions: 2
    "0000000000000002"
    //   partition: 'public.accounts_1'
    "00000000000000117075626c69632e6163636f756e74735f31"
    //   partition: 'public.accounts_2'
    "00000000000000117075626c69632e6163636f756e74735f32"
    // rows: 2
    "0000000000000002"
    // sum
    "ec257abe41ca3f547697a0df9ed702d1"
    // anomalies: 1
    "0000000000000001"
    // first anomaly: 'delete of a key not in the shadow at LSN 0/16B3100'
    "000000000000003264656c657465206f662061206b6579206e6f7420696e2074"
    "686520736861646f77206174204c534e20302f31364233313030"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 2
    "0000000000000002"
    //   key 'V2:08', digest
    "000000000000000556323a3038ff6d395a7d17487ea806dc7cef39bb22"
    //   key 'V1:7', digest
    "000000000000000456313a37ecb84163c4b2f6d5ce90c462af9d47af"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 1
    "0000000000000001"
    //   key 'V1:7', kept values (24 bytes): 'N', 'V' 21 'a body of some length'
    "000000000000000456313a370000000000000018"
    "4e56156120626f6479206f6620736f6d65206c656e677468"
    // unresolved: 1
    "0000000000000001"
    //   key: 'V3:009'
    "000000000000000656333a303039"
    // table: 'public.bag'
    "000000000000000a7075626c69632e626167"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'v'
    "000000000000000176"
    // partitions: 0
    "0000000000000000"
    // rows: 2
    "0000000000000002"
    // sum
    "04a33698005d1edd7c17609d2ca7d944"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 1
    "0000000000000001"
    //   digest, count 2
    "02519b4c002e8f6ebe0bb04e9653eca20000000000000002"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // table: 'public.empty'
    "000000000000000c7075626c69632e656d707479"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'k'
    "00000000000000016b"
    // partitions: 0
    "0000000000000000"
    // rows: 0
    "0000000000000000"
    // sum
    "00000000000000000000000000000000"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // in store: 0 (the rows follow)
    "00"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // XXH64 of all the above (format 04's writer's)
    "eb2b220d7adf27c0";

// The same state as format 03 wrote it (pgparity before the row store):
// still read.
constexpr std::string_view kGolden03Hex =
    // magic "PGPSHD03"
    "5047505348443033"
    // LSN 0/16B3748
    "00000000016b3748"
    // slot: 'pgparity_audit'
    "000000000000000e70677061726974795f6175646974"
    // publication: 'my_publication'
    "000000000000000e6d795f7075626c69636174696f6e"
    // system id: '7301234567890123456'
    "000000000000001337333031323334353637383930313233343536"
    // table: 'public.accounts'
    "000000000000000f7075626c69632e6163636f756e7473"
    // compared columns: 3
    "0000000000000003"
    //   compared: 'id'
    "00000000000000026964"
    //   compared: 'note'
    "00000000000000046e6f7465"
    //   compared: 'body'
    "0000000000000004626f6479"
    // partitions: 2
    "0000000000000002"
    //   partition: 'public.accounts_1'
    "00000000000000117075626c69632e6163636f756e74735f31"
    //   partition: 'public.accounts_2'
    "00000000000000117075626c69632e6163636f756e74735f32"
    // rows: 2
    "0000000000000002"
    // sum
    "ec257abe41ca3f547697a0df9ed702d1"
    // anomalies: 1
    "0000000000000001"
    // first anomaly: 'delete of a key not in the shadow at LSN 0/16B3100'
    "000000000000003264656c657465206f662061206b6579206e6f7420696e2074"
    "686520736861646f77206174204c534e20302f31364233313030"
    // keyed rows: 2
    "0000000000000002"
    //   key 'V2:08', digest
    "000000000000000556323a3038ff6d395a7d17487ea806dc7cef39bb22"
    //   key 'V1:7', digest
    "000000000000000456313a37ecb84163c4b2f6d5ce90c462af9d47af"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 1
    "0000000000000001"
    //   key 'V1:7', kept values (24 bytes): 'N', 'V' 21 'a body of some length'
    "000000000000000456313a370000000000000018"
    "4e56156120626f6479206f6620736f6d65206c656e677468"
    // unresolved: 1
    "0000000000000001"
    //   key: 'V3:009'
    "000000000000000656333a303039"
    // table: 'public.bag'
    "000000000000000a7075626c69632e626167"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'v'
    "000000000000000176"
    // partitions: 0
    "0000000000000000"
    // rows: 2
    "0000000000000002"
    // sum
    "04a33698005d1edd7c17609d2ca7d944"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 1
    "0000000000000001"
    //   digest, count 2
    "02519b4c002e8f6ebe0bb04e9653eca20000000000000002"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // table: 'public.empty'
    "000000000000000c7075626c69632e656d707479"
    // compared columns: 1
    "0000000000000001"
    //   compared: 'k'
    "00000000000000016b"
    // partitions: 0
    "0000000000000000"
    // rows: 0
    "0000000000000000"
    // sum
    "00000000000000000000000000000000"
    // anomalies: 0
    "0000000000000000"
    // first anomaly: ''
    "0000000000000000"
    // keyed rows: 0
    "0000000000000000"
    // multiset entries: 0
    "0000000000000000"
    // kept rows: 0
    "0000000000000000"
    // unresolved: 0
    "0000000000000000"
    // XXH64 of all the above
    "a7cc94c4f1a26f9d";

std::string WriteGolden(const std::string& name) {
  ShadowState state(Specs());
  FillGoldenState(state);
  const std::string path = ::testing::TempDir() + "/" + name;
  auto lk = state.Lock();
  const Status written = WriteCheckpoint(state, kLsn, kMeta, path);
  EXPECT_TRUE(written.ok()) << written.ToString();
  return path;
}

TEST(ShadowCheckpointFormatTest, WritesTheBytesOfFormat05) {
  const std::string path = WriteGolden("golden.ckpt");
  EXPECT_EQ(Hex(ReadBytes(path)), kGoldenHex);
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A file of an older format read into Specs(), checked against the
// golden state and written again as format 05.
void ExpectReadAsTheGoldenState(std::string_view hex, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  {
    std::ofstream out(path, std::ios::binary);
    out << Unhex(hex);
  }
  ShadowState original(Specs());
  FillGoldenState(original);
  ShadowState back(Specs());
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path, back, meta);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  ASSERT_TRUE(at->has_value());
  EXPECT_EQ(**at, kLsn);
  for (size_t i = 0; i < original.table_count(); ++i) {
    EXPECT_EQ(back.table(i).digest(), original.table(i).digest());
    EXPECT_EQ(back.table(i).kept_rows(), original.table(i).kept_rows());
  }
  // Written again: format 05, the same state.
  auto lk = back.Lock();
  const std::vector<std::byte> bytes = EncodeCheckpoint(back, kLsn, kMeta);
  EXPECT_EQ(Hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())),
            kGoldenHex);
}

TEST(ShadowCheckpointFormatTest, ReadsFormat03AsTheSameState) {
  ExpectReadAsTheGoldenState(kGolden03Hex, "format03.ckpt");
}

// Format 04 has no types: read, whatever the columns' types are now.
TEST(ShadowCheckpointFormatTest, ReadsFormat04AsTheSameState) {
  ExpectReadAsTheGoldenState(kGolden04Hex, "format04.ckpt");
}

// An ALTER TABLE ... TYPE while audit was stopped (int to numeric(10,2)
// prints 1 as 1.00 without a change on the stream): the digests no longer
// compare, so the checkpoint is refused, naming the column, as a schema
// change — not loaded to report every row as differing.
TEST(ShadowCheckpointFormatTest, RefusesACheckpointOfAnotherTypeOfAComparedColumn) {
  const std::string path = WriteGolden("retyped.ckpt");
  std::vector<TableSpec> specs = Specs();
  specs[0].types[1] = "character varying(20)";
  ShadowState back(std::move(specs));
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path, back, meta);
  ASSERT_FALSE(at.ok());
  EXPECT_TRUE(at.status().IsSchemaChanged()) << at.status().ToString();
  EXPECT_NE(at.status().message().find(
                "column note of table public.accounts is character varying(20) on the source, "
                "but the checkpoint's digests are of text values"),
            std::string::npos)
      << at.status().ToString();
  // A column left out of the comparison (n) may change type.
  specs = Specs();
  specs[0].types[3] = "bigint";
  ShadowState other(std::move(specs));
  EXPECT_TRUE(ReadCheckpoint(path, other, meta).ok());
}

TEST(ShadowCheckpointFormatTest, ReadsBackWhatItWroteAndWritesItAgain) {
  const std::string path = WriteGolden("roundtrip.ckpt");
  ShadowState original(Specs());
  FillGoldenState(original);
  ShadowState back(Specs());
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path, back, meta);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  ASSERT_TRUE(at->has_value());
  EXPECT_EQ(**at, kLsn);
  EXPECT_EQ(meta.slot, kMeta.slot);
  EXPECT_EQ(meta.publication, kMeta.publication);
  EXPECT_EQ(meta.system_id, kMeta.system_id);
  EXPECT_EQ(back.base_point(), kLsn);
  for (size_t i = 0; i < original.table_count(); ++i) {
    const TableShadow& a = original.table(i);
    const TableShadow& b = back.table(i);
    EXPECT_EQ(b.digest(), a.digest()) << a.qualified_name();
    EXPECT_EQ(b.anomalies(), a.anomalies()) << a.qualified_name();
    EXPECT_EQ(b.first_anomaly(), a.first_anomaly()) << a.qualified_name();
    EXPECT_EQ(b.unresolved_rows(), a.unresolved_rows()) << a.qualified_name();
    EXPECT_EQ(b.spec().partitions, a.spec().partitions) << a.qualified_name();
  }
  const TableShadow& accounts = back.table(0);
  EXPECT_EQ(accounts.Find("V1:7"), original.table(0).Find("V1:7"));
  EXPECT_EQ(accounts.Find("V2:08"), original.table(0).Find("V2:08"));
  EXPECT_TRUE(accounts.IsUnresolved("V3:009"));
  const Row dup{"dup"};
  EXPECT_EQ(back.table(1).Count(original.table(1).DigestValues(Values(dup))), 2);
  // The kept values came back: an unchanged TOAST value of row 7 resolves.
  const Row update{"7", "<null>", "<u>", "5"};
  ASSERT_TRUE(ChangeAccounts(back.table(0), core::ChangeOp::kUpdate, update, 0x16B4000).ok());
  ASSERT_TRUE(ChangeAccounts(original.table(0), core::ChangeOp::kUpdate, update, 0x16B4000).ok());
  EXPECT_EQ(back.table(0).unresolved_rows(), 1u);
  EXPECT_EQ(back.table(0).digest(), original.table(0).digest());
  // Written again, the same bytes.
  const std::string again = ::testing::TempDir() + "/roundtrip-again.ckpt";
  {
    ShadowState reread(Specs());
    ASSERT_TRUE(ReadCheckpoint(path, reread, meta).ok());
    auto lk = reread.Lock();
    ASSERT_TRUE(WriteCheckpoint(reread, kLsn, kMeta, again).ok());
  }
  EXPECT_EQ(Hex(ReadBytes(again)), Hex(ReadBytes(path)));
}

TEST(ShadowCheckpointFormatTest, EncodeCheckpointIsWhatWriteCheckpointWrites) {
  ShadowState state(Specs());
  FillGoldenState(state);
  auto lk = state.Lock();
  const std::vector<std::byte> bytes = EncodeCheckpoint(state, kLsn, kMeta);
  EXPECT_EQ(Hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())),
            kGoldenHex);
}

// ---- Damaged files: every one refused with a named error, never a crash
// nor a partial load that says OK.

std::string Golden() {
  ShadowState state(Specs());
  FillGoldenState(state);
  auto lk = state.Lock();
  const std::vector<std::byte> bytes = EncodeCheckpoint(state, kLsn, kMeta);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// `body` (magic and fields) with a valid checksum after it: a damage the
// checksum does not see, which the fields themselves must catch.
std::string Sealed(std::string_view body) {
  std::string file(body);
  std::byte sum[8];
  wire::StoreBE64(sum, XXH64(body.data(), body.size(), 0));
  file.append(reinterpret_cast<const char*>(sum), sizeof sum);
  return file;
}

std::string_view Body(std::string_view file) { return file.substr(0, file.size() - 8); }

Result<wire::Lsn> Parse(std::string_view file, std::vector<TableSpec> specs = Specs()) {
  ShadowState state(std::move(specs));
  CheckpointMeta meta;
  return ParseCheckpoint(std::as_bytes(std::span(file.data(), file.size())), "test.ckpt", state,
                         meta);
}

// "<section>: <field>: " as the parser names a failure.
const std::regex kNamedField(
    R"((header|table public\.[a-z]+): [a-z_]+(\[[0-9]+\](\.[a-z_]+(\[[0-9]+\])?)?)?: )");

TEST(ShadowCheckpointDamageTest, EveryTruncatedPrefixIsDamaged) {
  const std::string golden = Golden();
  for (size_t n = 0; n < golden.size(); ++n) {
    const Result<wire::Lsn> r = Parse(std::string_view(golden).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(r.status().IsCorruption()) << n << ": " << r.status().ToString();
    EXPECT_TRUE(r.status().message().starts_with("checkpoint test.ckpt is damaged ("))
        << r.status().ToString();
  }
  ASSERT_TRUE(Parse(golden).ok());
}

TEST(ShadowCheckpointDamageTest, EveryResealedPrefixNamesTheFieldItEndsIn) {
  const std::string golden = Golden();
  const std::string_view body = Body(golden);
  for (size_t n = 8; n < body.size(); ++n) {
    const Result<wire::Lsn> r = Parse(Sealed(body.substr(0, n)));
    ASSERT_FALSE(r.ok()) << n;
    const std::string message(r.status().message());
    if (n < 16) {  // not even the magic and an LSN
      EXPECT_NE(message.find("too short for a checkpoint"), std::string::npos) << message;
      continue;
    }
    EXPECT_TRUE(std::regex_search(message, kNamedField)) << n << ": " << message;
    EXPECT_NE(message.find("need "), std::string::npos) << n << ": " << message;
    // Damage before the tables; a table section cut short (the file is
    // sealed, so not damage) reads as tables other than the shadow's.
    EXPECT_TRUE(message.find("remove the state directory") != std::string::npos ||
                message.find("the published tables changed since it was written") !=
                    std::string::npos)
        << message;
  }
}

TEST(ShadowCheckpointDamageTest, EveryTruncatedTableSectionNamesTheField) {
  ShadowState state(Specs());
  FillGoldenState(state);
  std::vector<std::byte> section;
  wire::ByteWriter out(section);
  EncodeTableSection(state.table(0), out);
  for (size_t n = 0; n < section.size(); ++n) {
    TableShadow table(AccountsSpec());
    wire::ByteReader in(std::span<const std::byte>(section).first(n));
    const Status s = ParseTableSection(in, table);
    ASSERT_FALSE(s.ok()) << n;
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_TRUE(std::regex_search(std::string(s.message()), kNamedField)) << s.ToString();
  }
  TableShadow table(AccountsSpec());
  wire::ByteReader in(section);
  ASSERT_TRUE(ParseTableSection(in, table).ok());
  EXPECT_EQ(table.digest(), state.table(0).digest());
}

TEST(ShadowCheckpointDamageTest, AFlippedChecksumByteIsDamaged) {
  const std::string golden = Golden();
  for (size_t i = golden.size() - 8; i < golden.size(); ++i) {
    std::string file = golden;
    file[i] ^= 0x20;
    const Result<wire::Lsn> r = Parse(file);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "checkpoint test.ckpt is damaged (its XXH64 does not match its bytes); remove the "
              "state directory to start over (pgparity then bootstraps again)");
  }
}

// The offset in `file` of the bytes `hex`, which must occur there once.
size_t OffsetOf(std::string_view file, std::string_view hex) {
  const std::string h = Hex(file);
  const size_t at = h.find(hex);
  EXPECT_NE(at, std::string::npos) << hex;
  EXPECT_EQ(at % 2, 0u) << hex;
  EXPECT_EQ(h.find(hex, at + 1), std::string::npos) << hex;
  return at / 2;
}

// `file` with the Int64 at `at` replaced, sealed again.
std::string WithU64(std::string_view file, size_t at, uint64_t v) {
  std::string body(Body(file));
  wire::StoreBE64(reinterpret_cast<std::byte*>(body.data() + at), v);
  return Sealed(body);
}

TEST(ShadowCheckpointDamageTest, ABadLengthOrCountNamesItsField) {
  const std::string golden = Golden();
  struct Case {
    std::string_view at_hex;  // the field's bytes and a few after, to find it
    uint64_t value;
    std::string_view message_start;
  };
  const Case cases[] = {
      // The slot's length.
      {"000000000000000e7067", 1u << 20,
       "checkpoint test.ckpt is damaged (header: slot: need 1048576 bytes at offset 24, "},
      {"000000000000000e7067", ~uint64_t{0}, "checkpoint test.ckpt is damaged (header: slot: "},
      // public.accounts' count of keyed rows.
      {"0000000000000002000000000000000556323a3038", 1000,
       "table public.accounts: keyed_rows: 1000 entries need at least 24 bytes each, "},
      // Its kept row's length of values: cut, or past the file's end.
      {"00000000000000184e56", 3,
       "table public.accounts: kept[0]: kept values: a value longer than its row or than a "
       "kept value at offset "},
      {"00000000000000184e56", 1u << 30,
       "table public.accounts: kept[0].values: need 1073741824 bytes at offset "},
      // public.bag's count of its one row: its digest no longer adds up.
      {"0000000000000002"                  // the count
       "00000000000000000000000000000000"  // no kept rows, no unresolved rows
       "000000000000000c7075626c69632e656d707479",
       3, "table public.bag: rows: the rows do not add up to the table digest (3 rows where 2 "},
      // public.accounts' count of unresolved rows: its key is read as the
      // next table's name.
      {"0000000000000001000000000000000656333a303039", 0,
       "checkpoint holds table V3:009 where public.bag was expected"},
  };
  for (const Case& c : cases) {
    const Result<wire::Lsn> r = Parse(WithU64(golden, OffsetOf(golden, c.at_hex), c.value));
    ASSERT_FALSE(r.ok()) << c.at_hex;
    EXPECT_TRUE(r.status().message().starts_with(c.message_start)) << r.status().ToString();
  }
}

TEST(ShadowCheckpointDamageTest, AnUnknownKeptValueKindIsNamed) {
  const std::string golden = Golden();
  std::string body(Body(golden));
  body[OffsetOf(golden, "00000000000000184e56") + 8] = 'X';
  const Result<wire::Lsn> r = Parse(Sealed(body));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with(
      "table public.accounts: kept[0]: kept values: an entry of unknown kind at offset "))
      << r.status().ToString();
}

// ---- Files of other tables or of an older pgparity: refused, the fix named.

TEST(ShadowCheckpointDamageTest, OtherTablesAreAChangedPublication) {
  const std::string golden = Golden();
  // A schema change: audit starts over (or says how to, audit.h).
  const std::string suffix = " (test.ckpt); the published tables changed since it was written";
  Result<wire::Lsn> swapped = Parse(golden, {BagSpec(), AccountsSpec(), EmptySpec()});
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().code(), Status::Code::kSchemaChanged);
  EXPECT_EQ(swapped.status().message(),
            "checkpoint holds table public.accounts where public.bag was expected" + suffix);
  Result<wire::Lsn> fewer = Parse(golden, {AccountsSpec(), BagSpec()});
  ASSERT_FALSE(fewer.ok());
  EXPECT_EQ(fewer.status().code(), Status::Code::kSchemaChanged);
  EXPECT_TRUE(fewer.status().message().starts_with("after the last table: 138 unexpected bytes"))
      << fewer.status().ToString();
  EXPECT_TRUE(fewer.status().message().ends_with(suffix));
  TableSpec extra = EmptySpec();
  extra.name = "extra";
  Result<wire::Lsn> more = Parse(golden, {AccountsSpec(), BagSpec(), EmptySpec(), extra});
  ASSERT_FALSE(more.ok());
  EXPECT_TRUE(more.status().message().starts_with("table public.extra: name: need 8 bytes"))
      << more.status().ToString();
  TableSpec compared = AccountsSpec();
  compared.compare.clear();  // n is compared too now
  Result<wire::Lsn> recompared = Parse(golden, {compared, BagSpec(), EmptySpec()});
  ASSERT_FALSE(recompared.ok());
  EXPECT_TRUE(recompared.status().message().starts_with(
      "the columns compared in table public.accounts changed since the checkpoint"))
      << recompared.status().ToString();
}

TEST(ShadowCheckpointDamageTest, FormatOneIsRefusedWithItsMessage) {
  const Result<wire::Lsn> r = Parse(Sealed("PGPSHD01" + std::string(40, '\0')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "checkpoint test.ckpt was written by an older pgparity (format 1); remove the state "
            "directory to start over (pgparity then bootstraps again)");
}

TEST(ShadowCheckpointDamageTest, DigestDefinitionOneIsRefusedWithItsMessage) {
  // Format 02 held row digests of digest definition 1 (docs/digest.md).
  std::string old = Golden();
  old[7] = '2';
  const Result<wire::Lsn> r = Parse(Sealed(std::string(Body(old))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "checkpoint test.ckpt holds row digests of digest definition 1 (pgparity before wide "
            "values were hashed, docs/digest.md); this pgparity computes definition 2 and cannot "
            "compare them: remove the state directory to start over (pgparity then bootstraps "
            "again)");
}

// ---- The file.

TEST(ShadowCheckpointFileTest, RoundTripsAndRefusesADamagedFile) {
  ShadowState state({BagSpec()});
  const Row row{"seven"};
  state.table(0).AddScannedRow(Values(row));
  const std::string path = ::testing::TempDir() + "/shadow.ckpt";
  {
    auto lk = state.Lock();
    ASSERT_TRUE(WriteCheckpoint(state, wire::Lsn(0x1234), {"s", "p", "1"}, path).ok());
  }
  ShadowState back({BagSpec()});
  CheckpointMeta meta;
  auto at = ReadCheckpoint(path, back, meta);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  ASSERT_TRUE(at->has_value());
  EXPECT_EQ(**at, wire::Lsn(0x1234));
  EXPECT_EQ(meta.slot, "s");
  EXPECT_EQ(back.table(0).digest(), state.table(0).digest());
  // One flipped byte anywhere: refused, the fix named.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x01;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ShadowState damaged({BagSpec()});
  auto bad = ReadCheckpoint(path, damaged, meta);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_NE(bad.status().message().find("remove the state directory"), std::string_view::npos);
  // No file: a first run.
  ShadowState fresh({BagSpec()});
  auto none = ReadCheckpoint(path + ".missing", fresh, meta);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace pgparity::applier
