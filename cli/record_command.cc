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
    return Fail("record",
                out +
                    " exists; raw recordings are not continued — remove it or "
                    "choose another --out",
                kExitUsage);
  }
  // Raw frames of a transaction cut by a lost connection would be stored
  // twice: a raw recording ends at a lost connection instead.
  options.reconnect_on_loss = !raw;

  DeferredSink deferred;
  std::unique_ptr<record::RecordSink> sink;
  std::unique_ptr<record::RecordFileWriter> raw_writer;
  core::ChainedDigest raw_chain;  // raw mode: the decoder still checks the stream
  if (raw) deferred.target = &raw_chain;

  consumer::ConsumerHooks hooks;
  hooks.on_session = [&](const consumer::SessionInfo& info, wire::Lsn& resume) -> Status {
    pgparity::v1::Header header;
    header.set_format_version(record::kRecordFormatVersion);
    header.set_system_identifier(info.identity.system_id);
    header.set_timeline(info.identity.timeline);
    header.set_database(info.identity.dbname);
    header.set_slot(options.slot);
    for (const auto& p : options.publications) header.add_publications(p);
    header.set_protocol_version(info.proto_version);
    header.set_server_version_num(info.server_version);
    header.set_start_lsn(info.start_lsn.value());
    header.set_created_at_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
    header.set_raw(raw);
    if (raw) {
      auto w = record::RecordFileWriter::Create(out);
      if (!w.ok()) return w.status();
      raw_writer = std::move(*w);
      pgparity::v1::Record r;
      *r.mutable_header() = header;
      return raw_writer->Write(r);
    }
    auto s = NonEmptyFile(out) ? record::RecordSink::Resume(out, header)
                               : record::RecordSink::Create(out, header);
    if (!s.ok()) return s.status();
    sink = std::move(*s);
    deferred.target = sink.get();
    if (sink->resume_point().valid()) {
      spdlog::info("continuing {} after its last commit {} ({} transactions)", out,
                   sink->resume_point().ToString(), sink->chain().transactions);
      resume = sink->resume_point();
    }
    return Status::OK();
  };
  if (raw) {
    hooks.on_frame = [&](const wire::XLogData& frame) -> Status {
      pgparity::v1::Record r;
      std::vector<std::byte> bytes;
      wire::EncodeXLogData(frame, bytes);
      r.mutable_raw()->set_data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      r.mutable_raw()->set_received_at_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
      return raw_writer->Write(r);
    };
  }
  hooks.durable = [&](wire::Lsn) -> Status { return raw ? raw_writer->Sync() : sink->Sync(); };
  hooks.abandon = [&]() -> Status { return sink ? sink->AbandonTransaction() : Status::OK(); };

  consumer::SlotConsumer consumer(options, deferred, hooks);
  Status status;
  {
    StopSignals signals([&] { consumer.RequestStop(); });
    status = consumer.Run();
  }
  Status closed = raw_writer ? raw_writer->Close() : sink ? sink->Close() : Status::OK();
  if (status.ok()) status = closed;
  if (!status.ok()) return Fail("record", status.ToString(), ExitCodeFor(status));
  const auto p = consumer.progress();
  const core::ChainState& chain = raw ? raw_chain.state() : sink->chain();
  spdlog::info("recorded {} transactions, {} changes into {} (confirmed up to {}); chain {}",
               p.transactions, p.changes, out, p.durable.ToString(), chain.chain.ToHex());
  return kExitOk;
}

}  // namespace pgparity::cli
