#include "pgparity/record/record_file.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgparity::record {

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<RecordFileWriter>> RecordFileWriter::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path);
  return std::unique_ptr<RecordFileWriter>(new RecordFileWriter(path, fd, 0));
}

Result<std::unique_ptr<RecordFileWriter>> RecordFileWriter::Append(const std::string& path,
                                                                   uint64_t offset) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  if (::ftruncate(fd, static_cast<off_t>(offset)) != 0 ||
      ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    Status s = ErrnoStatus("cannot cut the partial tail of", path);
    ::close(fd);
    return s;
  }
  return std::unique_ptr<RecordFileWriter>(new RecordFileWriter(path, fd, offset));
}

RecordFileWriter::RecordFileWriter(std::string path, int fd, uint64_t base)
    : path_(std::move(path)),
      fd_(fd),
      out_(std::make_unique<google::protobuf::io::FileOutputStream>(fd, 1 << 20)),
      base_(base) {}

uint64_t RecordFileWriter::offset() const {
  return out_ ? base_ + static_cast<uint64_t>(out_->ByteCount()) : base_;
}

Status RecordFileWriter::TruncateTo(uint64_t offset) {
  if (fd_ < 0) return Status::Internal("truncate of closed recording " + path_);
  if (!out_->Flush()) {
    errno = out_->GetErrno();
    return ErrnoStatus("cannot write", path_);
  }
  out_.reset();
  if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0 ||
      ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return ErrnoStatus("cannot truncate", path_);
  }
  base_ = offset;
  out_ = std::make_unique<google::protobuf::io::FileOutputStream>(fd_, 1 << 20);
  return Status::OK();
}

RecordFileWriter::~RecordFileWriter() { Close().IgnoreError(); }

Status RecordFileWriter::Write(const pgparity::v1::Record& record) {
  if (fd_ < 0) return Status::Internal("write to closed recording " + path_);
  if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(record, out_.get())) {
    errno = out_->GetErrno();
    return ErrnoStatus("cannot write", path_);
  }
  ++records_;
  return Status::OK();
}

Status RecordFileWriter::Sync() {
  if (fd_ < 0) return Status::OK();
  if (!out_->Flush()) {
    errno = out_->GetErrno();
    return ErrnoStatus("cannot write", path_);
  }
  if (::fsync(fd_) != 0) return ErrnoStatus("cannot fsync", path_);
  return Status::OK();
}

Status RecordFileWriter::Close() {
  if (fd_ < 0) return Status::OK();
  Status s = Sync();
  out_.reset();
  if (::close(fd_) != 0 && s.ok()) s = ErrnoStatus("cannot close", path_);
  fd_ = -1;
  return s;
}

Result<std::unique_ptr<RecordFileReader>> RecordFileReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  return std::unique_ptr<RecordFileReader>(new RecordFileReader(path, fd));
}

RecordFileReader::RecordFileReader(std::string path, int fd)
    : path_(std::move(path)),
      fd_(fd),
      in_(std::make_unique<google::protobuf::io::FileInputStream>(fd, 1 << 20)) {}

RecordFileReader::~RecordFileReader() {
  in_.reset();
  ::close(fd_);
}

Result<std::optional<pgparity::v1::Record>> RecordFileReader::Next() {
  pgparity::v1::Record record;
  bool clean_eof = false;
  if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&record, in_.get(), &clean_eof)) {
    if (clean_eof) return std::optional<pgparity::v1::Record>();
    if (in_->GetErrno() != 0) {
      errno = in_->GetErrno();
      return ErrnoStatus("cannot read", path_);
    }
    return Status::Corruption(path_ + ": record " + std::to_string(records_ + 1) +
                              " is truncated or not a pgparity record (a recording cut short "
                              "by a crash ends here)");
  }
  ++records_;
  return std::optional<pgparity::v1::Record>(std::move(record));
}

uint64_t RecordFileReader::offset() const { return static_cast<uint64_t>(in_->ByteCount()); }

}  // namespace pgparity::record
