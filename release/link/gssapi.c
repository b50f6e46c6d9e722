/* GSS-API (MIT Kerberos, libgssapi-krb5-2) for libcurl's Negotiate/SPNEGO and SOCKS5-GSSAPI
   authentication. Without the library every call reports GSS_S_UNAVAILABLE, which libcurl
   treats as "this authentication method failed". */
#include <gssapi/gssapi.h>
#include "softlink.h"

SOFTLINK_LIBRARY(gssapi, "libgssapi_krb5.so.2");

/* 1.2.840.113554.1.2.1.4 (RFC 2744 GSS_C_NT_HOSTBASED_SERVICE): a constant the library
   exports as data, which cannot be forwarded; gss_import_name compares OIDs by value. */
static gss_OID_desc hostbased_service = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &hostbased_service;

#define UNAVAILABLE { if (minor) *minor = 0; return GSS_S_UNAVAILABLE; }

SOFTLINK(gssapi, OM_uint32, gss_delete_sec_context,
         (OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output),
         (minor, context, output), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_display_name,
         (OM_uint32 *minor, gss_name_t name, gss_buffer_t output, gss_OID *type),
         (minor, name, output, type), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_display_status,
         (OM_uint32 *minor, OM_uint32 status, int type, gss_OID mech, OM_uint32 *context, gss_buffer_t output),
         (minor, status, type, mech, context, output), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_import_name,
         (OM_uint32 *minor, gss_buffer_t input, gss_OID type, gss_name_t *output),
         (minor, input, type, output), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_init_sec_context,
         (OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context, gss_name_t target, gss_OID mech,
          OM_uint32 req_flags, OM_uint32 time_req, gss_channel_bindings_t bindings, gss_buffer_t input,
          gss_OID *actual_mech, gss_buffer_t output, OM_uint32 *ret_flags, OM_uint32 *time_rec),
         (minor, cred, context, target, mech, req_flags, time_req, bindings, input, actual_mech, output,
          ret_flags, time_rec), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_inquire_context,
         (OM_uint32 *minor, gss_ctx_id_t context, gss_name_t *source, gss_name_t *target, OM_uint32 *lifetime,
          gss_OID *mech, OM_uint32 *flags, int *local, int *open),
         (minor, context, source, target, lifetime, mech, flags, local, open), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_release_buffer,
         (OM_uint32 *minor, gss_buffer_t buffer),
         (minor, buffer), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_release_name,
         (OM_uint32 *minor, gss_name_t *name),
         (minor, name), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_unwrap,
         (OM_uint32 *minor, gss_ctx_id_t context, gss_buffer_t input, gss_buffer_t output, int *conf, gss_qop_t *qop),
         (minor, context, input, output, conf, qop), UNAVAILABLE)
SOFTLINK(gssapi, OM_uint32, gss_wrap,
         (OM_uint32 *minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop, gss_buffer_t input, int *conf,
          gss_buffer_t output),
         (minor, context, conf_req, qop, input, conf, output), UNAVAILABLE)
