// pgparity record --source DSN --publication P --slot S --out FILE
//                 [--until-lsn LSN] [--raw]
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/core/chained_digest.h"
#include "pgparity/record/record_builder.h"
#include "pgparity/record/record_sink.h"
#include "pgparity/wire/copy_data.h"
#include "source_options.h"
#include "stop_signals.h"

namespace po = boost::program_options;

namespace pgparity::cli {
namespace {

// The consumer needs its sink before the recording can be opened (that
// needs the source's identity): this forwards to it once it exists.
class DeferredSink final : public core::ChangeSink {
 public:
  core::ChangeSink* target = nullptr;
  Status OnBegin(const core::TxnInfo& t) override { return target->OnBegin(t); }
  Status OnChange(const core::Change& c) override { return target->OnChange(c); }
  Status OnTruncate(const core::TruncateEvent& t) override { return target->OnTruncate(t); }
  Status OnLogicalMessage(const core::LogicalMessageEvent& m) override {
    return target->OnLogicalMessage(m);
  }
  Status OnCommit(const core::CommitInfo& c) override { return target->OnCommit(c); }
};

bool NonEmptyFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The recording: opened once the source's identity is known (on_session),
// then written by the sink (decoded changes) or frame by frame (--raw).
class Recording {
 public:
  Recording(const consumer::SlotConsumerOptions& options, std::string out, bool raw)
      : options_(options), out_(std::move(out)), raw_(raw) {
    // Raw mode: the decoder still checks the stream, into a chain of its own.
    if (raw_) deferred_.target = &raw_chain_;
  }

  core::ChangeSink& sink() { return deferred_; }

  consumer::ConsumerHooks Hooks() {
    consumer::ConsumerHooks hooks;
    hooks.on_session = [this](const consumer::SessionInfo& info, wire::Lsn& resume) {
      return Open(info, resume);
    };
    if (raw_) hooks.on_frame = [this](const wire::XLogData& frame) { return WriteFrame(frame); };
    hooks.durable = [this](wire::Lsn) { return raw_ ? raw_writer_->Sync() : sink_->Sync(); };
    hooks.abandon = [this] { return sink_ ? sink_->AbandonTransaction() : Status::OK(); };
    return hooks;
  }

  Status Close() {
    return raw_writer_ ? raw_writer_->Close() : sink_ ? sink_->Close() : Status::OK();
  }
  const core::ChainState& chain() { return raw_ ? raw_chain_.state() : sink_->chain(); }

 private:
  pgparity::v1::Header HeaderFor(const consumer::SessionInfo& info) const {
    pgparity::v1::Header header;
    header.set_format_version(record::kRecordFormatVersion);
    header.set_system_identifier(info.identity.system_id);
    header.set_timeline(info.identity.timeline);
    header.set_database(info.identity.dbname);
    header.set_slot(options_.slot);
    for (const auto& p : options_.publications) header.add_publications(p);
    header.set_protocol_version(info.proto_version);
    header.set_server_version_num(info.server_version);
    header.set_start_lsn(info.start_lsn.value());
    header.set_created_at_us(NowMicros());
    header.set_raw(raw_);
    return header;
  }

  // Creates the file, or continues a decoded recording of the same slot
  // after its last commit (`resume`).
  Status Open(const consumer::SessionInfo& info, wire::Lsn& resume) {
    const pgparity::v1::Header header = HeaderFor(info);
    if (raw_) {
      PGPARITY_ASSIGN_OR_RETURN(raw_writer_, record::RecordFileWriter::Create(out_));
      pgparity::v1::Record r;
      *r.mutable_header() = header;
      return raw_writer_->Write(r);
    }
    PGPARITY_ASSIGN_OR_RETURN(sink_, NonEmptyFile(out_) ? record::RecordSink::Resume(out_, header)
                                                        : record::RecordSink::Create(out_, header));
    deferred_.target = sink_.get();
    if (sink_->resume_point().valid()) {
      spdlog::info("continuing {} after its last commit {} ({} transactions)", out_,
                   sink_->resume_point().ToString(), sink_->chain().transactions);
      resume = sink_->resume_point();
    }
    return Status::OK();
  }

  Status WriteFrame(const wire::XLogData& frame) {
    pgparity::v1::Record r;
    std::vector<std::byte> bytes;
    wire::EncodeXLogData(frame, bytes);
    r.mutable_raw()->set_data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    r.mutable_raw()->set_received_at_us(NowMicros());
    return raw_writer_->Write(r);
  }

  const consumer::SlotConsumerOptions& options_;
  const std::string out_;
  const bool raw_;
  DeferredSink deferred_;
  std::unique_ptr<record::RecordSink> sink_;
  std::unique_ptr<record::RecordFileWriter> raw_writer_;
  core::ChainedDigest raw_chain_;
};

// Streams the slot into the recording until --until-lsn, a signal or an
// error; the exit code.
int Record(const consumer::SlotConsumerOptions& options, const std::string& out, bool raw) {
  Recording recording(options, out, raw);
  consumer::SlotConsumer consumer(options, recording.sink(), recording.Hooks());
  Status status;
  {
    StopSignals signals([&] { consumer.RequestStop(); });
    status = consumer.Run();
  }
  Status closed = recording.Close();
  if (status.ok()) status = closed;
  if (!status.ok()) return Fail("record", status.ToString(), ExitCodeFor(status));
  const auto p = consumer.progress();
  spdlog::info("recorded {} transactions, {} changes into {} (confirmed up to {}); chain {}",
               p.transactions, p.changes, out, p.durable.ToString(),
               recording.chain().chain.ToHex());
  return kExitOk;
}

}  // namespace

int RunRecord(const std::vector<std::string>& args) {
  po::options_description opts("pgparity record --source DSN --slot S --out FILE [options]");
  opts.add_options()("help,h", "this help")(
      "slot", po::value<std::string>(),
      "replication slot to read (created when missing) (required)")(
      "out", po::value<std::string>(),
      "recording file; an existing recording of the same slot is continued (required)")(
      "raw", "store the raw CopyData frames instead of decoded changes (a new file)");
  AddSourceOptions(opts);
  po::variables_map vm;
  if (auto done = ParseCommandLine("record", args, opts, nullptr, vm)) return *done;
  consumer::SlotConsumerOptions options;
  if (Status s = ReadSourceOptions(vm, "record", options); !s.ok()) {
    return Fail("record", std::string(s.message()), kExitUsage);
  }
  if (!vm.count("slot"))
    return Fail("record", "--slot is required — e.g. --slot pgparity", kExitUsage);
  if (!vm.count("out")) return Fail("record", "--out is required — the recording file", kExitUsage);
  options.slot = vm["slot"].as<std::string>();
  const std::string out = vm["out"].as<std::string>();
  const bool raw = vm.count("raw") > 0;
  if (raw && NonEmptyFile(out)) {
    return Fail(
        "record",
        out + " exists; raw recordings are not continued — remove it or choose another --out",
        kExitUsage);
  }
  // Raw frames of a transaction cut by a lost connection would be stored
  // twice: a raw recording ends at a lost connection instead.
  options.reconnect_on_loss = !raw;
  return Record(options, out, raw);
}

}  // namespace pgparity::cli
