// The corpus' libpq session: tests/support's SqlClient (statements with
// text parameters, rows as text with NULL kept apart from "", the output
// settings pgparity pins).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "support/sql_client.h"

namespace pgparity::corpus {

using Value = std::optional<std::string>;
using Row = testing::Row;
using Session = testing::SqlClient;
using testing::SessionDefault;

}  // namespace pgparity::corpus
