// certdeploy: one binary, one subcommand per job (cli/commands.h).

#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return certdeploy::cli::Main(argc, argv, std::cin, std::cout, std::cerr);
}
