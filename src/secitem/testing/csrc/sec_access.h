/*
 * sec_access.h - access lists and partition lists of file-based keychain
 * items on the macos profile (sec_access.c), and the hooks the engines call.
 *
 * An item's access is kept as a hidden attribute (SEC_ACCESS_KEY, SV_DATA,
 * encoded by sec_access.c) so that it is copied by item_clone, kept by every
 * update and written to the store with the item.  Hidden attributes start
 * with '_' and are never returned by SecItemCopyMatching.
 */
#ifndef SEC_ACCESS_H
#define SEC_ACCESS_H

#include "sec_private.h"

#define SEC_ACCESS_KEY "_acl"

/* True for a hidden attribute name (not part of any schema). */
bool sec_access_hidden_key(const char *key);
/* Store loader: a hidden attribute value that sec_access.c can have written. */
bool sec_access_value_ok(const char *key, const sval *v);

/* SecItemAdd / SecKeychainAdd*Password on the FB keychain: give a new item
 * its access (from `access`, a SecAccess or NULL for the default access
 * naming the creating application) and its partition list (the creator's
 * partition ID).  errSecParam if `access` is not a SecAccess. */
OSStatus sec_access_on_add(sitem *it, CFTypeRef access);
/* The item's secret was rewritten by this process: its partition list
 * becomes the writer's partition ID (Item.cpp updateSSGroup). */
void sec_access_on_rewrite(sitem *it);
/* Reading the secret of an FB item: both gates, and the simulated user when
 * one refuses.  auth_ui / no_auth_ui: the query's kSecUseAuthenticationUI and
 * kSecUseNoAuthenticationUI values (NULL when absent). */
OSStatus sec_access_check_read(const sitem *it, CFTypeRef auth_ui, CFTypeRef no_auth_ui);

/* secsim_reset: application, signature, session and keychain password back
 * to the environment's values. */
void sec_access_reset(void);

#endif /* SEC_ACCESS_H */
