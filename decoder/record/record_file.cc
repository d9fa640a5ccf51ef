#include "pgparity/record/record_file.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pgparity/file_util.h"

namespace pgparity::record {

namespace internal {

// A file output stream with a real 1 MiB buffer: protobuf's FileOutputStream
// ignores its block_size argument (3.21 issues one write() per 8 KiB).
class BufferedFileOutput final : public google::protobuf::io::CopyingOutputStreamAdaptor {
 public:
  static constexpr int kBufferSize = 1 << 20;

  explicit BufferedFileOutput(int fd)
      : CopyingOutputStreamAdaptor(&file_, kBufferSize), file_(fd) {}
  // Flushes here: the base class would flush after file_ is gone.
  ~BufferedFileOutput() override { Flush(); }

  // errno of the write that failed, 0 if none did.
  int GetErrno() const { return file_.error; }

 private:
  struct FdOutput final : google::protobuf::io::CopyingOutputStream {
    explicit FdOutput(int f) : fd(f) {}
    bool Write(const void* buffer, int size) override {
      const char* p = static_cast<const char*>(buffer);
      while (size > 0) {
        const ssize_t n = ::write(fd, p, static_cast<size_t>(size));
        if (n < 0) {
          if (errno == EINTR) continue;
          error = errno;
          return false;
        }
        p += n;
        size -= static_cast<int>(n);
      }
      return true;
    }
    int fd;
    int error = 0;
  };
  FdOutput file_;
};

}  // namespace internal

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
      out_(std::make_unique<internal::BufferedFileOutput>(fd)),
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
  out_ = std::make_unique<internal::BufferedFileOutput>(fd_);
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

Status RecordFileWriter::WriteSerialized(std::string_view delimited) {
  if (fd_ < 0) return Status::Internal("write to closed recording " + path_);
  while (!delimited.empty()) {
    void* data = nullptr;
    int size = 0;
    if (!out_->Next(&data, &size)) {
      errno = out_->GetErrno();
      return ErrnoStatus("cannot write", path_);
    }
    const size_t n = std::min(static_cast<size_t>(size), delimited.size());
    std::memcpy(data, delimited.data(), n);
    delimited.remove_prefix(n);
    if (n < static_cast<size_t>(size)) out_->BackUp(size - static_cast<int>(n));
  }
  ++records_;
  return Status::OK();
}

std::string RecordFileWriter::Delimited(const pgparity::v1::Record& record) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(record, &stream);
  }
  return out;
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
