// Must not compile: server/core/ cannot see server/net/ (no Asio below the network layer).
#include "server/core/engine/engine.hpp"
#include "server/net/server/server.hpp"
