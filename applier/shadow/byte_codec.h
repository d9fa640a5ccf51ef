// The fixed-width big-endian integers and length-prefixed byte strings of
// the shadow checkpoint (shadow_checkpoint.h). Readers consume from the
// front of a string_view and return false when it is too short: a short
// or damaged file is an error, never a read past the end.
#ifndef PGPARITY_APPLIER_SHADOW_BYTE_CODEC_H_
#define PGPARITY_APPLIER_SHADOW_BYTE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace pgparity::applier::codec {

inline void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (56 - 8 * i)));
}
inline void PutBytes(std::string& out, std::string_view s) {
  PutU64(out, s.size());
  out.append(s);
}
inline bool GetU64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(8);
  return true;
}
// `s` views `in`'s bytes.
inline bool GetBytes(std::string_view& in, std::string_view& s) {
  uint64_t n;
  if (!GetU64(in, n) || in.size() < n) return false;
  s = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace pgparity::applier::codec

#endif  // PGPARITY_APPLIER_SHADOW_BYTE_CODEC_H_
