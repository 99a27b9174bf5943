// tests/unit/main.cpp — Catch2 v2 main for the unit-test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
