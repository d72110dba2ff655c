"""secitem: Apple Keychain Services (SecItem) for Python."""
