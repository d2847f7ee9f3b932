#include "server/net/io/endpoint.hpp"

#include "server/net/io/config.hpp"

namespace fortisim::net {

tcp::endpoint parse_endpoint(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw startup_error(std::string(option) + " " + text + ": expected ADDR:PORT, e.g. 127.0.0.1:8443 or [::]:443");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw startup_error(std::string(option) + " " + text + ": \"" + host + "\" is not an IP address");
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw startup_error(std::string(option) + " " + text + ": the port must be a number from 0 to 65535");
  }
  return {address, static_cast<unsigned short>(port)};
}

std::string endpoint_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

std::string endpoint_text(const udp::endpoint& ep) { return endpoint_text(tcp::endpoint(ep.address(), ep.port())); }

}  // namespace fortisim::net
