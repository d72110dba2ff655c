"""Test support: the Security framework emulator.

``secitem.testing.emulator`` builds a C library that exports the same C ABI
as Apple's Security.framework and CoreFoundation (the subset ``secitem``
uses) and behaves as Apple's published source shows.  Point
``SECITEM_LIBRARY`` at the library it builds and ``secitem`` runs on Linux
exactly as it would on a Mac::

    $ export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)
"""
