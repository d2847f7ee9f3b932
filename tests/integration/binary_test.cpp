// The real binary as a subprocess.
#include "support.hpp"
#include <doctest/doctest.h>
