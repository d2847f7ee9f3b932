// The scenario's "http" section: the response headers every reply on the HTTPS port carries
// besides those fortisim writes itself.
#include "protocol/formats.hpp"
#include "server/core/scenario/parse.hpp"

#include <algorithm>
#include <cctype>
#include <span>

namespace fortisim::core::parse {

namespace {

/// What the headers of one reply may add up to: a scenario cannot make every reply too large to read.
constexpr std::size_t max_headers = 64;
constexpr std::size_t max_header_bytes = 8192;

/// Headers fortisim writes itself: the reply's framing and its own facts.
constexpr std::string_view own[] = {"Content-Type", "Content-Length", "Transfer-Encoding",
                                    "Date",         "Connection",     "Allow"};
/// Headers that would change how a client reads the connection or the body fortisim writes.
constexpr std::string_view framing[] = {"Keep-Alive", "Upgrade",          "Trailer",
                                        "TE",         "Content-Encoding", "Proxy-Connection"};

bool among(std::span<const std::string_view> names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return protocol::same_ignoring_case(n, name); });
}

/// Why `name` may not be a scenario's header, or "" when it may.
std::string refusal(const std::string& name) {
  if (!field_name(name)) return "expected an HTTP header name: 1 to 64 letters, digits and !#$%&'*+-.^_`|~";
  if (among(own, name))
    return "fortisim writes " + name + " itself" +
           (protocol::same_ignoring_case(name, "Content-Type") ? " (a rule's status action sets it)" : "");
  if (among(framing, name)) return name + " would change how clients read the reply: fortisim does not send it";
  return "";
}

}  // namespace

bool field_name(std::string_view name) {
  auto tchar = [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  };
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), tchar);
}

bool field_value(std::string_view value) {
  auto allowed = [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); };
  return value.size() <= 1024 && std::all_of(value.begin(), value.end(), allowed) &&
         (value.empty() ||
          (value.front() != ' ' && value.back() != ' ' && value.front() != '\t' && value.back() != '\t'));
}

header_edits header_edits_at(checker& c, const json& j, const std::string& path, std::size_t max_count) {
  header_edits edits;
  if (!c.is_object(j, path)) return edits;
  if (j.size() > max_count) {
    c.fail(path, "at most " + std::to_string(max_count) + " headers, not " + std::to_string(j.size()));
    return edits;
  }
  for (const auto& item : j.items()) {
    const std::string& name = item.key();  // not a structured binding: clang 14 cannot capture one
    const json& value = item.value();
    std::string at = path + protocol::json_path_key(name);
    if (auto why = refusal(name); !why.empty()) {
      c.fail(at, why);
      continue;
    }
    auto twice = std::find_if(edits.begin(), edits.end(),
                              [&](const header_edit& e) { return protocol::same_ignoring_case(e.name, name); });
    if (twice != edits.end()) {
      c.fail(at, "given twice: also as \"" + twice->name + "\" (header names have no case)");
      continue;
    }
    if (!value.is_null() && (!value.is_string() || !field_value(value.get_ref<const std::string&>()))) {
      c.fail(at, "expected a header value (at most 1024 visible bytes, no line break) or null to remove it");
      continue;
    }
    edits.push_back({name, value.is_string() ? std::optional(value.get<std::string>()) : std::nullopt});
  }
  return edits;
}

void http(checker& c, const json& j, scenario& s) {
  if (!c.is_object(j, "$.http")) return;
  c.only_keys(j, "$.http", {"iis_headers", "headers", "case_insensitive_paths"});
  std::string lines = c.bool_at(j, "iis_headers", "$.http").value_or(true) ? default_http_headers() : "";
  if (auto v = c.bool_at(j, "case_insensitive_paths", "$.http")) s.case_insensitive_paths = *v;
  if (auto h = j.find("headers"); h != j.end())
    lines = edited_headers(lines, header_edits_at(c, *h, "$.http.headers", max_headers));
  auto count = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  if (count > max_headers || lines.size() > max_header_bytes)
    c.fail("$.http.headers", "at most " + std::to_string(max_headers) + " headers of " +
                                 std::to_string(max_header_bytes) + " bytes in all, IIS's included (these are " +
                                 std::to_string(count) + " of " + std::to_string(lines.size()) + ")");
  else
    s.http_headers = std::move(lines);
}

}  // namespace fortisim::core::parse

namespace fortisim::core {

std::string edited_headers(std::string_view lines, const header_edits& edits) {
  std::string out(lines);
  for (const auto& e : edits) {
    std::string kept;
    for (std::size_t at = 0; at < out.size();) {
      auto end = out.find('\n', at) + 1;
      std::string_view line(out.data() + at, end - at);
      auto colon = line.find(':');
      if (!protocol::same_ignoring_case(line.substr(0, colon), e.name)) kept += line;
      at = end;
    }
    if (e.value) kept += e.name + ": " + *e.value + "\r\n";
    out = std::move(kept);
  }
  return out;
}

}  // namespace fortisim::core
