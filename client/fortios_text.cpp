#include "client/fortios_text.hpp"

namespace fortisim::client {

namespace {

void write(const protocol::json& j, std::string& out) {
  if (j.is_object()) {
    out += "{ ";
    bool first = true;
    for (const auto& [key, value] : j.items()) {
      if (!first) out += ", ";
      first = false;
      out += protocol::json(key).dump();
      out += ": ";
      write(value, out);
    }
    out += first ? "}" : " }";
  } else if (j.is_array()) {
    out += "[ ";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      write(j[i], out);
    }
    out += j.empty() ? "]" : " ]";
  } else {
    out += j.dump();
  }
}

}  // namespace

std::string fortios_text(const protocol::json& j) {
  std::string out;
  write(j, out);
  return out;
}

}  // namespace fortisim::client
