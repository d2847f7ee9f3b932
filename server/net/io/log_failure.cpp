#include "server/net/io/log_failure.hpp"

namespace fortisim::net {

void log_failure(core::engine& engine, std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    engine.notice("bug", {{"what", std::string(what) + " ended with an exception"}, {"error", ex.what()}});
  } catch (...) {
    engine.notice("bug", {{"what", std::string(what) + " ended with a non-standard exception"}});
  }
}

}  // namespace fortisim::net
