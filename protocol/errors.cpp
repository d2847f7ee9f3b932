#include "protocol/errors.hpp"

#include <algorithm>

namespace fortisim::protocol {

std::span<const error_entry> error_catalogue() { return catalogue; }

const error_entry& catalogue_entry(error_id id) { return catalogue[static_cast<std::size_t>(id)]; }

const error_entry* find_error(int code) {
  auto it = std::find_if(catalogue.begin(), catalogue.end(), [code](const error_entry& e) { return e.code == code; });
  return it == catalogue.end() ? nullptr : &*it;
}

const error_entry* find_error(std::string_view name) {
  auto it = std::find_if(catalogue.begin(), catalogue.end(), [name](const error_entry& e) { return e.name == name; });
  return it == catalogue.end() ? nullptr : &*it;
}

error_table::error_table() {
  for (const auto& e : catalogue) entries_[static_cast<std::size_t>(e.id)] = {e.code, std::string(e.message)};
}

error_value error_table::for_code(int code, std::string fallback_message) const {
  for (const auto& e : entries_)
    if (e.code == code) return fallback_message.empty() ? e : error_value{code, std::move(fallback_message)};
  if (const auto* e = find_error(code); e && fallback_message.empty()) return {code, std::string(e->message)};
  return {code, std::move(fallback_message)};
}

}  // namespace fortisim::protocol
