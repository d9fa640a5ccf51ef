// The random schema of one seed: a fixed set of table templates (each
// owning some of the required features) with random extra columns,
// nullability, column order on the target, dropped columns, extra target
// columns, identities, TOAST settings and partition layouts.
#pragma once

#include <string>

#include "corpus/rng.h"
#include "corpus/schema.h"

namespace pgparity::corpus {

struct SchemaOptions {
  bool via_root = false;  // publish_via_partition_root (the seed's parity decides)
  std::string collation;  // for collated text; must exist on both servers
  // Widened target types (int4 -> int8, varchar(20) -> text,
  // numeric(10,2) -> numeric(12,2)).
  bool widen = true;
  // Converted target types (docs/types.md, class `conversion`) of some
  // non-key columns: timestamp <-> timestamptz, real -> double precision,
  // json -> jsonb (never on keyless tables: the PG16 apply worker cannot
  // compare json rows there).
  bool convert = true;
};

Schema GenerateSchema(Rng& rng, const SchemaOptions& options);

// The source and target SQL types of a kind (collation for kCollatedText).
std::pair<std::string, std::string> TypesOf(Kind kind, const SchemaOptions& options);

}  // namespace pgparity::corpus
