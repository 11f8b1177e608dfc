// Nothing to compile: the header declares what the C library already has.
#include "CMalloc.h"
