/* keychain_demo.c - keychain code written for a Mac, run on the secitem
 * emulator (docs/testing.md, "Testing native code"; built and run by
 * tests/emulator/test_native_headers.py). */
#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>
#include <stdio.h>
#include <string.h>

static void print_cf(const char *label, CFStringRef s)
{
    char buf[256];
    if (!CFStringGetCString(s, buf, sizeof buf, kCFStringEncodingUTF8))
        buf[0] = '\0';
    printf("%s: %s\n", label, buf);
}

static OSStatus add_password(CFStringRef account, const char *password)
{
    CFDataRef data = CFDataCreate(NULL, (const UInt8 *)password, (CFIndex)strlen(password));
    CFMutableDictionaryRef item = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                            &kCFTypeDictionaryValueCallBacks);
    CFDictionaryAddValue(item, kSecClass, kSecClassGenericPassword);
    CFDictionaryAddValue(item, kSecAttrService, CFSTR("com.example.demo"));
    CFDictionaryAddValue(item, kSecAttrAccount, account);
    CFDictionaryAddValue(item, kSecValueData, data);
    OSStatus status = SecItemAdd(item, NULL);
    CFRelease(item);
    CFRelease(data);
    return status;
}

int main(void)
{
    for (int i = 1; i <= 2; i++) {
        CFStringRef account = CFStringCreateWithFormat(NULL, NULL, CFSTR("user-%d@%s"), i, "example.com");
        OSStatus status = add_password(account, "hunter2");
        printf("add %d: %d\n", i, (int)status);
        CFRelease(account);
    }
    printf("add again: %d\n", (int)add_password(CFSTR("user-1@example.com"), "x"));

    /* every account, as go-keychain's "return all matches" path reads them */
    CFMutableDictionaryRef query = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                             &kCFTypeDictionaryValueCallBacks);
    CFDictionaryAddValue(query, kSecClass, kSecClassGenericPassword);
    CFDictionaryAddValue(query, kSecAttrService, CFSTR("com.example.demo"));
    CFDictionaryAddValue(query, kSecMatchLimit, kSecMatchLimitAll);
    CFDictionaryAddValue(query, kSecReturnAttributes, kCFBooleanTrue);
    CFTypeRef result = NULL;
    OSStatus status = SecItemCopyMatching(query, &result);
    printf("match all: %d, array: %d\n", (int)status, CFGetTypeID(result) == CFArrayGetTypeID());
    CFIndex count = CFArrayGetCount((CFArrayRef)result);
    const void *items[8];
    CFArrayGetValues((CFArrayRef)result, CFRangeMake(0, count), items);
    for (CFIndex i = 0; i < count; i++)
        print_cf("account", (CFStringRef)CFDictionaryGetValue((CFDictionaryRef)items[i], kSecAttrAccount));
    CFRelease(result);

    /* the error path: a status as a CFError, and its description */
    CFErrorRef error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, errSecItemNotFound, NULL);
    CFStringRef text = CFErrorCopyDescription(error);
    print_cf("error", text);
    CFRelease(text);
    CFRelease(error);

    CFStringRef description = CFCopyDescription(kSecClassGenericPassword);
    print_cf("class", description);
    CFRelease(description);

    CFUUIDRef uuid = CFUUIDCreate(NULL);
    CFStringRef uuid_text = CFUUIDCreateString(NULL, uuid);
    printf("uuid length: %ld\n", (long)CFStringGetLength(uuid_text));
    CFRelease(uuid_text);
    CFRelease(uuid);

    CFDictionaryRemoveValue(query, kSecMatchLimit);
    CFDictionaryRemoveValue(query, kSecReturnAttributes);
    printf("delete: %d\n", (int)SecItemDelete(query));
    CFRelease(query);
    return 0;
}
