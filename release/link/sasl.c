/* Cyrus SASL (libsasl2-2) for libldap's SASL binds, which libcurl's LDAP support pulls in.
   Without the library, sasl_client_init fails and libldap carries on without SASL. */
#include <stddef.h>
#include <sasl/sasl.h>
#include "softlink.h"

SOFTLINK_LIBRARY(sasl, "libsasl2.so.2");

static const char unavailable[] = "SASL is not available (libsasl2.so.2 is not installed)";
#define FAIL { return SASL_FAIL; }

SOFTLINK(sasl, int, sasl_client_init, (const sasl_callback_t *callbacks), (callbacks), FAIL)
SOFTLINK(sasl, int, sasl_client_new,
         (const char *service, const char *server, const char *local, const char *remote,
          const sasl_callback_t *prompts, unsigned flags, sasl_conn_t **connection),
         (service, server, local, remote, prompts, flags, connection),
         { if (connection) *connection = NULL; return SASL_FAIL; })
SOFTLINK(sasl, int, sasl_client_start,
         (sasl_conn_t *connection, const char *mechanisms, sasl_interact_t **prompts, const char **out,
          unsigned *out_length, const char **mechanism),
         (connection, mechanisms, prompts, out, out_length, mechanism), FAIL)
SOFTLINK(sasl, int, sasl_client_step,
         (sasl_conn_t *connection, const char *in, unsigned in_length, sasl_interact_t **prompts,
          const char **out, unsigned *out_length),
         (connection, in, in_length, prompts, out, out_length), FAIL)
SOFTLINK(sasl, int, sasl_decode,
         (sasl_conn_t *connection, const char *in, unsigned in_length, const char **out, unsigned *out_length),
         (connection, in, in_length, out, out_length), FAIL)
SOFTLINK(sasl, int, sasl_encode,
         (sasl_conn_t *connection, const char *in, unsigned in_length, const char **out, unsigned *out_length),
         (connection, in, in_length, out, out_length), FAIL)
SOFTLINK(sasl, int, sasl_getprop, (sasl_conn_t *connection, int property, const void **value),
         (connection, property, value), FAIL)
SOFTLINK(sasl, int, sasl_setprop, (sasl_conn_t *connection, int property, const void *value),
         (connection, property, value), FAIL)
SOFTLINK(sasl, const char *, sasl_errdetail, (sasl_conn_t *connection), (connection), return unavailable)
SOFTLINK(sasl, const char *, sasl_errstring, (int error, const char *languages, const char **language),
         (error, languages, language), { if (language) *language = "en-us"; return unavailable; })
SOFTLINK(sasl, const char **, sasl_global_listmech, (void), (), return NULL)
SOFTLINK_VOID(sasl, sasl_dispose, (sasl_conn_t **connection), (connection))
SOFTLINK_VOID(sasl, sasl_set_mutex,
              (sasl_mutex_alloc_t *alloc, sasl_mutex_lock_t *lock, sasl_mutex_unlock_t *unlock, sasl_mutex_free_t *free),
              (alloc, lock, unlock, free))
