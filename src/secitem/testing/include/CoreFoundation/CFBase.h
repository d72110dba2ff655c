/* CFBase.h: part of CoreFoundation.h in the secitem emulator (issue #17). */
#include "CoreFoundation.h"
