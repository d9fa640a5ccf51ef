#include "pgparity/applier/catalog/server_defaults.h"

namespace pgparity::applier {

Result<std::string> ReadDefaultTimeZone(const conn::ConnParams& params, const std::string& side) {
  PGPARITY_ASSIGN_OR_RETURN(conn::PgConnPtr conn, params.Connect("the " + side));
  const char* tz = PQparameterStatus(conn.get(), "TimeZone");
  if (tz == nullptr) return Status::Unavailable("the " + side + " did not report its TimeZone");
  return std::string(tz);
}

Result<std::string> ReadDefaultTimeZone(const conn::PgSession& session, const std::string& side) {
  conn::ConnParams params;
  conn::PgConninfoPtr info(PQconninfo(session.get()));
  for (const PQconninfoOption* o = info.get(); o && o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string_view value = o->val;
    if (std::string_view(o->keyword) == "options" && value.ends_with(conn::kPinnedServerOptions)) {
      value.remove_suffix(conn::kPinnedServerOptions.size());
      while (value.ends_with(' ')) value.remove_suffix(1);
      if (value.empty()) continue;
    }
    params.Set(o->keyword, value);
  }
  return ReadDefaultTimeZone(params, side);
}

}  // namespace pgparity::applier
