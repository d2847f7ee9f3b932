// What each device did, read from the journal (see devices.hpp).
#include "server/core/observe/devices.hpp"

#include <algorithm>

namespace fortisim::core {

namespace {

constexpr std::size_t max_text = 256;  ///< the most bytes of any one string a record keeps

std::string capped(std::string_view text) { return std::string(text.substr(0, max_text)); }

/// The serial a FortiGate's certificate names: its CN, "FGT40FHA25099UXR" from "CN = FGT40…, O = …".
std::string serial_from_subject(std::string_view subject) {
  for (std::string_view key : {"CN = ", "CN="}) {
    auto at = subject.find(key);
    if (at == std::string_view::npos) continue;
    auto value = subject.substr(at + key.size());
    return capped(value.substr(0, value.find_first_of(",/\n")));
  }
  return "";
}

/// What a TLS-stage entry says of the client's trust, or "" when it says nothing of it.
std::string tls_words(const journal_entry& e) {
  const std::string& a = e.action;
  for (std::string_view prefix : {"the client refused", "the client ended the handshake", "the client sent the fatal"})
    if (a.starts_with(prefix)) return capped(std::string_view(a).substr(std::string_view("the client ").size()));
  return "";
}

void take(device_record& d, const journal_entry& e) {
  d.last_ms = e.time_ms;
  if (e.stage == "dns") {
    ++d.dns_queries;
    if (d.names.size() < device_book::max_names && std::find(d.names.begin(), d.names.end(), e.target) == d.names.end())
      d.names.push_back(capped(e.target));
    return;
  }
  if (!e.client_cert.empty()) {
    d.certificate = capped(split_certificate(e.client_cert).subject);
    if (d.serial.empty()) d.serial = serial_from_subject(d.certificate);
  }
  if (e.stage == "tls") {
    if (auto words = tls_words(e); !words.empty()) {
      ++d.tls_failures;
      if (d.tls != "trusted") d.tls = words;  // a unit that once trusted us keeps that verdict
    }
    return;
  }
  if (e.stage == "http") {
    ++d.requests;
    d.tls = "trusted";  // a request came over the handshake: it accepted our certificate
    if (!e.serials.empty()) d.serial = capped(std::string_view(e.serials).substr(0, e.serials.find(' ')));
    std::string said = e.operation.empty() ? e.method + " " + e.target : e.operation;
    said += " -> " + (e.status ? std::to_string(e.status) : std::string("no reply"));
    if (!e.errors.empty()) said += " error " + e.errors;
    d.last_request = capped(said);
  }
}

}  // namespace

std::string device_record::verdict() const {
  if (tls == "trusted") return "trusts our certificate";
  if (!tls.empty()) return tls;
  if (dns_queries && !requests) return "asked DNS, no TLS yet";
  return "connected, no TLS verdict yet";
}

std::optional<device_change> device_book::observe(const journal_entry& e) {
  if (e.client_address.empty() || e.stage == "connection") return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = devices_.find(e.client_address);
  bool fresh = it == devices_.end();
  if (fresh) {
    if (devices_.size() >= max_devices) {
      ++untracked_;
      return std::nullopt;
    }
    device_record d;
    d.address = capped(e.client_address);
    d.first_ms = e.time_ms;
    it = devices_.emplace(d.address, std::move(d)).first;
  }
  auto& d = it->second;
  auto before = d.verdict();
  auto serial_before = d.serial;
  take(d, e);
  auto now = d.verdict();
  if (!fresh && now == before && d.serial == serial_before) return std::nullopt;
  return device_change{d.address, d.serial, now};
}

protocol::json device_book::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<const device_record*> order;
  for (const auto& [address, d] : devices_) order.push_back(&d);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first_ms < b->first_ms; });
  auto out = protocol::json::array();
  for (const auto* d : order)
    out.push_back({{"address", d->address},
                   {"serial", d->serial},
                   {"verdict", d->verdict()},
                   {"certificate", d->certificate},
                   {"names", d->names},
                   {"dns_queries", d->dns_queries},
                   {"requests", d->requests},
                   {"tls_failures", d->tls_failures},
                   {"last_request", d->last_request},
                   {"first_ms", d->first_ms},
                   {"last_ms", d->last_ms}});
  return out;
}

void device_book::clear() {
  std::lock_guard lock(mutex_);
  devices_.clear();
  untracked_ = 0;
}

}  // namespace fortisim::core
