#include "config.h"
#include "log.h"
int main(void) { log_init(false); return 0; }
