#include "pgparity/applier/cutover/sequence_copy.h"

#include <map>

#include "pgparity/applier/catalog/sequences.h"

namespace pgparity::applier {

namespace {

// Every sequence of the source, readable there and present and readable on
// the target; otherwise the error naming the first that is not.
Status CheckCopyable(const std::vector<SequenceState>& source,
                     const std::map<std::string, SequenceState>& target) {
  for (const auto& s : source) {
    if (!s.readable) {
      return Status::PermissionDenied("cannot read sequence " + s.qualified +
                                      " on the source: GRANT SELECT ON SEQUENCE " + s.qualified +
                                      " to the cutover role");
    }
    auto it = target.find(s.qualified);
    if (it == target.end()) {
      return Status::FailedPrecondition("sequence " + s.qualified +
                                        " does not exist on the target: create it there");
    }
    if (!it->second.readable) {
      return Status::PermissionDenied("cannot read sequence " + s.qualified +
                                      " on the target: GRANT SELECT, UPDATE ON SEQUENCE " +
                                      s.qualified + " to the cutover role");
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<SequenceCopied>> CopySequences(conn::PgSession& source, conn::PgSession& target,
                                                  int64_t margin) {
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SequenceState> on_source, ReadSequences(source));
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SequenceState> before, ReadSequences(target));
  std::map<std::string, SequenceState> on_target;
  for (auto& s : before) on_target.emplace(s.qualified, std::move(s));
  PGPARITY_RETURN_IF_ERROR(CheckCopyable(on_source, on_target));
  std::vector<SequenceCopied> copied;
  for (const auto& s : on_source) {
    SequenceCopied c{s.qualified, s.last_value, on_target[s.qualified].last_value, {}, false};
    if (s.last_value && !(c.target_before && *c.target_before >= *s.last_value + margin)) {
      // The name as a regclass parameter: never spliced into the SQL.
      PGPARITY_RETURN_IF_ERROR(target
                                   .Query("SELECT setval($1::regclass, $2::bigint, true)",
                                          {s.qualified, std::to_string(*s.last_value + margin)})
                                   .status());
      c.set = true;
    }
    copied.push_back(std::move(c));
  }
  PGPARITY_ASSIGN_OR_RETURN(std::vector<SequenceState> after, ReadSequences(target));
  std::map<std::string, std::optional<int64_t>> read_back;
  for (const auto& s : after) read_back[s.qualified] = s.last_value;
  for (auto& c : copied) {
    c.target_after = read_back[c.sequence];
    if (c.set && c.target_after != *c.source_value + margin) {
      return Status::Internal("sequence " + c.sequence + " on the target reads " +
                              (c.target_after ? std::to_string(*c.target_after) : "NULL") +
                              " after setval to " + std::to_string(*c.source_value + margin));
    }
  }
  return copied;
}

}  // namespace pgparity::applier
