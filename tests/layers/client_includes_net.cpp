// Must not compile: client/ sits beside the server, and sees only protocol/ (and Asio), never server/.
#include "client/operations.hpp"
#include "server/net/server/server.hpp"
