// Must compile: server/core/ sees itself and protocol/ below it.
#include "protocol/messages.hpp"
#include "server/core/engine/engine.hpp"
