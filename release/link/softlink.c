#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include "softlink.h"

/* One lock for all libraries: dlopen runs once per library, and only on paths slipway's own
   work never takes (Kerberos, LDAP, PKCS#11), so contention is not a concern. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void *softlink_symbol(struct softlink_library *library, const char *name) {
    pthread_mutex_lock(&lock);
    if (!library->attempted) {
        library->attempted = 1;
        /* RTLD_DEEPBIND: the library and its dependencies bind to each other first, never to
           the copies of OpenSSL or zlib linked into this executable. */
        library->handle = dlopen(library->soname, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    }
    void *handle = library->handle;
    pthread_mutex_unlock(&lock);
    return handle ? dlsym(handle, name) : 0;
}
