// tests/embed/embed_test_main.cpp — Catch2 main of the embedding tests (attend-embed-tests), which
// link the shared libattend and use only the public headers, as an application would.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
