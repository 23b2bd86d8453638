// One-kernel probe for the simulator's AUTO decision: a Boost.Context fiber (what each
// simulated GPU thread is) must compile, link and switch.
#include <boost/context/fiber.hpp>

#include <utility>

int main() {
  int ran = 0;
  boost::context::fiber f{[&ran](boost::context::fiber&& caller) {
    ran = 1;
    return std::move(caller);
  }};
  std::move(f).resume();
  return ran == 1 ? 0 : 1;
}
