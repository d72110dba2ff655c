/* SecItem.h: part of Security.h in the secitem emulator (issue #17). */
#include "Security.h"
