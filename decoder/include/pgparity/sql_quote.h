// Quoting of identifiers and literals, one function per rule, for every
// piece of SQL or replication-command text pgparity writes. Values from a
// database are quoted by these (or passed as parameters), never spliced.
#ifndef PGPARITY_SQL_QUOTE_H_
#define PGPARITY_SQL_QUOTE_H_

#include <string>
#include <string_view>

namespace pgparity {

// A SQL identifier, always double-quoted ("a""b"): exact for any name.
std::string QuoteIdent(std::string_view name);

// A schema-qualified relation, both parts double-quoted ("s"."t").
std::string QuoteQualifiedName(std::string_view schema, std::string_view name);

// A SQL string literal safe whatever standard_conforming_strings is: E'...'
// with backslashes doubled when the text has one, '...' otherwise.
std::string QuoteLiteral(std::string_view text);

// A string literal with quotes doubled and nothing else ('it''s'): what the
// replication command grammar accepts (it knows no E'...'), and what a
// psql user with standard_conforming_strings on (the default) pastes.
std::string QuoteStandardLiteral(std::string_view text);

// An identifier as a person would write it: bare when it is a lower-case
// name that needs no quotes, double-quoted otherwise. For messages and fix
// texts; keywords are not checked, so never for SQL pgparity runs itself.
std::string IdentForDisplay(std::string_view name);

}  // namespace pgparity

#endif  // PGPARITY_SQL_QUOTE_H_
