/* The hostile partition of relhostile.c with the soak run's call count. */
#define HOSTILE_CALLS 200000
#include "relhostile.c"
