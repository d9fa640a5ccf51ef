#include "pgparity/applier/server_defaults.h"

namespace pgparity::applier {

Result<std::string> ReadDefaultTimeZone(const conn::ConnParams& params, const std::string& side) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgConnPtr conn, params.Connect("the " + side));
  const char* tz = PQparameterStatus(conn.get(), "TimeZone");
  if (tz == nullptr) return Status::Unavailable("the " + side + " did not report its TimeZone");
  return std::string(tz);
}

}  // namespace pgparity::applier
