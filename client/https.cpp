// One POST over TLS, as a coroutine on an io_context of its own that the caller's thread runs:
// the call blocks, and every step (resolve and connect, handshake, write, read, shutdown) has a
// deadline (beast::tcp_stream's expires_after), so a server that hangs cannot hang the client.
#include "client/https.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <charconv>

namespace fortisim::client {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

/// For results we expect (refusals, timeouts, alerts): errors as values, not exceptions.
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// The largest reply read: a provisioning reply with its QR codes is a few KiB per token.
constexpr std::uint64_t body_limit = 16 << 20;

bool is_ip_address(const std::string& name) {
  boost::system::error_code ec;
  asio::ip::make_address(name, ec);
  return !ec;
}

/// The TLS client context: TLS 1.2 or later, the peer verified against `to.cacert` (or the
/// system's CAs) unless `to.insecure`.
ssl::context make_context(const connection_options& to) {
  ssl::context tls{ssl::context::tls_client};
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  if (to.insecure) {
    tls.set_verify_mode(ssl::verify_none);
    return tls;
  }
  tls.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (to.cacert.empty())
    tls.set_default_verify_paths(ec);
  else
    tls.load_verify_file(to.cacert, ec);
  if (ec)
    throw transport_error("cannot use the CA file " + (to.cacert.empty() ? "(system default)" : to.cacert) + ": " +
                          ec.message() + "; give --cacert FILE (the \"ca\" of fortisim's ready line)");
  return tls;
}

/// Why a handshake failed, in words: the certificate check's reason when that was it.
std::string handshake_failure(SSL* ssl, const boost::system::error_code& ec) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return std::string("certificate verify failed (") + X509_verify_cert_error_string(verify) + ")";
  return ec.message();
}

asio::awaitable<http_reply> exchange(connection_options to, std::string path, std::string body,
                                     std::vector<header> headers, ssl::context* tls) {
  auto executor = co_await asio::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
  auto& socket = beast::get_lowest_layer(stream);
  const std::string where = to.host + ":" + std::to_string(to.port);
  SSL* ssl = stream.native_handle();
  if (is_ip_address(to.sni)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), to.sni.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, to.sni.c_str());
    SSL_set1_host(ssl, to.sni.c_str());
  }

  tcp::resolver resolver(executor);
  socket.expires_after(to.timeout);
  auto [rec, endpoints] = co_await resolver.async_resolve(to.host, std::to_string(to.port), use_nothrow);
  if (rec) throw transport_error("resolve " + to.host + ": " + rec.message());
  auto [cec, connected] = co_await socket.async_connect(endpoints, use_nothrow);
  if (cec) throw transport_error("connect to " + where + ": " + cec.message());

  socket.expires_after(to.timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_nothrow);
  if (hec) throw transport_error("TLS handshake with " + to.sni + " at " + where + ": " + handshake_failure(ssl, hec));

  // The headers in the order given, Host and Content-Length where the list names them (a
  // FortiGate's captured order), else after the rest.
  http::request<http::string_body> req{http::verb::post, path, 11};
  bool host = false, length = false;
  for (const auto& [name, value] : headers) {
    if (beast::iequals(name, "Host")) {
      req.insert(http::field::host, to.sni);
      host = true;
    } else if (beast::iequals(name, "Content-Length")) {
      req.insert(http::field::content_length, std::to_string(body.size()));
      length = true;
    } else {
      req.insert(name, value);
    }
  }
  if (!host) req.insert(http::field::host, to.sni);
  if (!length) req.insert(http::field::content_length, std::to_string(body.size()));
  req.body() = std::move(body);
  socket.expires_after(to.timeout);
  auto [wec, written] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) throw transport_error("send to " + where + ": " + wec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  socket.expires_after(to.timeout);
  auto [rdec, read] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  if (rdec) throw transport_error("read the reply from " + where + ": " + rdec.message());
  auto& res = parser.get();
  http_reply out{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                 std::move(res.body())};

  // A polite close; a server that drops the connection instead (stream_truncated) is no failure.
  socket.expires_after(to.timeout);
  co_await stream.async_shutdown(use_nothrow);
  co_return out;
}

}  // namespace

http_reply post(const connection_options& to, std::string_view path, std::string_view body,
                const std::vector<header>& headers) {
  auto tls = make_context(to);
  asio::io_context ioc{1};
  std::optional<http_reply> reply;
  std::exception_ptr failure;
  asio::co_spawn(ioc, exchange(to, std::string(path), std::string(body), headers, &tls),
                 [&](std::exception_ptr e, http_reply r) {
                   if (e)
                     failure = e;
                   else
                     reply = std::move(r);
                 });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  if (!reply) throw transport_error("no reply from " + to.host);
  return std::move(*reply);
}

std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto digits = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535 || host.empty())
    return std::nullopt;
  return std::pair<std::string, std::uint16_t>{host, static_cast<std::uint16_t>(port)};
}

}  // namespace fortisim::client
