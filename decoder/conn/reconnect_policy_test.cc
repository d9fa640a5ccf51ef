#include "pgparity/conn/reconnect_policy.h"

#include <gtest/gtest.h>

namespace pgparity::conn {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectPolicyTest, ExponentialWithCap) {
  ReconnectOptions o;
  o.initial_delay = milliseconds(100);
  o.max_delay = milliseconds(1000);
  o.multiplier = 2;
  o.jitter = 0;
  ReconnectPolicy p(o);
  EXPECT_EQ(*p.NextDelay(), milliseconds(100));
  EXPECT_EQ(*p.NextDelay(), milliseconds(200));
  EXPECT_EQ(*p.NextDelay(), milliseconds(400));
  EXPECT_EQ(*p.NextDelay(), milliseconds(800));
  EXPECT_EQ(*p.NextDelay(), milliseconds(1000));
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(*p.NextDelay(), milliseconds(1000));
  p.Reset();
  EXPECT_EQ(*p.NextDelay(), milliseconds(100));
}

TEST(ReconnectPolicyTest, MaxAttempts) {
  ReconnectOptions o;
  o.max_attempts = 2;
  o.jitter = 0;
  ReconnectPolicy p(o);
  EXPECT_TRUE(p.NextDelay().has_value());
  EXPECT_TRUE(p.NextDelay().has_value());
  EXPECT_FALSE(p.NextDelay().has_value());
  EXPECT_EQ(p.attempts(), 2);
}

TEST(ReconnectPolicyTest, JitterStaysInBounds) {
  ReconnectOptions o;
  o.initial_delay = milliseconds(1000);
  o.max_delay = milliseconds(1500);
  o.multiplier = 1;
  o.jitter = 0.25;
  ReconnectPolicy p(o, /*seed=*/42);
  bool varied = false;
  milliseconds first = *p.NextDelay();
  for (int i = 0; i < 200; ++i) {
    milliseconds d = *p.NextDelay();
    EXPECT_GE(d, milliseconds(750));
    EXPECT_LE(d, milliseconds(1250));
    varied |= d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(ReconnectPolicyTest, OnlyUnavailableIsTransient) {
  EXPECT_TRUE(ReconnectPolicy::IsTransient(Status::Unavailable("server restarting")));
  EXPECT_FALSE(ReconnectPolicy::IsTransient(Status::OK()));
  EXPECT_FALSE(ReconnectPolicy::IsTransient(Status::Unauthenticated("bad password")));
  EXPECT_FALSE(ReconnectPolicy::IsTransient(Status::NotFound("slot")));
  EXPECT_FALSE(ReconnectPolicy::IsTransient(Status::FailedPrecondition("slot lost")));
}

}  // namespace
}  // namespace pgparity::conn
