/* The pod sandbox's process for test/oci/cri.sh (Kubernetes' "pause"): sleeps until SIGTERM,
 * SIGINT or SIGHUP, then exits 0; reaps any child re-parented to it. Static, no libc beyond
 * what musl links. Built by test/oci/pause-image.sh with `scripts/zig cc`. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction q = {.sa_handler = quit};
  struct sigaction r = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  if (sigaction(SIGTERM, &q, NULL) || sigaction(SIGINT, &q, NULL) || sigaction(SIGHUP, &q, NULL) ||
      sigaction(SIGCHLD, &r, NULL))
    return 1;
  for (;;) pause();
}
