#!/bin/sh
# Asserts that the target equals the source: waits until the subscription is
# ready and has applied everything the source flushed, then compares every
# published table row for row (and its column list). Exit 0 = PASS, 1 = FAIL.
# With EXPECT_TEST_DML=1 it also requires the effects of test-replication.sql
# (sql/verify-target.sql), waiting for them first.
set -eu
. "$(dirname "$0")/lib.sh"
EXPECT_TEST_DML=${EXPECT_TEST_DML:-0}

wait_both
wait_subscription_ready
if [ "$EXPECT_TEST_DML" = 1 ]; then
  waited=0
  until [ "$(source_value "SELECT count(*) FROM users WHERE username = 'frank'")" = 1 ]; do
    [ "$waited" -lt "$WAIT_TIMEOUT" ] || fail "the test DML never ran on the source (no user frank after ${WAIT_TIMEOUT}s); run the test-replication step"
    sleep 1
    waited=$((waited + 1))
  done
fi
wait_caught_up

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tables=$(source_value "SELECT format('%I.%I', schemaname, tablename) FROM pg_publication_tables
                       WHERE pubname = '$PUBLICATION' ORDER BY 1")
[ -n "$tables" ] || fail "publication $PUBLICATION has no tables on the source; run the setup-replication step"

bad=0 ntables=0 nrows=0
for t in $tables; do
  ntables=$((ntables + 1))
  columns="SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
           FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped"
  src_cols=$(source_value "$columns")
  tgt_cols=$(target_value "SELECT CASE WHEN to_regclass('$t') IS NULL THEN '(missing)' ELSE ($columns) END" 2>/dev/null) ||
    tgt_cols="(missing)"
  if [ "$src_cols" != "$tgt_cols" ]; then
    echo "MISMATCH $t: columns differ: source ($src_cols) target ($tgt_cols)"
    bad=$((bad + 1))
    continue
  fi
  # Rows in a total order independent of collation; the same text output
  # functions on both servers (PGOPTIONS pins their settings).
  dump="COPY (SELECT * FROM $t AS r ORDER BY r::text COLLATE \"C\") TO STDOUT"
  psql_source -c "$dump" >"$work/source"
  psql_target -c "$dump" >"$work/target"
  rows=$(wc -l <"$work/source")
  nrows=$((nrows + rows))
  if cmp -s "$work/source" "$work/target"; then
    echo "ok $t: $rows rows equal"
  else
    echo "MISMATCH $t: source $rows rows, target $(wc -l <"$work/target") rows; first differences (- source, + target):"
    diff "$work/source" "$work/target" | grep '^[<>]' | sed 's/^</  -/; s/^>/  +/' | head -20 || true
    bad=$((bad + 1))
  fi
done

if [ "$EXPECT_TEST_DML" = 1 ]; then
  psql_target -f "$SQL_DIR/verify-target.sql" >/dev/null || bad=$((bad + 1))
fi

if [ "$bad" -ne 0 ]; then
  echo "FAIL: $bad of $ntables tables differ between source and target"
  exit 1
fi
echo "PASS: target equals source ($ntables tables, $nrows rows)"
