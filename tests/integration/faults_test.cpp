// Fault injection, proven from the client's side. (Filled in with the fault-injection issue.)
#include "support.hpp"
#include <doctest/doctest.h>
