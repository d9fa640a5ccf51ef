// Parsing a row change must not allocate: tuples are views, validated once.
// This binary replaces the global operator new to count allocations on the
// current thread, so it is its own executable.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <variant>
#include <vector>

#include "pgparity/wire/copy_data.h"
#include "pgparity/wire/pgoutput.h"

namespace {
thread_local long g_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace pgparity::wire {
namespace {

// Allocations made by f().
template <typename F>
long CountAllocations(F&& f) {
  const long before = g_allocations;
  f();
  return g_allocations - before;
}

std::vector<std::byte> TenColumnInsert() {
  TupleBuilder t;
  t.AddText("1").AddText("hello").AddNull().AddUnchanged().AddText("2024-05-04");
  const std::byte bin[] = {std::byte{1}, std::byte{2}, std::byte{3}};
  t.AddBinary(bin).AddText("3.14").AddNull().AddText("").AddText("last column");
  std::vector<std::byte> body;
  Encode(Insert{std::nullopt, 16384, t.view()}, body);
  return body;
}

TEST(NoAllocationTest, CounterWorks) {
  EXPECT_GE(CountAllocations([] { std::vector<int> v(10); }), 1);
}

TEST(NoAllocationTest, ParsingATenColumnInsertDoesNotAllocate) {
  const std::vector<std::byte> body = TenColumnInsert();
  const ParseOptions options;
  size_t columns = 0;
  size_t bytes = 0;
  const long n = CountAllocations([&] {
    Result<Message> m = Parse(body, options);
    ASSERT_TRUE(m.ok());
    const Insert& insert = std::get<Insert>(*m);
    insert.new_tuple.ForEachColumn([&](const ColumnView& c) {
      ++columns;
      bytes += c.data.size();
    });
    for (const ColumnView c : insert.new_tuple) bytes += c.data.size();
  });
  EXPECT_EQ(n, 0);
  EXPECT_EQ(columns, 10u);
  EXPECT_GT(bytes, 0u);
}

TEST(NoAllocationTest, UpdateDeleteAndCopyFramesDoNotAllocate) {
  TupleBuilder key;
  key.AddText("1").AddNull().AddNull();
  TupleBuilder row;
  row.AddText("1").AddText("x").AddUnchanged();
  std::vector<std::byte> update;
  Encode(Update{741, 16384, OldTupleKind::kKey, key.view(), row.view()}, update);
  std::vector<std::byte> del;
  Encode(Delete{std::nullopt, 16384, OldTupleKind::kFull, row.view()}, del);
  std::vector<std::byte> frame;
  EncodeXLogData(XLogData{Lsn(1), Lsn(2), Timestamp(3), del}, frame);
  ParseOptions in_stream;
  in_stream.protocol_version = 2;
  in_stream.in_stream = true;

  const long n = CountAllocations([&] {
    EXPECT_TRUE(Parse(update, in_stream).ok());
    EXPECT_TRUE(Parse(del, ParseOptions{}).ok());
    Result<CopyMessage> c = ParseCopyData(frame);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(Parse(std::get<XLogData>(*c).body, ParseOptions{}).ok());
  });
  EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace pgparity::wire
