// The watermark rules of Feedback, without a server: the updates it would
// send are captured from its Sender. (The live behaviour against PostgreSQL
// is in replication_connection_test.cc.)
#include "pgparity/conn/feedback.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <vector>

namespace pgparity::conn {
namespace {

using std::chrono::milliseconds;
using wire::Lsn;

class FeedbackTest : public ::testing::Test {
 protected:
  Feedback Make(Lsn start) {
    return Feedback(
        io_.get_executor(), [this](const wire::StandbyStatusUpdate& u) { sent_.push_back(u); },
        start, FeedbackOptions{milliseconds(0), milliseconds(3600000)});
  }
  static wire::PrimaryKeepalive Keepalive(uint64_t wal_end, bool reply) {
    wire::PrimaryKeepalive k;
    k.wal_end = Lsn(wal_end);
    k.reply_requested = reply;
    return k;
  }

  boost::asio::io_context io_;
  std::vector<wire::StandbyStatusUpdate> sent_;
};

TEST_F(FeedbackTest, StartsAtTheStartPosition) {
  Feedback f = Make(Lsn(1000));
  f.SendNow();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].flushed, Lsn(1000));
  EXPECT_EQ(sent_[0].written, Lsn(1000));
  EXPECT_EQ(sent_[0].applied, Lsn(1000));
}

TEST_F(FeedbackTest, RepliesAtOnceWhenAsked) {
  Feedback f = Make(Lsn(1000));
  f.OnKeepalive(Keepalive(2000, false));
  EXPECT_TRUE(sent_.empty());
  f.OnKeepalive(Keepalive(2000, true));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(f.replies_requested(), 1u);
  EXPECT_EQ(sent_[0].written, Lsn(2000));
  // Not idle: the keepalive's wal end is not confirmed.
  EXPECT_EQ(sent_[0].flushed, Lsn(1000));
}

TEST_F(FeedbackTest, FlushedIsOnlyWhatWasMarkedDurable) {
  Feedback f = Make(Lsn(1000));
  wire::XLogData x;
  x.wal_end = Lsn(5000);
  f.OnXLogData(x);
  f.MarkProcessed(Lsn(4000));
  f.SendNow();
  EXPECT_EQ(sent_.back().written, Lsn(5000));
  EXPECT_EQ(sent_.back().flushed, Lsn(1000));
  EXPECT_EQ(sent_.back().applied, Lsn(4000));
  f.MarkDurable(Lsn(3000));
  f.SendNow();
  EXPECT_EQ(sent_.back().flushed, Lsn(3000));
  f.MarkDurable(Lsn(2000));  // never backwards
  f.SendNow();
  EXPECT_EQ(sent_.back().flushed, Lsn(3000));
}

TEST_F(FeedbackTest, IdleAcknowledgesKeepaliveWalEnd) {
  Feedback f = Make(Lsn(1000));
  f.MarkDurable(Lsn(3000));
  f.SetIdle(true);
  f.OnKeepalive(Keepalive(9000, true));
  EXPECT_EQ(sent_.back().flushed, Lsn(9000));
  EXPECT_EQ(f.flushed(), Lsn(9000));
}

TEST_F(FeedbackTest, KeepaliveSeenWhileBusyIsNeverAcknowledgedLater) {
  Feedback f = Make(Lsn(1000));
  f.SetIdle(false);
  f.OnKeepalive(Keepalive(9000, false));  // a transaction is open
  f.MarkDurable(Lsn(3000));
  f.SetIdle(true);
  f.SendNow();
  EXPECT_EQ(sent_.back().flushed, Lsn(3000));
  // An idle keepalive afterwards may be.
  f.OnKeepalive(Keepalive(9500, false));
  f.SendNow();
  EXPECT_EQ(sent_.back().flushed, Lsn(9500));
  // Going busy again keeps what was acknowledged (it stays true).
  f.SetIdle(false);
  f.OnKeepalive(Keepalive(12000, false));
  f.SendNow();
  EXPECT_EQ(sent_.back().flushed, Lsn(9500));
}

TEST_F(FeedbackTest, PeriodicUpdates) {
  Feedback f(
      io_.get_executor(), [this](const wire::StandbyStatusUpdate& u) { sent_.push_back(u); },
      Lsn(1), FeedbackOptions{milliseconds(400), milliseconds(10000)});
  EXPECT_EQ(f.interval(), milliseconds(200));
  f.Start();
  io_.run_for(milliseconds(1100));
  f.Stop();
  EXPECT_GE(sent_.size(), 4u);
  EXPECT_LE(sent_.size(), 6u);
}

TEST(FeedbackIntervalTest, HalfTheTimeoutCappedAndFloored) {
  EXPECT_EQ(Feedback::IntervalFor({milliseconds(60000), milliseconds(10000)}), milliseconds(10000));
  EXPECT_EQ(Feedback::IntervalFor({milliseconds(2000), milliseconds(10000)}), milliseconds(1000));
  EXPECT_EQ(Feedback::IntervalFor({milliseconds(0), milliseconds(10000)}), milliseconds(10000));
  EXPECT_EQ(Feedback::IntervalFor({milliseconds(50), milliseconds(10000)}), milliseconds(100));
}

}  // namespace
}  // namespace pgparity::conn
