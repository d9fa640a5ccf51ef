#include "pgparity/conn/replication_command.h"

#include <gtest/gtest.h>

namespace pgparity::conn {
namespace {

using wire::Lsn;

TEST(CreateLogicalSlotCommandTest, Pg14UsesLegacySyntax) {
  EXPECT_EQ(*CreateLogicalSlotCommand(140011, "s", false, SnapshotAction::kExport),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput EXPORT_SNAPSHOT");
  EXPECT_EQ(*CreateLogicalSlotCommand(140011, "s", true, SnapshotAction::kNothing),
            "CREATE_REPLICATION_SLOT \"s\" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT");
}

TEST(CreateLogicalSlotCommandTest, Pg15UsesOptionList) {
  EXPECT_EQ(*CreateLogicalSlotCommand(150000, "s", false, SnapshotAction::kExport),
            "CREATE_REPLICATION_SLOT \"s\" LOGICAL pgoutput (SNAPSHOT 'export')");
  EXPECT_EQ(*CreateLogicalSlotCommand(160004, "s", true, SnapshotAction::kNothing),
            "CREATE_REPLICATION_SLOT \"s\" TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
}

TEST(CreateLogicalSlotCommandTest, RejectsBadNames) {
  EXPECT_TRUE(CreateLogicalSlotCommand(140000, "", false, SnapshotAction::kExport)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      CreateLogicalSlotCommand(140000, std::string_view("a\0b", 3), false, SnapshotAction::kExport)
          .status()
          .IsInvalidArgument());
}

TEST(DropSlotCommandTest, Wait) {
  EXPECT_EQ(*DropSlotCommand("s", false), "DROP_REPLICATION_SLOT \"s\"");
  EXPECT_EQ(*DropSlotCommand("s", true), "DROP_REPLICATION_SLOT \"s\" WAIT");
}

TEST(StartReplicationCommandTest, Pg14Defaults) {
  StreamOptions o;
  o.publication_names = {"pub"};
  EXPECT_EQ(*StartReplicationCommand(140011, "s", Lsn(0x16B3748), o),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/16B3748 (proto_version '2', "
            "publication_names '\"pub\"', streaming 'on', messages 'true')");
}

TEST(StartReplicationCommandTest, Pg13HasProtocolOneOnly) {
  StreamOptions o;
  o.publication_names = {"pub"};
  EXPECT_EQ(*StartReplicationCommand(130010, "s", Lsn(), o),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/0 (proto_version '1', "
            "publication_names '\"pub\"')");
  o.proto_version = 2;
  EXPECT_TRUE(StartReplicationCommand(130010, "s", Lsn(), o).status().IsInvalidArgument());
}

TEST(StartReplicationCommandTest, QuotesPublicationList) {
  StreamOptions o;
  o.publication_names = {"a", "Mixed Case", "q\"uote", "it's"};
  o.streaming = false;
  o.messages = false;
  EXPECT_EQ(*StartReplicationCommand(160000, "s", Lsn(0x100000000), o),
            "START_REPLICATION SLOT \"s\" LOGICAL 1/0 (proto_version '2', "
            "publication_names '\"a\",\"Mixed Case\",\"q\"\"uote\",\"it''s\"')");
}

TEST(StartReplicationCommandTest, ProtocolVersionLimits) {
  StreamOptions o;
  o.publication_names = {"p"};
  o.proto_version = 3;
  EXPECT_TRUE(StartReplicationCommand(140000, "s", Lsn(), o).status().IsInvalidArgument());
  EXPECT_TRUE(StartReplicationCommand(150000, "s", Lsn(), o).ok());
  o.proto_version = 4;
  EXPECT_TRUE(StartReplicationCommand(150000, "s", Lsn(), o).status().IsInvalidArgument());
  EXPECT_TRUE(StartReplicationCommand(160000, "s", Lsn(), o).ok());
  o.proto_version = 1;
  // Protocol 1 can't stream: the option is left out.
  EXPECT_EQ(*StartReplicationCommand(160000, "s", Lsn(), o),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/0 (proto_version '1', "
            "publication_names '\"p\"', messages 'true')");
}

TEST(StartReplicationCommandTest, RejectsMissingPublications) {
  StreamOptions o;
  EXPECT_TRUE(StartReplicationCommand(140000, "s", Lsn(), o).status().IsInvalidArgument());
  o.publication_names = {""};
  EXPECT_TRUE(StartReplicationCommand(140000, "s", Lsn(), o).status().IsInvalidArgument());
}

TEST(ParseGucMillisecondsTest, Units) {
  using std::chrono::milliseconds;
  EXPECT_EQ(*ParseGucMilliseconds("0"), milliseconds(0));
  EXPECT_EQ(*ParseGucMilliseconds("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseGucMilliseconds("2s"), milliseconds(2000));
  EXPECT_EQ(*ParseGucMilliseconds("1min"), milliseconds(60000));
  EXPECT_EQ(*ParseGucMilliseconds("2h"), milliseconds(7200000));
  EXPECT_EQ(*ParseGucMilliseconds("1d"), milliseconds(86400000));
  EXPECT_EQ(*ParseGucMilliseconds("1500"), milliseconds(1500));
  EXPECT_FALSE(ParseGucMilliseconds("").ok());
  EXPECT_FALSE(ParseGucMilliseconds("1 fortnight").ok());
  EXPECT_FALSE(ParseGucMilliseconds("-1s").ok());
  EXPECT_FALSE(ParseGucMilliseconds("99999999999999999d").ok());
}

}  // namespace
}  // namespace pgparity::conn
