// The DNS responder's upstream resolver (--dns-upstream): a query for a name fortisim does not
// answer goes there over the transport it came by, and the answer comes back to the client with
// the client's id. And the TCP framing both sides of DNS over TCP use.
#include "server/net/dns/responder.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "server/net/io/deadline.hpp"

#include <array>
#include <random>

namespace fortisim::net {

namespace beast = boost::beast;

namespace {

/// The largest DNS message (a datagram or a TCP message is never cut).
constexpr std::size_t max_message = 65535;

/// A random id for a query sent upstream, so that a stray or spoofed datagram is not taken for
/// its answer. Not from the scenario's seed: it changes nothing a client sees (the client gets
/// its own id back), so a run still replays.
std::uint16_t fresh_id() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xffff)(generator));
}

/// The query as it goes upstream: the client's, under `id`.
std::vector<std::uint8_t> with_id(std::vector<std::uint8_t> query, std::uint16_t id) {
  dns::set_message_id(query, id);
  return query;
}

/// `answer` if it answers the query sent as `sent_id`, given back the client's id.
std::optional<upstream_answer> accept(std::vector<std::uint8_t> answer, std::uint16_t sent_id,
                                      std::uint16_t client_id) {
  auto rcode = dns::answer_rcode(answer, sent_id);
  if (!rcode) return std::nullopt;
  dns::set_message_id(answer, client_id);
  return upstream_answer{std::move(answer), *rcode};
}

std::string failure(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) return "upstream refused the query (nothing listens there)";
  return "upstream did not answer: " + ec.message();
}

}  // namespace

task<upstream_answer> ask_upstream(udp::endpoint upstream, std::vector<std::uint8_t> query, std::int64_t timeout_ms) {
  auto ex = co_await asio::this_coro::executor;
  const std::uint16_t client_id = dns::message_id(query), sent_id = fresh_id();
  query = with_id(std::move(query), sent_id);
  udp::socket socket(ex);
  boost::system::error_code ec;
  socket.open(upstream.protocol(), ec);
  if (!ec) socket.connect(upstream, ec);  // only the upstream's datagrams reach this socket
  if (ec) co_return upstream_answer{{}, failure(ec)};
  socket_deadline deadline(ex, socket, timeout_ms);
  auto [sec, sent] = co_await socket.async_send(asio::buffer(query), use_nothrow);
  if (sec) co_return upstream_answer{{}, failure(sec)};
  std::vector<std::uint8_t> answer(max_message);
  for (;;) {
    auto [rec, n] = co_await socket.async_receive(asio::buffer(answer), use_nothrow);
    if (deadline.expired())
      co_return upstream_answer{{}, "upstream did not answer within " + std::to_string(timeout_ms) + " ms"};
    if (rec) co_return upstream_answer{{}, failure(rec)};
    answer.resize(n);
    if (auto a = accept(answer, sent_id, client_id)) co_return std::move(*a);
    answer.resize(max_message);  // not the answer to this query: wait on
  }
}

task<upstream_answer> ask_upstream(tcp::endpoint upstream, std::vector<std::uint8_t> query, std::int64_t timeout_ms) {
  const std::uint16_t client_id = dns::message_id(query), sent_id = fresh_id();
  query = with_id(std::move(query), sent_id);
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::milliseconds(timeout_ms));  // for the whole exchange
  auto [cec] = co_await stream.async_connect(upstream, use_nothrow);
  if (cec == beast::error::timeout)
    co_return upstream_answer{{}, "upstream did not answer within " + std::to_string(timeout_ms) + " ms"};
  if (cec) co_return upstream_answer{{}, failure(cec)};
  if (auto wec = co_await write_framed(stream, query)) co_return upstream_answer{{}, failure(wec)};
  std::vector<std::uint8_t> answer;
  auto rec = co_await read_framed(stream, answer, max_message);
  if (rec == beast::error::timeout)
    co_return upstream_answer{{}, "upstream did not answer within " + std::to_string(timeout_ms) + " ms"};
  if (rec) co_return upstream_answer{{}, failure(rec)};
  if (auto a = accept(std::move(answer), sent_id, client_id)) co_return std::move(*a);
  co_return upstream_answer{{}, "upstream answered something else than this query"};
}

task<boost::system::error_code> read_framed(beast::tcp_stream& stream, std::vector<std::uint8_t>& message,
                                            std::size_t limit) {
  message.clear();
  std::array<std::uint8_t, 2> length{};
  auto [ec, n] = co_await asio::async_read(stream, asio::buffer(length), use_nothrow);
  if (ec) co_return ec;
  std::size_t size = std::size_t{length[0]} << 8 | length[1];
  if (size == 0 || size > limit) co_return asio::error::message_size;
  message.resize(size);
  auto [mec, m] = co_await asio::async_read(stream, asio::buffer(message), use_nothrow);
  if (mec) message.clear();
  co_return mec;
}

task<boost::system::error_code> write_framed(beast::tcp_stream& stream, std::span<const std::uint8_t> message) {
  if (message.size() > max_message) co_return asio::error::message_size;
  const std::array<std::uint8_t, 2> length{static_cast<std::uint8_t>(message.size() >> 8),
                                           static_cast<std::uint8_t>(message.size() & 0xff)};
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(length), asio::buffer(message.data(), message.size())};
  auto [ec, n] = co_await asio::async_write(stream, buffers, use_nothrow);
  co_return ec;
}

}  // namespace fortisim::net
