// A recording: a file of length-delimited pgparity.v1.Record messages
// (protobuf's delimited framing), the first one a Header. proto/pgparity.proto
// defines the records; `pgparity record` writes them, `pgparity dump` reads.
//
// RecordFileWriter buffers; Sync() makes everything written so far durable
// (flush + fsync), which is when a consumer may confirm the LSNs it covers.
// A file cut short by a crash reads back up to the last complete record:
// RecordFileReader reports the torn tail as a Corruption with its offset.
//
// Thread-compatible: one thread per object.
#ifndef PGPARITY_RECORD_RECORD_FILE_H_
#define PGPARITY_RECORD_RECORD_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity.pb.h"
#include "pgparity/result.h"

namespace google::protobuf::io {
class FileInputStream;
class FileOutputStream;
}  // namespace google::protobuf::io

namespace pgparity::record {

namespace internal {
class BufferedFileOutput;  // record_file.cc
}  // namespace internal

class RecordFileWriter {
 public:
  // Creates (truncates) `path`.
  static Result<std::unique_ptr<RecordFileWriter>> Create(const std::string& path);
  // Opens an existing recording for appending at `offset` (the end of its
  // last complete transaction); what follows is cut off.
  static Result<std::unique_ptr<RecordFileWriter>> Append(const std::string& path, uint64_t offset);
  ~RecordFileWriter();

  Status Write(const pgparity::v1::Record& record);
  // Writes one record already serialized with its length prefix (from
  // Delimited()): a record repeated often is serialized once.
  Status WriteSerialized(std::string_view delimited);
  // `record` as Write() would put it in the file: varint length, then the
  // message.
  static std::string Delimited(const pgparity::v1::Record& record);
  // Flushes the buffer and fsyncs the file.
  Status Sync();
  // Sync, then close. Also done by the destructor (errors lost there).
  Status Close();

  // Bytes written so far (buffered included): a position TruncateTo accepts.
  uint64_t offset() const;
  // Drops everything written after `offset` (a partial transaction whose
  // stream was lost); writing continues there.
  Status TruncateTo(uint64_t offset);

  uint64_t records_written() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  RecordFileWriter(std::string path, int fd, uint64_t base);

  std::string path_;
  int fd_;
  std::unique_ptr<internal::BufferedFileOutput> out_;
  uint64_t base_ = 0;  // file offset where out_ started writing
  uint64_t records_ = 0;
};

class RecordFileReader {
 public:
  static Result<std::unique_ptr<RecordFileReader>> Open(const std::string& path);
  ~RecordFileReader();

  // The next record; nullopt at a clean end of file. A truncated or
  // unparsable record is a Corruption naming the record number.
  Result<std::optional<pgparity::v1::Record>> Next();
  // File offset just past the last record Next() returned.
  uint64_t offset() const;

 private:
  RecordFileReader(std::string path, int fd);

  std::string path_;
  int fd_;
  std::unique_ptr<google::protobuf::io::FileInputStream> in_;
  uint64_t records_ = 0;
};

}  // namespace pgparity::record

#endif  // PGPARITY_RECORD_RECORD_FILE_H_
