/*
 * sec_delay.c - secsim_set_delay: a securityd that hangs.
 *
 * Real keychain calls sometimes take seconds or never return (securityd
 * stuck in mach_msg after an OS upgrade, a cold start, a prompt nobody can
 * see).  secsim_set_delay(function, ms) makes every later call of one of the
 * four SecItem functions sleep ms milliseconds before it does anything.
 *
 * The model: securityd serializes its clients.  A delayed call occupies the
 * simulated daemon while it sleeps, so every SecItem call of this process
 * (any of the four functions, any thread) that arrives meanwhile waits for it
 * and then runs (or sleeps its own delay).  The sleep happens before the
 * emulator's own lock is taken: the controls (secsim_reset, secsim_set_*,
 * secsim_live_objects) and the CoreFoundation functions never wait for it.
 *
 * secsim_set_delay(function, 0) clears the delay and wakes the calls now
 * sleeping in that function: they go on at once (securityd recovered).
 * secsim_reset() clears every delay the same way.  A call already asleep
 * keeps the delay it started with when a non-zero delay is changed.
 *
 * NULL, an unknown function name or a negative delay aborts with a message,
 * as secsim_fail_next does: a mistyped name must not silently delay nothing.
 *
 * The sleeping uses CLOCK_REALTIME (the default clock of a condition
 * variable, the only one macOS offers): a wall-clock jump shortens or
 * lengthens a sleep in progress, which a test emulator can live with.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "sec_delay.h"
#include "secsim_internal.h"

static const char *const delay_names[] = {
    "SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete",
};
#define DELAY_COUNT (sizeof delay_names / sizeof delay_names[0])

static pthread_mutex_t g_gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed = PTHREAD_COND_INITIALIZER;
static int g_delay_ms[DELAY_COUNT];
static unsigned long g_epoch[DELAY_COUNT]; /* bumped on clear: wakes sleepers */
static bool g_busy;                        /* a delayed call occupies the daemon */

static int delay_index(const char *function, const char *caller)
{
    if (function == NULL)
        secsim_fatal("%s: function name is NULL", caller);
    for (size_t i = 0; i < DELAY_COUNT; i++)
        if (strcmp(delay_names[i], function) == 0)
            return (int)i;
    secsim_fatal("%s: unknown function \"%s\" (expected SecItemAdd, SecItemCopyMatching, "
                 "SecItemUpdate or SecItemDelete)", caller, function);
}

void sec_delay_gate(const char *function)
{
    int i = delay_index(function, "sec_delay_gate");
    pthread_mutex_lock(&g_gate);
    while (g_busy)
        pthread_cond_wait(&g_changed, &g_gate);
    int ms = g_delay_ms[i];
    if (ms > 0) {
        g_busy = true;
        unsigned long epoch = g_epoch[i];
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        while (g_epoch[i] == epoch) {
            int rc = pthread_cond_timedwait(&g_changed, &g_gate, &until);
            if (rc == ETIMEDOUT)
                break;
        }
        g_busy = false;
        pthread_cond_broadcast(&g_changed);
    }
    pthread_mutex_unlock(&g_gate);
}

static void clear_locked(size_t i)
{
    g_delay_ms[i] = 0;
    g_epoch[i]++;
}

void sec_delay_reset(void)
{
    pthread_mutex_lock(&g_gate);
    for (size_t i = 0; i < DELAY_COUNT; i++)
        clear_locked(i);
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_gate);
}

SECSIM_EXPORT void secsim_set_delay(const char *function, int milliseconds)
{
    int i = delay_index(function, "secsim_set_delay");
    if (milliseconds < 0)
        secsim_fatal("secsim_set_delay: %d ms is negative (0 clears the delay)", milliseconds);
    pthread_mutex_lock(&g_gate);
    if (milliseconds == 0) {
        clear_locked((size_t)i);
        pthread_cond_broadcast(&g_changed);
    } else {
        g_delay_ms[i] = milliseconds;
    }
    pthread_mutex_unlock(&g_gate);
}
