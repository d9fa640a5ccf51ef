#include "pgparity/applier/catalog/table_spec.h"

namespace pgparity::applier {

ComparedColumns::ComparedColumns(const TableSpec& spec) {
  const bool typed = spec.types.size() == spec.columns.size();
  bool all = true;
  for (size_t i = 0; i < spec.columns.size(); ++i) all &= spec.Compared(i);
  if (all) {
    names_ = spec.columns;
    if (typed) types_ = spec.types;
    return;
  }
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (!spec.Compared(i)) continue;
    names_.push_back(spec.columns[i]);
    if (typed) types_.push_back(spec.types[i]);
    positions_.push_back(i);
  }
  scratch_.resize(positions_.size());
}

std::span<const digest::ColumnValue> ComparedColumns::Project(
    std::span<const digest::ColumnValue> all) {
  if (positions_.empty() && names_.size() == all.size()) return all;
  for (size_t i = 0; i < positions_.size(); ++i) scratch_[i] = all[positions_[i]];
  return scratch_;
}

digest::RowDigester ComparedColumns::MakeDigester(const TableSpec& spec) const {
  return digest::RowDigester(spec.schema, spec.name, std::span<const std::string>(names_));
}

}  // namespace pgparity::applier
