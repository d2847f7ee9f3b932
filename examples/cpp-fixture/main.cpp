// doctest's main (Debian's doctest package ships none ready-made).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
