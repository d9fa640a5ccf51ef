// A pgparity report (verify's --report, audit's report.json; docs/report.md)
// held against the oracle's differences: every problem in words — a row
// reported that the oracle finds equal (false positive), a divergent row
// not reported, a wrong kind or `columns` list, a wrong table or report
// status. Tables without a key are compared by their counts of missing
// and extra rows (a report names those rows by digest only).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "corpus/oracle.h"

namespace pgparity::corpus {

std::vector<std::string> CompareReport(const nlohmann::json& report, const OracleResult& oracle);

// The audit log's "per-change check: <table> <key> <kind> ..." lines that
// name a row the oracle finds equal on both sides.
std::vector<std::string> FalsePerChangeLines(const std::string& log, const OracleResult& oracle);

// source_rows of `table` in a report, -1 when absent.
int64_t ReportSourceRows(const nlohmann::json& report, const std::string& table);

}  // namespace pgparity::corpus
