#include "server/core/engine.hpp"

#include <charconv>

namespace fortisim::core {

using namespace protocol;

namespace {

/// An IIS-like page for HTTP-level errors, as the ASP.NET front end would answer [assumed].
std::string http_error_page(int status, std::string_view title) {
  std::string code = std::to_string(status);
  return "<!DOCTYPE html><html><head><title>" + code + " - " + std::string(title) + "</title></head><body><h1>" + code +
         " - " + std::string(title) + "</h1></body></html>\r\n";
}

/// The reply of `op` carrying only `err`: the shape a client of that operation expects.
response error_shaped(std::optional<operation> op, const envelope& env, const json* d, const message_names& names,
                       error_value err) {
  std::string type = op ? names.response[static_cast<std::size_t>(*op)] : response_type_for(env.type);
  if (!op) return error_response{head_for(env, type), std::move(err)};
  switch (*op) {
    case operation::activation_license: {
      std::string code;  // echoed, as in the captured error reply
      if (d)
        if (auto it = d->find("license_activation_code"); it != d->end() && it->is_string()) code = it->get<std::string>();
      activation_license_response r{head_for(env, type), std::move(code), "", std::nullopt, std::move(err)};
      return r;
    }
    case operation::polling: return polling_response{head_for(env, type), {}, std::move(err)};
    case operation::mobile_provision: {
      mobile_provision_response r;
      r.type = type;
      r.error = std::move(err);
      return r;
    }
    case operation::provision: return provision_response{head_for(env, type), {}, std::move(err)};
    case operation::hardware_activation: return hardware_activation_response{head_for(env, type), {}, std::move(err)};
  }
  return error_response{head_for(env, type), std::move(err)};
}

int error_code_of(const response& r) {
  return std::visit(
      [](const auto& m) -> int {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, error_response>) return m.error.code;
        else return m.error ? m.error->code : 0;
      },
      r);
}

/// Hands an HTTP-stage fault and its parameters to the network layer, which executes it.
void carry_fault(http_outcome& out, const action& a, std::uint64_t garbage_seed) {
  out.fault = a.kind;
  out.bytes = a.bytes;
  out.for_ms = a.for_ms;
  out.content_length = a.content_length;
  out.garbage_seed = garbage_seed;
}

/// Sets the errors of the named HA members in a reply (the `members` of an error action).
void apply_member_errors(response& r, const std::vector<member_error>& members) {
  std::visit(
      [&](auto& m) {
        if constexpr (requires { m.head.members; })
          for (auto& member : m.head.members)
            for (const auto& e : members)
              if (member.sn == e.sn) member.error = e.error;
      },
      r);
}

/// Resolves "{{d.a.b}}" against the request: a string that is only a placeholder takes the
/// value (any JSON type); placeholders inside a longer string are replaced by text.
ordered_json render(const ordered_json& t, const json* d, std::int64_t now_s) {
  auto lookup = [&](std::string_view path) -> std::optional<json> {
    if (path == "now") return json(now_s);
    if (!path.starts_with("d") || !d) return std::nullopt;
    const json* cur = d;
    path.remove_prefix(1);
    while (!path.empty()) {
      if (path.front() != '.') return std::nullopt;
      path.remove_prefix(1);
      auto dot = path.find('.');
      std::string key(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
      if (cur->is_object() && cur->contains(key)) cur = &(*cur)[key];
      else if (cur->is_array()) {
        std::size_t i = 0;
        auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
        if (ec != std::errc() || p != key.data() + key.size() || i >= cur->size()) return std::nullopt;
        cur = &(*cur)[i];
      } else return std::nullopt;
    }
    return *cur;
  };
  if (t.is_object()) {
    ordered_json out = ordered_json::object();
    for (const auto& [k, v] : t.items()) out[k] = render(v, d, now_s);
    return out;
  }
  if (t.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& v : t) out.push_back(render(v, d, now_s));
    return out;
  }
  if (!t.is_string()) return t;
  const std::string& s = t.get_ref<const std::string&>();
  if (s.starts_with("{{") && s.ends_with("}}") && s.find("{{", 2) == std::string::npos) {
    auto v = lookup(std::string_view(s).substr(2, s.size() - 4));
    return v ? ordered_json::parse(v->dump()) : ordered_json(nullptr);
  }
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto open = s.find("{{", pos);
    auto close = open == std::string::npos ? std::string::npos : s.find("}}", open);
    if (close == std::string::npos) break;
    out.append(s, pos, open - pos);
    auto v = lookup(std::string_view(s).substr(open + 2, close - open - 2));
    if (v) out += v->is_string() ? v->get<std::string>() : v->dump();
    pos = close + 2;
  }
  out.append(s, pos);
  return out;
}

}  // namespace

engine::engine(std::shared_ptr<const scenario> s, engine_options opts)
    : current_(std::make_shared<loaded>(s)), model_(s, opts.state_path), journal_(opts.journal_size) {}

void engine::reload(std::shared_ptr<const scenario> s) {
  model_.adopt(s);
  current_.store(std::make_shared<loaded>(std::move(s)), std::memory_order_release);
}

std::shared_ptr<const scenario> engine::current_scenario() const { return current()->s; }

std::int64_t engine::refuse_first_ms() const { return current()->rules.refuse_first_ms(); }

bool engine::has_tls_rules() const { return current()->rules.has(stage::tls); }

stage_verdict engine::decide(loaded& L, stage at, const exchange_facts& f) {
  stage_verdict v;
  v.connection = f.connection;
  auto hit = L.rules.first_match(at, f);
  if (!hit) return v;
  v.act = *hit->a;
  v.rule = hit->r->name;
  journal_.record([&](journal_entry& e) {
    e.stage.assign(at == stage::connection ? "connection" : "tls");
    e.connection = f.connection;
    e.client_address.assign(f.client_address);
    e.sni.assign(f.sni);
    e.rule.assign(v.rule);
    e.action.assign(action_name(v.act.kind));
    e.seed = L.s->seed;
  });
  return v;
}

stage_verdict engine::on_connection(std::string_view client_address) {
  auto L = current();
  exchange_facts f;
  f.client_address = client_address;
  f.connection = L->connections.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!L->rules.has(stage::connection)) return stage_verdict{{}, f.connection, {}};
  return decide(*L, stage::connection, f);
}

stage_verdict engine::on_client_hello(std::string_view client_address, std::uint64_t connection, std::string_view sni) {
  exchange_facts f;
  f.client_address = client_address;
  f.connection = connection;
  f.sni = sni;
  return decide(*current(), stage::tls, f);
}

void engine::note(std::string_view stage, std::uint64_t connection, std::string_view client_address, std::string_view what) {
  auto seed = current()->s->seed;
  journal_.record([&](journal_entry& e) {
    e.stage.assign(stage);
    e.connection = connection;
    e.client_address.assign(client_address);
    e.action.assign(what);
    e.seed = seed;
  });
}

http_outcome engine::handle(const http_request& r) {
  auto L = current();
  const scenario& s = *L->s;
  http_outcome out;
  // What the journal will say of this exchange, recorded once at the end.
  struct {
    std::uint64_t request;
    std::string_view type, rule, action;
    int status = 0, error_code = 0;
  } entry{L->requests.fetch_add(1, std::memory_order_relaxed) + 1, {}, {}, {}};

  std::string_view path = r.target.substr(0, r.target.find('?'));
  bool known_path = path == process_path || path == mobile_path;
  json parsed = json::parse(r.body, nullptr, false);
  const json* d = nullptr;
  if (!parsed.is_discarded() && parsed.is_object())
    if (auto it = parsed.find("d"); it != parsed.end() && it->is_object()) d = &*it;
  std::string_view type;
  if (d)
    if (auto it = d->find("__type"); it != d->end() && it->is_string()) type = it->get_ref<const std::string&>();
  std::optional<operation> op = s.names.find(type);
  if (!op && d && type.empty() && path == mobile_path) op = operation::mobile_provision;  // the app's endpoint
  entry.type = type;

  exchange_facts f;
  f.client_address = r.client_address;
  f.connection = r.connection;
  f.sni = r.sni;
  f.target = path;
  f.request = entry.request;
  f.d = d;
  f.type = type;
  f.operation = op;
  std::optional<rule_book::hit> hit = L->rules.first_match(stage::http, f);
  const action* act = hit ? hit->a : nullptr;
  if (hit) {
    entry.rule = hit->r->name;
    entry.action = action_name(act->kind);
    out.delay_ms = act->delay_ms;
  }
  auto finish = [&](http_outcome& o) -> http_outcome {
    bool no_reply = o.fault == action_kind::close || o.fault == action_kind::garbage || o.fault == action_kind::reset ||
                    o.fault == action_kind::hang;
    entry.status = no_reply ? 0 : o.status;
    journal_.record([&](journal_entry& e) {
      e.stage.assign("http");
      e.connection = r.connection;
      e.request = entry.request;
      e.client_address.assign(r.client_address);
      e.sni.assign(r.sni);
      e.method.assign(r.method);
      e.target.assign(r.target);
      e.type.assign(entry.type);
      e.rule.assign(entry.rule);
      e.action.assign(entry.action);
      e.status = entry.status;
      e.error_code = entry.error_code;
      e.seed = s.seed;
      e.request_body.assign(r.body.substr(0, 4096));
    });
    return std::move(o);
  };

  if (act) {
    switch (act->kind) {
      case action_kind::status:
        out.status = act->status;
        out.content_type = act->content_type;
        out.body = act->body;
        return finish(out);
      case action_kind::close:
      case action_kind::reset:
      case action_kind::hang:
      case action_kind::garbage:
        carry_fault(out, *act, s.seed ^ entry.request);
        return finish(out);
      case action_kind::reply:
        out.body = render(act->reply, d, model_.clock().now_s()).dump();
        return finish(out);
      default: break;
    }
  }

  // The protocol proper: HTTP errors for what is not an ASMX call, then the envelope.
  if (!known_path) {
    out.status = 404;
    out.content_type = "text/html; charset=utf-8";
    out.body = http_error_page(404, "File or directory not found.");
    return finish(out);
  }
  if (r.method != "POST") {
    out.status = 405;
    out.allow = "POST";
    out.content_type = "text/html; charset=utf-8";
    out.body = http_error_page(405, "HTTP verb used to access this page is not allowed.");
    return finish(out);
  }

  // The envelope echo of an error reply, decoded only on that path (best effort: field errors
  // are reported by decode_request).
  auto echo = [d] {
    envelope env;
    if (d) decode_envelope(*d, env);
    return env;
  };
  std::optional<response> reply;
  auto fail = [&](error_id id, std::string detail) {
    error_value e = s.errors[id];
    if (!detail.empty()) e.message += ": " + detail;
    reply = error_shaped(op, echo(), d, s.names, std::move(e));
  };
  if (parsed.is_discarded()) {
    fail(error_id::malformed_request, "body is not JSON");
  } else if (!d) {
    fail(error_id::malformed_request, "expected {\"d\": {...}}");
  } else if (!op) {
    fail(error_id::unknown_type, type.empty() ? std::string("d.__type is missing") : "\"" + std::string(type) + "\"");
  } else if (act && act->kind == action_kind::error && act->error) {
    reply = error_shaped(op, echo(), d, s.names, *act->error);
  } else {
    auto decoded = decode_request(*op, *d);
    if (auto* fe = std::get_if<field_error>(&decoded)) {
      fail(error_id::invalid_field, fe->path + ": " + fe->reason);
    } else {
      auto& req = std::get<request>(decoded);
      try {
        switch (*op) {
          case operation::activation_license: reply = model_.import_license(std::get<activation_license_request>(req)); break;
          case operation::polling: reply = model_.poll(std::get<polling_request>(req)); break;
          case operation::mobile_provision: reply = model_.mobile_provision(std::get<mobile_provision_request>(req)); break;
          case operation::provision: reply = model_.provision(std::get<provision_request>(req)); break;
          case operation::hardware_activation: reply = model_.activate_hardware(std::get<hardware_activation_request>(req)); break;
        }
      } catch (const std::exception& e) {
        // Only the state file can fail here (a full disk): the client gets a 500, nothing is lost silently.
        out.status = 500;
        out.content_type = "text/plain; charset=utf-8";
        out.body = std::string("fortisim: ") + e.what() + "\n";
        return finish(out);
      }
    }
  }
  if (act && act->kind == action_kind::error && !act->members.empty()) apply_member_errors(*reply, act->members);
  entry.error_code = error_code_of(*reply);
  out.body.reserve(768);
  encode_to(*reply, out.body);

  if (act) {
    switch (act->kind) {
      case action_kind::truncate:
      case action_kind::dribble:
      case action_kind::lie_length: carry_fault(out, *act, 0); break;
      case action_kind::malformed_json: out.body.resize(out.body.size() / 2); break;
      default: break;
    }
  }
  return finish(out);
}

protocol::json engine::status() const {
  auto L = current();
  json rules = json::array();
  auto counts = L->rules.fired_counts();
  for (std::size_t i = 0; i < L->rules.rules().size(); ++i)
    rules.push_back({{"name", L->rules.rules()[i].name}, {"fired", counts[i]}});
  return {{"scenario", L->s->name}, {"file", L->s->file}, {"seed", L->s->seed},
          {"connections", L->connections.load()}, {"requests", L->requests.load()},
          {"clock_ms", model_.clock().now_ms()}, {"rules", rules}};
}

}  // namespace fortisim::core
