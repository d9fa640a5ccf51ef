// The SQL that creates a generated schema: the source's and the target's
// (other column order, widened types, extra and dropped columns, another
// partition layout), and which relations the publication lists.
#pragma once

#include <string>
#include <vector>

#include "corpus/schema.h"

namespace pgparity::corpus {

std::string SourceDdl(const Schema& schema);
std::string TargetDdl(const Schema& schema);

// The relations the publication lists for `table`: the table itself, or
// its leaves when it is partitioned and not published via its root.
std::vector<std::string> PublishedNames(const Schema& schema, const Table& table);

// The published table every phase adds one row to, so a report can be
// told to include a phase (its source_rows for this table).
inline constexpr const char* kMarkerTable = "corpus_marker";

}  // namespace pgparity::corpus
