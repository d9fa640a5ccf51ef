// Diagnose's rules in their order of certainty, and the JSON form's nulls,
// on hand-built provenance (no server).
#include <gtest/gtest.h>

#include <string>

#include "pgparity/applier/provenance/provenance.h"
#include "pgparity/applier/report/row_provenance.h"

namespace pgparity::applier {
namespace {

// A healthy subscription "s" and a target row last written by it.
RowProvenance Healthy() {
  RowProvenance p;
  p.subscription.name = "s";
  p.subscription.health = SubscriptionHealth{};
  p.subscription.health->enabled = true;
  p.subscription.health->apply_worker_running = true;
  p.subscription.health->apply_errors = 0;
  p.subscription.health->sync_errors = 0;
  p.subscription.remote_lsn = wire::Lsn(0x200);
  p.subscription.slot_wal_status = "reserved";
  p.target.origin = TargetOrigin::kSubscription;
  p.target.xmin = "700";
  p.target.commit_time = "2026-12-01T10:00:00.000000Z";
  p.target.origin_name = "pg_16400";
  return p;
}

SourceCommit Commit(uint64_t end, bool applied) {
  return SourceCommit{wire::Lsn(end - 8), wire::Lsn(end), 9, wire::Timestamp(0), 'U', applied};
}

std::string D(const RowProvenance& p) { return Diagnose(p, RowDivergence::kDiffers); }

TEST(DiagnoseTest, LocalWriteComesFirst) {
  RowProvenance p = Healthy();
  p.target.origin = TargetOrigin::kLocal;
  p.subscription.health->enabled = false;
  p.source_commits.push_back(Commit(0x300, false));
  EXPECT_EQ(D(p),
            "local write on the target at 2026-12-01T10:00:00.000000Z (xid 700), not by "
            "replication");
}

TEST(DiagnoseTest, DisabledThenLostSlotThenUnappliedCommit) {
  RowProvenance p = Healthy();
  p.source_commits.push_back(Commit(0x300, false));
  p.subscription.health->apply_errors = 2;
  p.subscription.slot_wal_status = "lost";
  p.subscription.health->enabled = false;
  EXPECT_EQ(D(p), "subscription s is disabled: the target applies none of the source's changes");
  p.subscription.health->enabled = true;
  EXPECT_EQ(D(p),
            "the subscription's slot on the source is lost: the target cannot receive the "
            "source's changes");
  p.subscription.slot_wal_status = "reserved";
  EXPECT_EQ(D(p),
            "the target has not applied commit 0/300 (xid 9, update at "
            "2000-01-01T00:00:00.000000Z) yet");
}

TEST(DiagnoseTest, ErrorsThenNoWorkerThenOtherOrigin) {
  RowProvenance p = Healthy();
  p.source_commits.push_back(Commit(0x100, true));
  p.subscription.health->apply_errors = 2;
  p.subscription.health->sync_errors = 1;
  p.subscription.health->apply_worker_running = false;
  p.target.origin = TargetOrigin::kOtherOrigin;
  EXPECT_EQ(D(p), "2 apply errors and 1 sync error on subscription s since it was created");
  p.subscription.health->apply_errors = 0;
  p.subscription.health->sync_errors = 0;
  EXPECT_EQ(D(p), "no apply worker runs for subscription s");
  p.subscription.health->apply_worker_running = true;
  p.target.origin_name = "pg_999";
  EXPECT_EQ(D(p),
            "written on the target by replication origin pg_999 at 2026-12-01T10:00:00.000000Z "
            "(xid 700), not by subscription s");
}

TEST(DiagnoseTest, OtherwiseUnknownSayingWhatIsKnown) {
  RowProvenance p = Healthy();
  EXPECT_EQ(D(p).rfind("unknown: last written by subscription s at 2026-12-01T10:00:00", 0), 0u);
  p.target = TargetWrite{};
  p.target.note = "track_commit_timestamp is off on the target: the origin is unknown";
  EXPECT_EQ(D(p), "unknown: track_commit_timestamp is off on the target: the origin is unknown");
  EXPECT_EQ(ProvenanceLine(p), "provenance: " + p.diagnosis);
}

TEST(DiagnoseTest, JsonHasEveryKeyWithNullsForTheUnknown) {
  RowProvenance p;
  p.subscription.name = "s";
  p.subscription.unknown.push_back("health: permission denied");
  p.source_commits.push_back(
      SourceCommit{wire::Lsn(1), wire::Lsn(2), 3, wire::Timestamp(0), 'T', std::nullopt});
  p.diagnosis = D(p);
  const auto j = ProvenanceJson(p);
  EXPECT_EQ(j["target"]["origin"], "unknown");
  EXPECT_TRUE(j["target"]["xmin"].is_null());
  EXPECT_EQ(j["source_commits"][0]["operation"], "truncate");
  EXPECT_EQ(j["source_commits"][0]["end_lsn"], "0/2");
  EXPECT_TRUE(j["source_commits"][0]["applied_on_target"].is_null());
  for (const char* key : {"enabled", "apply_worker_running", "latest_end_lsn", "apply_error_count",
                          "sync_error_count", "stats_reset", "remote_lsn", "slot_wal_status"}) {
    EXPECT_TRUE(j["subscription"][key].is_null()) << key;
  }
  EXPECT_EQ(j["subscription"]["unknown"][0], "health: permission denied");
  EXPECT_EQ(j["diagnosis"], p.diagnosis);
}

}  // namespace
}  // namespace pgparity::applier
