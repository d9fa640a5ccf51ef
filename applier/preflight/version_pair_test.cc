// The pair of majors' findings: the supported range, and each limit of an
// old source named with its version.
#include "preflight/version_pair.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pgparity::applier::preflight {
namespace {

std::vector<std::string> Objects(const std::vector<Finding>& findings) {
  std::vector<std::string> objects;
  for (const Finding& f : findings) objects.push_back(f.object);
  return objects;
}

const Finding& Find(const std::vector<Finding>& findings, const std::string& object) {
  for (const Finding& f : findings) {
    if (f.object == object) return f;
  }
  throw std::runtime_error("no finding about " + object);
}

TEST(VersionPairTest, SupportedPairsAreInfoOnly) {
  for (const auto& [source, target] : std::vector<std::pair<int, int>>{
           {14, 16}, {15, 17}, {16, 18}, {17, 18}, {16, 16}, {18, 18}, {12, 15}}) {
    const auto findings = VersionPairFindings({std::to_string(source) + ".1", source * 10000 + 1},
                                              {std::to_string(target) + ".2", target * 10000 + 2});
    for (const Finding& f : findings) {
      EXPECT_EQ(f.check, "server_version");
      EXPECT_EQ(f.severity, Severity::kInfo) << source << " -> " << target << ": " << f.detail;
    }
    EXPECT_EQ(Find(findings, "source").detail, "PostgreSQL " + std::to_string(source) + ".1");
    EXPECT_EQ(Find(findings, "target").detail, "PostgreSQL " + std::to_string(target) + ".2");
  }
}

TEST(VersionPairTest, UnsupportedPairsAreAWarningSayingWhy) {
  auto source_detail = [](int source, int target) {
    const auto findings = VersionPairFindings({std::to_string(source) + ".0", source * 10000},
                                              {std::to_string(target) + ".0", target * 10000});
    const Finding& f = Find(findings, "source");
    EXPECT_EQ(f.severity, Severity::kWarning) << f.detail;
    return f.detail;
  };
  EXPECT_EQ(source_detail(11, 16),
            "PostgreSQL 11.0 -> PostgreSQL 16.0: sources of PostgreSQL 12 to 18 are supported");
  EXPECT_EQ(source_detail(13, 14),
            "PostgreSQL 13.0 -> PostgreSQL 14.0: targets of PostgreSQL 15 to 18 are supported");
  EXPECT_EQ(source_detail(18, 17),
            "PostgreSQL 18.0 -> PostgreSQL 17.0: the target is older than the source");
  EXPECT_EQ(source_detail(17, 19),
            "PostgreSQL 17.0 -> PostgreSQL 19.0: targets of PostgreSQL 15 to 18 are supported");
}

TEST(VersionPairTest, EachSourceMajorNamesWhatItLacks) {
  auto objects = [](int source) {
    return Objects(
        VersionPairFindings({std::to_string(source) + ".3", source * 10000 + 3}, {"16.4", 160004}));
  };
  EXPECT_EQ(objects(12), (std::vector<std::string>{"source", "target", "source wal_status",
                                                   "source partitions", "source pgoutput"}));
  EXPECT_EQ(objects(13), (std::vector<std::string>{"source", "target", "source pgoutput"}));
  EXPECT_EQ(objects(14), (std::vector<std::string>{"source", "target"}));
  const auto twelve = VersionPairFindings({"12.22", 120022}, {"16.14", 160014});
  EXPECT_EQ(Find(twelve, "source wal_status").detail.rfind("unknown on PostgreSQL 12.22 ", 0), 0u);
  EXPECT_NE(Find(twelve, "source pgoutput").detail.find("protocol 1 on PostgreSQL 12.22"),
            std::string::npos);
}

}  // namespace
}  // namespace pgparity::applier::preflight
