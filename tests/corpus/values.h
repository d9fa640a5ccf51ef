// Random column values in their text input form, for every Kind: NULLs,
// '' and non-ASCII text, TOAST-sized text and bytea, 'NaN', '±infinity',
// arrays with NULL elements, ranges, json with its own whitespace. They go
// to the server as parameters, never spliced into SQL.
#pragma once

#include <string>

#include "corpus/rng.h"
#include "corpus/schema.h"
#include "corpus/session.h"

namespace pgparity::corpus {

// A value for `column`: NULL with some probability when it is nullable.
Value RandomValue(Rng& rng, const Column& column);
// A value of `kind` that is never NULL.
std::string RandomNonNull(Rng& rng, Kind kind);
// `chars` characters (not bytes) of mixed ASCII, punctuation and non-ASCII.
std::string RandomText(Rng& rng, size_t chars);
// A timestamptz in 2019..2023 mostly, sometimes outside or ±infinity.
std::string RandomKeyTime(Rng& rng);

}  // namespace pgparity::corpus
