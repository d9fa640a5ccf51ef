// The cutover's JSON report (docs/cli.md, "cutover").
#include <nlohmann/json.hpp>

#include "pgparity/applier/cutover/cutover.h"

namespace pgparity::applier {

namespace {

nlohmann::json OptionalInt(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json PhasesJson(const std::vector<CutoverPhase>& phases) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : phases) {
    out.push_back({{"name", p.name},
                   {"started", p.started},
                   {"ended", p.ended},
                   {"seconds", p.seconds},
                   {"outcome", p.outcome},
                   {"detail", p.detail}});
  }
  return out;
}

nlohmann::json SequencesJson(const std::vector<SequenceCopied>& sequences) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : sequences) {
    out.push_back({{"sequence", s.sequence},
                   {"source_value", OptionalInt(s.source_value)},
                   {"target_before", OptionalInt(s.target_before)},
                   {"target_after", OptionalInt(s.target_after)},
                   {"set", s.set}});
  }
  return out;
}

}  // namespace

std::string CutoverReportJson(const CutoverReport& r) {
  nlohmann::json doc = {{"status", r.status.empty() ? "running" : r.status},
                        {"current_phase", r.current_phase},
                        {"failed_phase", r.failed_phase},
                        {"reason", r.reason},
                        {"divergent", r.divergent},
                        {"phases", PhasesJson(r.phases)},
                        {"fence_lsn", r.fence_lsn},
                        {"terminated_sessions", r.terminated_sessions},
                        {"window_seconds", r.window_seconds},
                        {"pre_check_change_rows", r.pre_check_change_rows},
                        {"final_check_rows", r.final_check_rows},
                        {"divergent_rows", r.final_check_divergent},
                        {"sequences", SequencesJson(r.sequences)},
                        {"restored", r.restored},
                        {"notes", r.notes},
                        {"plan", r.plan},
                        {"canary", nullptr}};
  if (r.canary) doc["canary"] = nlohmann::json::parse(CanaryReportJson(*r.canary, r.canary_check));
  return doc.dump(1) + "\n";
}

}  // namespace pgparity::applier
