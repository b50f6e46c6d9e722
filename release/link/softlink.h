/*
 * Soft links: a libcurl (or libldap, GnuTLS) function that the static release binary must
 * provide but that lives in a library Debian ships only as a shared object (MIT Kerberos'
 * GSS-API, Cyrus SASL, p11-kit). Each such function is defined here as a forwarder that
 * loads the real library on first use and calls it; where the library is not installed it
 * returns the error the caller already handles ("mechanism unavailable"), so the binary
 * needs nothing beyond glibc and still uses Kerberos, SASL or PKCS#11 where they exist.
 *
 * Only the release build links these (scripts/release); `swift build` links the shared
 * libcurl, which brings its own dependencies.
 */
#ifndef SLIPWAY_SOFTLINK_H
#define SLIPWAY_SOFTLINK_H

struct softlink_library {
    const char *soname;  /* what dlopen loads, e.g. "libgssapi_krb5.so.2" */
    int attempted;       /* guarded by the lock in softlink.c */
    void *handle;        /* NULL when the library is not installed */
};

#define SOFTLINK_LIBRARY(var, so) static struct softlink_library var = { so, 0, 0 }

/* The address of `name` in the library, or NULL when the library or the symbol is missing. */
void *softlink_symbol(struct softlink_library *library, const char *name);

/*
 * Defines `ret name params` as a forwarder; `args` repeats the parameter names, `fallback`
 * is a statement run when the library is missing (it must return). The system header that
 * declares `name` is included first, so the compiler checks this definition against it.
 */
#define SOFTLINK(library, ret, name, params, args, fallback)                    \
    ret name params {                                                           \
        ret (*real) params = (ret (*) params)softlink_symbol(&library, #name);  \
        if (real) return real args;                                             \
        fallback;                                                               \
    }

#define SOFTLINK_VOID(library, name, params, args)                              \
    void name params {                                                          \
        void (*real) params = (void (*) params)softlink_symbol(&library, #name);\
        if (real) real args;                                                    \
    }

#endif
