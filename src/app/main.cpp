#include "app/cli.hpp"

int main(int argc, char** argv) {
  return gavel::app::run_cli(argc, argv);
}
