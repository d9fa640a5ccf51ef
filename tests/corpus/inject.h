// Divergences made on the TARGET, in rows the workload is then told to
// leave alone (frozen in its model): NULL -> '' and '' -> NULL, NULL ->
// value and value -> NULL, one byte of a TOASTed value, one array element,
// another value, a deleted row, an extra row with a reserved (negative)
// key, a changed or duplicated row of a table without a key. Which rows
// and columns comes from the seed; what they amount to is the oracle's
// business, not this file's.
#pragma once

#include <string>
#include <vector>

#include "corpus/rng.h"
#include "corpus/schema.h"
#include "corpus/session.h"
#include "corpus/workload.h"

namespace pgparity::corpus {

// Makes the divergences; returns one line per divergence made.
std::vector<std::string> InjectDivergences(Session& target, const Schema& schema,
                                           Workload& workload, Rng& rng);

}  // namespace pgparity::corpus
