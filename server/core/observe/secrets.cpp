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

/// Where the quoted string that starts at `i` ends (past its closing quote, or the text's end).
std::size_t string_end(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  while (j < s.size() && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
  return std::min(j + 1, s.size());
}

/// Where the value that is not a string and starts at `i` ends: a number or literal at the next
/// delimiter, an object or array past its balanced close (or the text's end, for a cut body).
std::size_t other_value_end(std::string_view s, std::size_t i) {
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && !space(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
    return i;
  }
  int depth = 0;
  while (i < s.size()) {
    if (s[i] == '"') {
      i = string_end(s, i);
      continue;
    }
    if (s[i] == '{' || s[i] == '[') ++depth;
    if ((s[i] == '}' || s[i] == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return s.size();
}

}  // namespace

std::string hide_secrets(std::string_view s) {
  // A scan of the text rather than a parse: a journaled body is cut at 4 KiB and may not be JSON.
  std::string out;
  out.reserve(s.size());
  bool hide_next = false;  // the last key was a secret's and its ':' has been seen
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '"') {
      if (hide_next && !space(s[i]) && s[i] != ':' && !s.substr(i).starts_with("null")) {
        // A secret given as a number, an object or an array: hidden whole (null says there is none).
        out += "\"(hidden)\"";
        i = other_value_end(s, i);
        hide_next = false;
        continue;
      }
      if (!space(s[i]) && s[i] != ':') hide_next = false;
      out += s[i++];
      continue;
    }
    std::size_t end = string_end(s, i);
    std::string_view text = s.substr(i, end - i);
    // An empty string is no secret: a reply without a seed ("seed": "", a consumed lock) says so.
    out += hide_next && text != "\"\"" ? std::string_view("\"(hidden)\"") : text;
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
