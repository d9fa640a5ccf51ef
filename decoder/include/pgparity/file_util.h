// Files written so that a crash leaves either the old content or the new,
// never a mix, and errno turned into a Status that names the file. Used by
// every writer of a state or report file (verify's report, audit's
// checkpoint, the record files' errors).
#ifndef PGPARITY_FILE_UTIL_H_
#define PGPARITY_FILE_UTIL_H_

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pgparity/result.h"
#include "pgparity/status.h"

namespace pgparity {

// IOError "<what> <path>: <strerror(errno)>". Call right after the failing
// system call, before anything else can change errno.
Status ErrnoStatus(std::string_view what, std::string_view path);

// Replaces `path` with `content` atomically: writes `path`.tmp.<pid> in the
// same directory, fsyncs it, renames it over `path` and fsyncs the directory
// (so the rename survives a crash too). The temporary file is removed on
// failure. IOError naming `path` (a missing or unwritable directory says
// so).
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode = 0644);

// fsync of directory `dir`: what makes a rename, or files created in it,
// survive a crash. IOError naming it.
Status SyncDirectory(const std::filesystem::path& dir);

// The whole content of `path`; nullopt when there is no such file (ENOENT).
// Any other failure is an IOError naming `path`.
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);

}  // namespace pgparity

#endif  // PGPARITY_FILE_UTIL_H_
