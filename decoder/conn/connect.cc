#include "pgparity/conn/connect.h"

#include <string>

namespace pgparity::conn {

Result<ConnParams> ParseServerDsn(std::string_view dsn, std::string_view flag,
                                  std::string_view command) {
  Result<ConnParams> params = ConnParams::Parse(dsn);
  if (!params.ok()) {
    return Status::InvalidArgument("--" + std::string(flag) + ": " +
                                   std::string(params.status().message()) +
                                   " — e.g. 'host=... port=5432 dbname=... user=...'");
  }
  if (!params->Get("connect_timeout")) params->Set("connect_timeout", kDefaultConnectTimeout);
  if (!params->Get("application_name")) {
    params->Set("application_name", "pgparity " + std::string(command));
  }
  return params;
}

Result<PgSession> ConnectSession(const ConnParams& params, std::string_view side) {
  Result<PgSession> session = PgSession::Connect(params);
  if (!session.ok()) {
    return session.status().WithMessage("cannot connect to the " + std::string(side) + " (" +
                                        std::string(session.status().message()) + ")");
  }
  return session;
}

}  // namespace pgparity::conn
