#include "corpus/audit_run.h"

#include <csignal>
#include <fstream>
#include <thread>

namespace pgparity::corpus {

AuditRun::AuditRun(AuditOptions options)
    : options_(std::move(options)), log_(options_.state_dir.string() + ".log") {
  std::filesystem::remove_all(options_.state_dir);
  std::filesystem::remove(log_);
  // --max-rows: every divergent row listed, or the comparison with the
  // oracle would see a capped list as misses.
  args_ = {options_.cli,
           "audit",
           "--source",
           options_.source_dsn,
           "--target",
           options_.target_dsn,
           "--publication",
           options_.publication,
           "--subscription",
           options_.subscription,
           "--slot",
           options_.slot,
           "--state-dir",
           options_.state_dir.string(),
           "--checkpoint-interval",
           "1",
           "--max-rows",
           "1000000"};
  args_.insert(args_.end(), options_.check_args.begin(), options_.check_args.end());
  process_ = std::make_unique<testing::Subprocess>(args_, log_);
}

AuditRun::~AuditRun() = default;

bool AuditRun::Running() { return process_->Running(); }

std::string AuditRun::Log() const { return testing::ReadFile(log_); }

nlohmann::json AuditRun::Report() const {
  std::ifstream in(options_.state_dir / "report.json");
  if (!in) return nlohmann::json();
  return nlohmann::json::parse(in, nullptr, false);
}

nlohmann::json AuditRun::WaitFor(const std::function<bool(const nlohmann::json&)>& ok,
                                 std::chrono::seconds timeout, bool* met) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  *met = false;
  for (;;) {
    const auto r = Report();
    if (r.is_object()) last = r;
    if (last.is_object() && ok(last)) {
      *met = true;
      return last;
    }
    if (!Running() || std::chrono::steady_clock::now() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int AuditRun::Stop() {
  process_->Signal(SIGTERM);
  const auto code = process_->WaitOrKill(std::chrono::seconds(30));
  return code ? *code : -1;
}

void AuditRun::Kill() {
  process_->Signal(SIGKILL);
  process_->WaitOrKill(std::chrono::seconds(10));
  std::ofstream(log_, std::ios::app) << "--- corpus: pgparity audit killed with SIGKILL ---\n";
}

void AuditRun::Restart() {
  std::ofstream(log_, std::ios::app) << "--- corpus: pgparity audit started again ---\n";
  process_ = std::make_unique<testing::Subprocess>(args_, log_);
}

}  // namespace pgparity::corpus
