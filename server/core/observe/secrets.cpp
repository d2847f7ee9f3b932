#include "server/core/observe/secrets.hpp"

#include "protocol/messages.hpp"

#include <algorithm>

namespace fortisim::core {

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Whether a quoted key names a secret, read as JSON reads it: "s\u0065ed" is "seed" too.
bool secret_key(std::string_view quoted) {
  if (quoted == "\"seed\"" || quoted == "\"secret\"") return true;
  if (quoted.find('\\') == std::string_view::npos) return false;
  auto key = protocol::json::parse(quoted, nullptr, false);
  return key.is_string() && (key == "seed" || key == "secret");
}

}  // namespace

std::string hide_secrets(std::string_view s) {
  // A scan of the text rather than a parse: a journaled body is cut at 4 KiB and may not be JSON.
  std::string out;
  out.reserve(s.size());
  bool hide_next = false;  // the last key was a secret's and its ':' has been seen
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '"') {
      if (!space(s[i]) && s[i] != ':') hide_next = false;  // the value is not a string: nothing to hide
      out += s[i++];
      continue;
    }
    std::size_t j = i + 1;
    while (j < s.size() && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
    std::size_t end = std::min(j + 1, s.size());
    std::string_view text = s.substr(i, end - i);
    out += hide_next ? std::string_view("\"(hidden)\"") : text;
    hide_next = false;
    std::size_t k = end;
    while (k < s.size() && space(s[k])) ++k;
    if (k < s.size() && s[k] == ':' && secret_key(text)) hide_next = true;
    i = end;
  }
  return out;
}

std::string_view shown(std::string_view text, secrets s, std::string& scratch) {
  auto may_name_one = [&](std::string_view word) { return text.find(word) != std::string_view::npos; };
  if (s == secrets::shown || !(may_name_one("seed") || may_name_one("secret") || may_name_one("\\u"))) return text;
  scratch = hide_secrets(text);
  return scratch;
}

}  // namespace fortisim::core
