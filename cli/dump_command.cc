// pgparity dump FILE [--json] [--full-values]
#include <google/protobuf/util/json_util.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "command.h"
#include "exit_codes.h"
#include "pgparity/record/record_file.h"
#include "record_printer.h"
#include "source_options.h"

namespace po = boost::program_options;

namespace pgparity::cli {

int RunDump(const std::vector<std::string>& args) {
  po::options_description opts("pgparity dump FILE [options]");
  opts.add_options()("help,h", "this help")("json", "one JSON object per record")(
      "full-values", kFullValuesHelp)("file", po::value<std::string>(),
                                      "a recording made by pgparity record");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto done = ParseCommandLine("dump", args, opts, &pos, vm)) return *done;
  if (!vm.count("file")) return Fail("dump", "no FILE given — pgparity dump FILE", kExitUsage);
  const std::string path = vm["file"].as<std::string>();

  auto reader = record::RecordFileReader::Open(path);
  if (!reader.ok()) return Fail("dump", reader.status().ToString(), ExitCodeFor(reader.status()));
  const bool json = vm.count("json") > 0;
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.preserve_proto_field_names = true;
  RecordPrinterOptions print_options;
  if (vm.count("full-values")) print_options.max_value_bytes = 0;
  RecordPrinter printer(std::cout, print_options);
  for (;;) {
    auto next = (*reader)->Next();
    if (!next.ok()) return Fail("dump", next.status().ToString(), ExitCodeFor(next.status()));
    if (!next->has_value()) break;
    if (json) {
      std::string line;
      auto s = google::protobuf::util::MessageToJsonString(**next, &line, json_options);
      if (!s.ok()) return Fail("dump", "cannot print a record as JSON: " + s.ToString(), kExitData);
      std::cout << line << '\n';
    } else {
      printer.Print(**next);
    }
  }
  std::cout.flush();
  return std::cout ? kExitOk : Fail("dump", "cannot write to stdout", kExitData);
}

}  // namespace pgparity::cli
