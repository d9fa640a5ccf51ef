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

// How wide a wide kind's value is (IsWide), by its text (the type's
// output, the digest's unit; docs/digest.md): kShort at most 100 bytes;
// k127, k128, k129 exactly that many bytes around the digest's 128-byte
// threshold (bytea: 126, 128, 130 — its hex text is 2 + 2n bytes);
// kInline 130 bytes to `max_inline`, stored inline when the row stays under
// 2 kB; kOutOfLine over 2,100 bytes stored (incompressible), so always
// TOASTed out of line.
enum class Width { kShort, k127, k128, k129, kInline, kOutOfLine };

// A value of a wide kind exactly that wide.
std::string WideValue(Rng& rng, Kind kind, Width width, size_t max_inline = 1000);
// Short 20%, 127/128/129 12% each, inline 20%, out of line 24%.
Width RandomWidth(Rng& rng);

// A value for `column`: NULL with some probability when it is nullable.
Value RandomValue(Rng& rng, const Column& column);
// A value of `kind` that is never NULL.
std::string RandomNonNull(Rng& rng, Kind kind);
// `chars` characters (not bytes) of mixed ASCII, punctuation and non-ASCII.
std::string RandomText(Rng& rng, size_t chars);
// A timestamptz in 2019..2023 mostly, sometimes outside or ±infinity.
std::string RandomKeyTime(Rng& rng);

}  // namespace pgparity::corpus
