/*
 * Keeps the release binary's glibc floor at 2.34 (Ubuntu 22.04, RHEL 9, Amazon Linux 2023)
 * although it is built on Debian 12 (glibc 2.36). The static archives reference four
 * symbols newer than 2.34; scripts/release links with --wrap for each, which sends the
 * references here:
 *   arc4random, arc4random_buf (2.36): libarchive's archive_random, libstdc++'s random_device
 *   hypot, hypotf (2.35): Foundation's CGFloat and Swift's Glibc overlay
 * The random functions read getrandom(2) (glibc 2.25) as glibc's own do. hypot and hypotf
 * compute in long double with hypotl, which has had one version since glibc 2.2.5 (its wider
 * range avoids overflow in the intermediate; the result is within an ulp of glibc 2.35's).
 */
#include <math.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

void __wrap_arc4random_buf(void *buffer, size_t length);
uint32_t __wrap_arc4random(void);
double __wrap_hypot(double x, double y);
float __wrap_hypotf(float x, float y);

void __wrap_arc4random_buf(void *buffer, size_t length) {
    unsigned char *bytes = buffer;
    while (length > 0) {
        ssize_t got = getrandom(bytes, length, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            abort(); /* as glibc's arc4random does: there is no way to report failure */
        }
        bytes += got;
        length -= (size_t)got;
    }
}

uint32_t __wrap_arc4random(void) {
    uint32_t value;
    __wrap_arc4random_buf(&value, sizeof value);
    return value;
}

double __wrap_hypot(double x, double y) { return (double)hypotl(x, y); }
float __wrap_hypotf(float x, float y) { return (float)hypotl(x, y); }
