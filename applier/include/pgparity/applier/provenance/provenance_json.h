// The JSON form of a RowProvenance (docs/provenance.md): the value of a
// divergent row's "provenance" key in the verify report,
//   {"target": {...}, "source_commits": [...], "subscription": {...},
//    "diagnosis": "..."}.
// Every key is always present, in the order above (an ordered_json, as the
// report is); what is not known is null.
#ifndef PGPARITY_APPLIER_PROVENANCE_PROVENANCE_JSON_H_
#define PGPARITY_APPLIER_PROVENANCE_PROVENANCE_JSON_H_

#include <nlohmann/json.hpp>

#include "pgparity/applier/provenance/provenance.h"

namespace pgparity::applier {

nlohmann::ordered_json ProvenanceJson(const RowProvenance& p);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_PROVENANCE_PROVENANCE_JSON_H_
