// What a new session on a server gets by default, as opposed to pgparity's
// own sessions, which pin their output settings (TimeZone UTC among them)
// in the startup packet.
#ifndef PGPARITY_APPLIER_CATALOG_SERVER_DEFAULTS_H_
#define PGPARITY_APPLIER_CATALOG_SERVER_DEFAULTS_H_

#include <string>

#include "pgparity/conn/pg_handle.h"
#include "pgparity/result.h"

namespace pgparity::applier {

// The TimeZone a new session gets from the server, database and role
// settings (and PGTZ in this process's environment). `params` must not
// carry pgparity's pinned options. One short connection; no statement runs:
// the server reports TimeZone in its ParameterStatus messages.
Result<std::string> ReadDefaultTimeZone(const conn::ConnParams& params, const std::string& side);

// The same for the server `session` is connected to: a second connection
// with the session's parameters minus pgparity's pinned server options
// (appended last to the user's own, which stay). `session`'s own TimeZone
// says nothing: its startup packet pinned UTC, so pg_settings shows UTC as
// setting and reset_val, and pg_file_settings is for superusers only.
Result<std::string> ReadDefaultTimeZone(const conn::PgSession& session, const std::string& side);

}  // namespace pgparity::applier

#endif  // PGPARITY_APPLIER_CATALOG_SERVER_DEFAULTS_H_
