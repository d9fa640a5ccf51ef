#include "pgparity/digest/digest_sql.h"

#include <algorithm>
#include <vector>

#include "pgparity/digest/row_digest.h"
#include "pgparity/sql_quote.h"

namespace pgparity::digest {

std::string RowDigestSql(std::string_view schema, std::string_view table,
                         std::span<const std::string> columns, std::string_view row_alias) {
  std::vector<std::string> sorted(columns.begin(), columns.end());
  std::sort(sorted.begin(), sorted.end());  // bytewise, like RowDigester
  std::string prefix;
  AppendCounted(prefix, schema);
  prefix.push_back('.');
  AppendCounted(prefix, table);

  std::string sql = "md5(" + QuoteLiteral(prefix);
  for (const auto& name : sorted) {
    std::string ref =
        row_alias.empty() ? QuoteIdent(name) : std::string(row_alias) + "." + QuoteIdent(name);
    // format('%s', v) is the type's output function; a cast to text is not
    // always (bool::text is 'true', bpchar::text drops trailing blanks).
    const std::string value = "format('%s', " + ref + ")";
    std::string encoded_name;
    AppendCounted(encoded_name, name);
    sql += " || " + QuoteLiteral(encoded_name) + " || CASE WHEN " + ref +
           " IS NULL THEN 'N' WHEN octet_length(" + value + ") > " +
           std::to_string(kWideValueBytes) + " THEN 'H' || md5(" + value + ") ELSE 'V' || " +
           "octet_length(" + value + ") || ':' || " + value + " END";
  }
  sql += ")";
  return sql;
}

namespace {

// The byte length of `e`'s text and the text to hash, for a column of type
// `type` (format_type's spelling): cheap where the type allows it (the
// length from the varlena header, no output function called), format('%s')
// otherwise. The cheap forms hold under the pinned settings: bytea_output
// hex (2 + 2n bytes), and bpchar's output keeps its padding as its
// octet_length does (a cast to text would drop it).
struct TextSql {
  std::string length;
  std::string text;
};
TextSql TextOf(const std::string& e, std::string_view type) {
  const std::string formatted = "format('%s', " + e + ")";
  // "character varying(20)", not "character varying(20)[]".
  auto with_length = [&](std::string_view name) {
    return type == name || (type.starts_with(std::string(name) + "(") && type.ends_with(")"));
  };
  if (type == "text" || with_length("character varying")) return {"octet_length(" + e + ")", e};
  if (with_length("character") || type == "bpchar") {
    return {"octet_length(" + e + ")", formatted};
  }
  if (type == "bytea") return {"(2 * octet_length(" + e + ") + 2)", formatted};
  return {"octet_length(" + formatted + ")", formatted};
}

}  // namespace

std::string WideValueReadSql(std::string_view expression, std::string_view type,
                             size_t shown_chars) {
  const std::string e(expression);
  const TextSql t = TextOf(e, type);
  const std::string wide =
      t.length + " > " + std::to_string(std::max(kWideValueBytes, shown_chars));
  const std::string shown =
      shown_chars == 0 ? ""
                       : " || ':' || left(" + t.text + ", " + std::to_string(shown_chars) + ")";
  return "CASE WHEN " + wide + " THEN NULL ELSE " + e + " END, CASE WHEN " + wide + " THEN md5(" +
         t.text + ") || " + t.length + shown + " END";
}

std::string TableDigestSql(std::string_view schema, std::string_view table,
                           std::span<const std::string> columns, RowsOf rows) {
  // Four 32-bit limbs of each row digest are summed exactly in numeric, then
  // combined mod 2^128 and printed back as 32 hex digits.
  auto limb = [](int i) {
    return "coalesce(sum(('x' || substr(h, " + std::to_string(1 + 8 * i) +
           ", 8))::bit(32)::bigint::numeric), 0)";
  };
  auto hex_limb = [](const char* divisor) {
    return std::string("lpad(to_hex(mod(div(v, ") + divisor + "), 4294967296)::bigint), 8, '0')";
  };
  return "WITH h AS (SELECT " + RowDigestSql(schema, table, columns, "r") + " AS h FROM " +
         (rows == RowsOf::kTableOnly ? "ONLY " : "") + QuoteQualifiedName(schema, table) +
         " AS r),\n"
         "s AS (SELECT count(*) AS n, " +
         limb(0) + " AS s0, " + limb(1) + " AS s1, " + limb(2) + " AS s2, " + limb(3) +
         " AS s3 FROM h),\n"
         "t AS (SELECT n, mod(((s0 * 4294967296 + s1) * 4294967296 + s2) * 4294967296 + s3, "
         "340282366920938463463374607431768211456) AS v FROM s)\n"
         "SELECT n AS rows, " +
         hex_limb("79228162514264337593543950336") + " || " + hex_limb("18446744073709551616") +
         " || " + hex_limb("4294967296") + " || " + hex_limb("1") + " AS digest FROM t";
}

}  // namespace pgparity::digest
