#include "pgparity/applier/preflight/render.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>
#include <vector>

#include "preflight/preflight_report.pb.h"

namespace pgparity::applier {
namespace {

// Names come from the servers' catalogs and may hold any character: keep
// every finding on one line.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string Plural(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// Display width of UTF-8 text: code points, not bytes.
size_t Width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

std::string VerdictLine(const PreflightReport& report) {
  const int blocking = report.Count(Severity::kBlocking);
  const std::string rest = Plural(report.Count(Severity::kWarning), "warning", "warnings") + ", " +
                           std::to_string(report.Count(Severity::kInfo)) + " info";
  if (blocking == 0) return "verdict: ready — 0 blocking, " + rest;
  return "verdict: " + Plural(blocking, "blocking problem", "blocking problems") + " — " + rest;
}

void RenderText(const PreflightReport& report, std::ostream& out) {
  out << "pgparity preflight: source " << OneLine(report.source) << " (PostgreSQL "
      << OneLine(report.source_version) << "), target " << OneLine(report.target) << " (PostgreSQL "
      << OneLine(report.target_version) << ")\n"
      << "publication " << OneLine(report.publication) << ", subscription "
      << (report.subscription.empty() ? std::string("(none)") : OneLine(report.subscription))
      << "\n";

  // Groups in the order their first finding appears.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Finding*>> groups;
  size_t object_width = 0;
  for (const auto& f : report.findings) {
    if (!groups.contains(f.check)) order.push_back(f.check);
    groups[f.check].push_back(&f);
    object_width = std::max(object_width, Width(OneLine(f.object)));
  }
  object_width = std::min<size_t>(object_width, 40);

  for (const auto& check : order) {
    out << "\n" << check << "\n";
    for (const Finding* f : groups[check]) {
      std::string severity = f->severity == Severity::kBlocking
                                 ? std::string("BLOCKING")
                                 : std::string(SeverityName(f->severity));
      const std::string object = OneLine(f->object);
      const size_t width = Width(object);
      out << "  " << severity << std::string(10 - severity.size(), ' ') << object
          << std::string(width < object_width ? object_width - width : 0, ' ') << "  "
          << OneLine(f->detail);
      if (!f->fix.empty()) out << " — fix: " << OneLine(f->fix);
      out << "\n";
    }
  }
  out << "\n" << VerdictLine(report) << "\n";
}

Result<std::string> RenderJson(const PreflightReport& report) {
  json::v1::PreflightReport doc;
  doc.set_ready(report.ready());
  for (const auto& f : report.findings) {
    json::v1::Finding* out = doc.add_findings();
    out->set_check(f.check);
    out->set_severity(std::string(SeverityName(f.severity)));
    out->set_object(f.object);
    out->set_detail(f.detail);
    out->set_fix(f.fix);
  }
  json::v1::Summary* summary = doc.mutable_summary();
  summary->set_blocking(report.Count(Severity::kBlocking));
  summary->set_warnings(report.Count(Severity::kWarning));
  summary->set_info(report.Count(Severity::kInfo));
  summary->set_source(report.source);
  summary->set_source_version(report.source_version);
  summary->set_target(report.target);
  summary->set_target_version(report.target_version);
  summary->set_publication(report.publication);
  summary->set_subscription(report.subscription);

  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(doc, &text, options);
  if (!status.ok()) {
    return Status::Internal("cannot print the report as JSON: " + status.ToString());
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace pgparity::applier
