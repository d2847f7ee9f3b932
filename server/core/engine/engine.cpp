// The engine's answer to an HTTP request: the request classified (read directly, or as a tree),
// the rules matched, HTTP misuse refused, the model asked or an error shaped, the reply encoded
// and bent. entry.cpp journals the exchange; stages.cpp answers connections and ClientHellos.
#include "server/core/engine/engine.hpp"
#include "server/core/engine/exchange.hpp"

#include "protocol/bounded_json.hpp"
#include "protocol/direct_request.hpp"
#include "protocol/formats.hpp"
#include "server/core/engine/reply_faults.hpp"

#include <algorithm>
#include <cctype>

namespace fortisim::core {

using namespace protocol;

std::string http_error_page(int status, std::string_view title) {
  std::string code = std::to_string(status);
  return "<!DOCTYPE html><html><head><title>" + code + " - " + std::string(title) + "</title></head><body><h1>" + code +
         " - " + std::string(title) + "</h1></body></html>\r\n";
}

namespace {

/// The reply of `op` carrying only `err`: the shape a client of that operation expects.
response error_shaped(std::optional<operation> op, const envelope& env, const json* d, const message_names& names,
                      error_value err) {
  std::string type = op ? names.response[static_cast<std::size_t>(*op)] : response_type_for(env.type);
  if (!op) return error_response{head_for(env, type), std::move(err)};
  switch (*op) {
    case operation::activation_license: {
      std::string code;  // echoed, as in the captured error reply
      if (d)
        if (auto it = d->find("license_activation_code"); it != d->end() && it->is_string())
          code = it->get<std::string>();
      return activation_license_response{head_for(env, type), std::move(code), "", std::nullopt, std::move(err)};
    }
    case operation::polling: return polling_response{head_for(env, type), {}, std::move(err)};
    case operation::mobile_provision: {
      mobile_provision_response r;
      r.type = type;
      r.error = std::move(err);
      return r;
    }
    case operation::provision: return provision_response{head_for(env, type), {}, 0, std::move(err)};
    case operation::hardware_activation: return hardware_activation_response{head_for(env, type), {}, std::move(err)};
  }
  return error_response{head_for(env, type), std::move(err)};
}

int error_code_of(const response& r) {
  return std::visit(
      [](const auto& m) -> int {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, error_response>)
          return m.error.code;
        else
          return m.error ? m.error->code : 0;
      },
      r);
}

/// The service's own spelling of `path` when it names one of its pages in another case: IIS looks
/// paths up without case [assumed: how IIS serves files and ASMX handlers], so a client that writes
/// /softtoken/provisioning.asmx/process reaches /SoftToken/Provisioning.asmx/Process.
std::string_view canonical_path(std::string_view path, bool without_case) {
  if (!without_case) return path;
  for (std::string_view page : {process_path, mobile_path})
    if (protocol::same_ignoring_case(path, page)) return page;
  return path;
}

}  // namespace

engine::engine(std::shared_ptr<const scenario> first, engine_options opts)
    : current_(std::make_shared<loaded>(first)),
      model_(first, opts.state_path),
      log_format_(opts.format),
      secrets_(opts.show_secrets ? secrets::shown : secrets::hidden),
      log_(opts.log_fd >= 0 ? std::make_unique<log_sink>(opts.log_fd) : nullptr),
      feed_(opts.show_secrets),
      journal_(opts.journal_size, opts.journal_bytes) {
  journal_.add_observer([feed = &feed_](const journal_entry& e) { feed->publish_exchange(e); });
  if (log_ && opts.log_exchanges)
    journal_.add_observer([sink = log_.get(), text = opts.format == log_format::text, s = secrets_,
                           bodies = opts.log_bodies](const journal_entry& e) {
      thread_local std::string line;  // formatted without a tree, in storage reused line after line
      line.clear();
      if (text)
        write_text_line(e, line, s, bodies);
      else
        core::journal::write_line(e, line, s);
      sink->write(line);
    });
  // A device first seen, or its verdict changed: one line in the log and the console's feed,
  // after the exchange that revealed it (the observers run in the order they were added).
  journal_.add_observer([this](const journal_entry& e) {
    if (auto d = devices_.observe(e))
      notice("device", {{"address", d->address}, {"serial", d->serial}, {"verdict", d->verdict}});
  });
}

std::shared_ptr<const scenario> engine::current_scenario() const { return current_.read()->scenario; }

std::int64_t engine::refuse_first_ms() const { return current_.read()->rules.refuse_first_ms(); }

void engine::handle(const http_request& request, http_outcome& out) {
  // The request's number and the rule book that counts it, as one step: one numbered after a
  // reset or reload meets the new book (its counters from zero), one numbered before, the old.
  auto [in_force, id] = current_.read_with([this] { return request_ids_.fetch_add(1) + 1; }, counts_request);
  out.reset();
  thread_local worker_scratch scratch;  // handle() runs start to end on one thread, never nested
  scratch.reason.clear();
  exchange ongoing(*in_force, request, out, scratch);
  ongoing.id = id;
  try {
    if (!request.unreadable.empty()) {
      refuse_unreadable(ongoing);
    } else {
      classify(ongoing);
      match_rules(ongoing);
      if (!answers_alone(out.act, out, ongoing.d, model_.clock().now_s()) && !http_misuse(ongoing)) answer(ongoing);
    }
  } catch (const std::exception& e) {  // a rule's template too large, memory exhausted: the process goes on
    fail_internally(ongoing, e.what());
  }
  if (ongoing.hit && !ongoing.hit->rule->headers.empty())
    out.headers = edited_headers(in_force->scenario->http_headers, ongoing.hit->rule->headers);
  else
    out.headers.assign(in_force->scenario->http_headers);
  write_entry(ongoing);
  scratch.trim(request.body.size());
}

void engine::locate(exchange& exchange) {
  exchange.ordinal = exchange.id - exchange.in_force.requests_before;
  exchange.path = canonical_path(exchange.request.target.substr(0, exchange.request.target.find('?')),
                                 exchange.in_force.scenario->case_insensitive_paths);
  if (exchange.path == cloud_activation_path && exchange.in_force.scenario->fortitoken_cloud_path)
    exchange.path = mobile_path;  // the app's FortiToken Cloud request, answered as /Mobile [assumed]
}

void engine::classify(exchange& exchange) {
  locate(exchange);
  // The runtime rules this exchange is matched against, from here on (a rule added meanwhile that
  // reads fields would otherwise meet a request read without a tree).
  exchange.runtime = runtime_.read();
  bool rules_need_tree =
      exchange.in_force.rules.needs_tree() || (exchange.runtime && exchange.runtime->book.needs_tree());
  auto& read = exchange.scratch.read;
  if (!rules_need_tree &&
      read_request_direct(exchange.request.body, exchange.in_force.scenario->names, exchange.path == mobile_path, read))
    exchange.direct = &read;
  if (exchange.direct) {
    exchange.type = request_type(*exchange.direct);
    exchange.op = static_cast<operation>(exchange.direct->index());  // request's alternatives are in operation order
    return;
  }
  build_tree(exchange);
}

void engine::build_tree(exchange& exchange) {
  auto parsed = parse_bounded(exchange.request.body);
  if (auto* why = std::get_if<protocol::json_refusal>(&parsed))
    exchange.unparsable = why->what == json_refusal::kind::too_deep        ? "body " + why->reason
                          : why->what == json_refusal::kind::too_many_keys ? "body has " + why->reason
                                                                           : "body is not JSON";
  else
    exchange.parsed = std::get<json>(std::move(parsed));
  if (exchange.unparsable.empty() && exchange.parsed.is_object())
    if (auto it = exchange.parsed.find("d"); it != exchange.parsed.end() && it->is_object()) exchange.d = &*it;
  if (exchange.direct) return;  // type and operation are known
  if (exchange.d)
    if (auto it = exchange.d->find("__type"); it != exchange.d->end() && it->is_string())
      exchange.type = it->get_ref<const std::string&>();
  exchange.op = exchange.in_force.scenario->names.find(exchange.type);
  if (!exchange.op && exchange.d && exchange.type.empty() && exchange.path == mobile_path)
    exchange.op = operation::mobile_provision;  // the app's endpoint
}

void engine::match_rules(exchange& exchange) {
  exchange_facts f;
  f.client_address = exchange.request.client_address;
  f.connection = exchange.in_force.connection_ordinal(exchange.request.connection);
  f.sni = exchange.request.sni;
  f.target = exchange.path;
  f.request = exchange.ordinal;
  f.d = exchange.d;
  f.direct = exchange.direct;
  f.type = exchange.type;
  f.operation = exchange.op;
  exchange.hit = first_match(exchange.in_force, stage::http, f, exchange.runtime.get());
  if (!exchange.hit) return;
  if (exchange.direct && shapes_reply(exchange.hit->action->what))
    build_tree(exchange);  // it may echo or render fields of "d"
  exchange.out.act = exchange.hit->action->what;
  exchange.reason =
      "rule \"" + exchange.hit->rule->name + "\" played " + std::string(fault_name(exchange.hit->action->what));
  exchange.out.delay_ms = exchange.hit->action->delay_ms;
  exchange.out.garbage_seed = exchange.in_force.scenario->seed ^ exchange.ordinal;
}

void engine::fail_internally(exchange& exchange, std::string_view what) {
  auto& out = exchange.out;
  out.act = faults::pass{};
  out.status = 500;
  out.content_type = "text/html; charset=utf-8";
  out.body.clear();
  out.body.shrink_to_fit();  // what was rendered before the failure
  out.body = http_error_page(500, "Internal server error");
  exchange.reason.assign("fortisim could not answer: ").append(what);
  exchange.error_code = 0;
  exchange.reply = nullptr;
}

void engine::refuse_unreadable(exchange& exchange) {
  const auto& request = exchange.request;
  auto& out = exchange.out;
  // Counted under its endpoint, as far as its request line was read.
  locate(exchange);
  if (request.unreadable_status == 0) {  // the client is gone or stalled: nothing is sent
    exchange.reason.assign(request.unreadable);
    out.act = faults::close{};
    return;
  }
  out.status = request.unreadable_status;
  bool unimplemented = out.status == 501;
  exchange.reason.assign(unimplemented ? "not implemented: " : "bad request: ").append(request.unreadable);
  out.content_type = "text/html; charset=utf-8";
  out.body = http_error_page(out.status, out.status == 413   ? "Request entity too large"
                                         : out.status == 431 ? "Request header too large"
                                         : unimplemented     ? "Not implemented: " + std::string(request.unreadable)
                                                             : "Bad request: " + std::string(request.unreadable));
}

bool engine::http_misuse(exchange& exchange) {
  // HTTP errors for what is not an ASMX call; a HEAD request gets the head alone (RFC 9110 §9.3.2).
  exchange.out.head_only = exchange.request.method == "HEAD";
  if (exchange.path != process_path && exchange.path != mobile_path) {
    exchange.reason =
        "no such path: the service answers " + std::string(process_path) + " and " + std::string(mobile_path);
    exchange.out.status = 404;
    exchange.out.content_type = "text/html; charset=utf-8";
    exchange.out.body = http_error_page(404, "File or directory not found.");
    return true;
  }
  if (exchange.request.method != "POST") {
    exchange.reason = "the service answers POST only";
    exchange.out.status = 405;
    exchange.out.allow = "POST";
    exchange.out.content_type = "text/html; charset=utf-8";
    exchange.out.body = http_error_page(405, "HTTP verb used to access this page is not allowed.");
    return true;
  }
  return false;
}

void engine::answer(exchange& exchange) {
  const scenario& s = *exchange.in_force.scenario;
  // The envelope echo of an error reply, decoded only on that path (best effort: field errors
  // are reported by decode_request).
  auto echo = [&] {
    envelope env;
    if (exchange.d) decode_envelope(*exchange.d, env);
    return env;
  };
  auto fail = [&](error_id id, std::string detail) {
    error_value e = s.errors[id];
    if (!detail.empty()) e.message += ": " + detail;
    exchange.reason.append(exchange.reason.empty() ? "" : "; ").append(e.message);
    return error_shaped(exchange.op, echo(), exchange.d, s.names, std::move(e));
  };
  response& reply = exchange.scratch.reply;
  if (exchange.direct && !replacement_error(exchange.out.act)) {
    if (!ask_model(exchange, *exchange.direct, reply)) return;
  } else if (!exchange.unparsable.empty()) {
    reply = fail(error_id::malformed_request, exchange.unparsable);
  } else if (!exchange.d) {
    reply = fail(error_id::malformed_request, "expected {\"d\": {...}}");
  } else if (auto t = exchange.d->find("__type"); !exchange.op && t != exchange.d->end() && !t->is_string()) {
    reply = fail(error_id::invalid_field, std::string("d.__type: expected a string, got ") + t->type_name());
  } else if (!exchange.op) {
    reply = fail(error_id::unknown_type,
                 exchange.type.empty() ? std::string("d.__type is missing") : "\"" + std::string(exchange.type) + "\"");
  } else if (auto e = replacement_error(exchange.out.act)) {
    reply = error_shaped(exchange.op, echo(), exchange.d, s.names, *e);
  } else {
    auto decoded = decode_request(*exchange.op, *exchange.d);
    if (auto* fe = std::get_if<field_error>(&decoded))
      reply = fail(error_id::invalid_field, fe->path + ": " + fe->reason);
    else if (!ask_model(exchange, std::get<request>(decoded), reply))
      return;
  }
  bend(exchange.out.act, reply);
  exchange.error_code = error_code_of(reply);
  exchange.reply = &reply;
  exchange.out.body.reserve(768);
  encode_to(reply, exchange.out.body);
  bend_body(exchange.out.act, exchange.out.body);
}

bool engine::ask_model(exchange& exchange, const request& req, response& reply) {
  try {
    thread_local std::string why;
    model_.answer(req, reply, &why);
    exchange.reason.append(exchange.reason.empty() ? "" : "; ").append(why);
    return true;
  } catch (const storage_error& e) {
    // Not durable, so not done: the change (or the one this answer read) is undone, and the client
    // is told so.
    exchange.out.status = 503;
    exchange.out.body = json{{"error", e.what()}}.dump();
    return false;
  }
}

}  // namespace fortisim::core
