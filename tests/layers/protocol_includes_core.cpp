// Must not compile: protocol/ is the lowest layer and cannot see server/core/.
#include "protocol/messages.hpp"
#include "server/core/scenario/scenario.hpp"
