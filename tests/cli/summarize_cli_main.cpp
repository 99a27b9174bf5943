// tests/cli/summarize_cli_main.cpp — Catch2 v2 main of attend-summarize-cli-tests (they run the real `attend`).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
