/*
 * sec_delay.h - the emulator's simulated slow securityd (secsim_set_delay),
 * shared by sec_item.c (the gate at the entry of each SecItem function) and
 * sec_store.c (secsim_reset clears every delay).
 */
#ifndef SEC_DELAY_H
#define SEC_DELAY_H

/* Called first by SecItemAdd / SecItemCopyMatching / SecItemUpdate /
 * SecItemDelete with their own name: waits while another call is stuck in
 * the simulated daemon, then sleeps the function's delay, if one is set. */
void sec_delay_gate(const char *function);

/* Clear every delay and wake the calls sleeping in one (secsim_reset). */
void sec_delay_reset(void);

#endif /* SEC_DELAY_H */
