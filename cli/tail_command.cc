// pgparity tail --source DSN [--publication P] [--until-lsn LSN] [--full-values]
// Decoded changes live, one line each, from a temporary slot of its own.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/consumer/slot_consumer.h"
#include "pgparity/core/chained_digest.h"
#include "pgparity/record/record_builder.h"
#include "record_printer.h"
#include "source_options.h"
#include "stop_signals.h"

namespace po = boost::program_options;

namespace pgparity::cli {
namespace {

// Prints every delivered event as the record `pgparity dump` would show.
class PrintingSink final : public core::ChangeSink {
 public:
  PrintingSink(std::ostream& out, RecordPrinterOptions options)
      : out_(out), printer_(out, options) {}

  Status OnBegin(const core::TxnInfo& t) override {
    PGPARITY_RETURN_IF_ERROR(chain_.OnBegin(t));
    described_.clear();
    record::BuildBegin(t, record_);
    return Print();
  }
  Status OnChange(const core::Change& c) override {
    PGPARITY_RETURN_IF_ERROR(chain_.OnChange(c));
    if (std::find(described_.begin(), described_.end(), c.relation.relid()) == described_.end()) {
      described_.push_back(c.relation.relid());
      record::BuildRelation(c.relation, record_);
      printer_.Print(record_);  // registers the column names
    }
    record::BuildChange(c, record_);
    return Print();
  }
  Status OnTruncate(const core::TruncateEvent& t) override {
    PGPARITY_RETURN_IF_ERROR(chain_.OnTruncate(t));
    record::BuildTruncate(t, record_);
    return Print();
  }
  Status OnLogicalMessage(const core::LogicalMessageEvent& m) override {
    PGPARITY_RETURN_IF_ERROR(chain_.OnLogicalMessage(m));
    record::BuildMessage(m, record_);
    return Print();
  }
  Status OnCommit(const core::CommitInfo& c) override {
    PGPARITY_RETURN_IF_ERROR(chain_.OnCommit(c));
    record::BuildCommit(c, chain_.state(), record_);
    PGPARITY_RETURN_IF_ERROR(Print());
    out_.flush();
    return out_ ? Status::OK() : Status::IOError("cannot write to stdout");
  }

 private:
  Status Print() {
    printer_.Print(record_);
    return Status::OK();
  }

  std::ostream& out_;
  RecordPrinter printer_;
  core::ChainedDigest chain_;
  pgparity::v1::Record record_;
  std::vector<uint32_t> described_;
};

}  // namespace

int RunTail(const std::vector<std::string>& args) {
  po::options_description opts("pgparity tail --source DSN [options]");
  opts.add_options()("help,h", "this help")("slot", po::value<std::string>(),
                                            "temporary slot name (default pgparity_tail_<pid>)")(
      "full-values", kFullValuesHelp);
  AddSourceOptions(opts);
  po::variables_map vm;
  if (auto done = ParseCommandLine("tail", args, opts, nullptr, vm)) return *done;
  consumer::SlotConsumerOptions options;
  if (Status s = ReadSourceOptions(vm, "tail", options); !s.ok()) {
    return Fail("tail", std::string(s.message()), kExitUsage);
  }
  options.slot =
      vm.count("slot") ? vm["slot"].as<std::string>() : "pgparity_tail_" + std::to_string(getpid());
  options.temporary_slot = true;
  RecordPrinterOptions print_options;
  if (vm.count("full-values")) print_options.max_value_bytes = 0;
  PrintingSink sink(std::cout, print_options);
  consumer::SlotConsumer consumer(options, sink);
  Status status;
  {
    StopSignals signals([&] { consumer.RequestStop(); });
    status = consumer.Run();
  }
  if (!status.ok()) return Fail("tail", status.ToString(), ExitCodeFor(status));
  return kExitOk;
}

}  // namespace pgparity::cli
