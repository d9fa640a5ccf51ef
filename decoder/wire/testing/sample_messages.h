// Test helper: one or more valid encoded samples of every pgoutput message
// type and CopyData frame, with the ParseOptions they parse under. Used by
// the round-trip and truncation tests and by the fuzz corpus generator.
#ifndef PGPARITY_DECODER_WIRE_TESTING_SAMPLE_MESSAGES_H_
#define PGPARITY_DECODER_WIRE_TESTING_SAMPLE_MESSAGES_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "pgparity/wire/pgoutput.h"

namespace pgparity::wire::testing {

struct Sample {
  std::string name;  // file-name safe: [a-z0-9_]
  ParseOptions options;
  bool copy_data = false;  // bytes are a CopyData frame, not a pgoutput message
  std::vector<std::byte> bytes;
};

std::vector<Sample> SampleMessages();

// gtest prints a Sample by its name.
void PrintTo(const Sample& sample, std::ostream* os);

}  // namespace pgparity::wire::testing

#endif  // PGPARITY_DECODER_WIRE_TESTING_SAMPLE_MESSAGES_H_
