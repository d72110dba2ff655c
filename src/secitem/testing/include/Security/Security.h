/*
 * Security/Security.h for the secitem emulator (issue #17): the Security
 * functions and every kSec* constant the emulator exports (public and SPI,
 * csrc/constants.def), with the errSec* codes of SecBase.h
 * (SecBaseErrors.h, generated from csrc/errors.def).  See
 * CoreFoundation/CoreFoundation.h for how to compile against it.
 */
#ifndef SECSIM_PUBLIC_SECURITY_H
#define SECSIM_PUBLIC_SECURITY_H

#include "../CoreFoundation/CoreFoundation.h"
#include "SecBaseErrors.h"

#endif /* SECSIM_PUBLIC_SECURITY_H */
