/* p11-kit (libp11-kit0) for GnuTLS's PKCS#11 support; GnuTLS is in the binary because
   libldap and librtmp (libcurl's LDAP and RTMP support) use it. Without the library no
   PKCS#11 module loads, which GnuTLS reports as it does on a system with none configured. */
#define P11_KIT_FUTURE_UNSTABLE_API 1
#include <stddef.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pin.h>
#include <p11-kit/uri.h>
#include "softlink.h"

SOFTLINK_LIBRARY(p11kit, "libp11-kit.so.0");

static const char unavailable[] = "p11-kit is not available (libp11-kit.so.0 is not installed)";

/* Modules */
SOFTLINK(p11kit, CK_FUNCTION_LIST **, p11_kit_modules_load, (const char *reserved, int flags),
         (reserved, flags), return NULL)
SOFTLINK(p11kit, CK_FUNCTION_LIST *, p11_kit_module_load, (const char *path, int flags), (path, flags),
         return NULL)
SOFTLINK(p11kit, CK_RV, p11_kit_module_finalize, (CK_FUNCTION_LIST *module), (module),
         return CKR_GENERAL_ERROR)
SOFTLINK_VOID(p11kit, p11_kit_module_release, (CK_FUNCTION_LIST *module), (module))
SOFTLINK(p11kit, char *, p11_kit_module_get_name, (CK_FUNCTION_LIST *module), (module), return NULL)
SOFTLINK(p11kit, int, p11_kit_module_get_flags, (CK_FUNCTION_LIST *module), (module), return 0)
SOFTLINK(p11kit, char *, p11_kit_config_option, (CK_FUNCTION_LIST *module, const char *option),
         (module, option), return NULL)
SOFTLINK(p11kit, const char *, p11_kit_strerror, (CK_RV rv), (rv), return unavailable)
SOFTLINK(p11kit, const char *, p11_kit_message, (void), (), return unavailable)
SOFTLINK(p11kit, size_t, p11_kit_space_strlen, (const unsigned char *string, size_t max_length),
         (string, max_length), return 0)
SOFTLINK(p11kit, char *, p11_kit_space_strdup, (const unsigned char *string, size_t max_length),
         (string, max_length), return NULL)

/* URIs */
SOFTLINK(p11kit, P11KitUri *, p11_kit_uri_new, (void), (), return NULL)
SOFTLINK_VOID(p11kit, p11_kit_uri_free, (P11KitUri *uri), (uri))
SOFTLINK(p11kit, int, p11_kit_uri_parse, (const char *string, P11KitUriType type, P11KitUri *uri),
         (string, type, uri), return P11_KIT_URI_UNEXPECTED)
SOFTLINK(p11kit, int, p11_kit_uri_format, (P11KitUri *uri, P11KitUriType type, char **string),
         (uri, type, string), return P11_KIT_URI_UNEXPECTED)
SOFTLINK(p11kit, CK_INFO_PTR, p11_kit_uri_get_module_info, (P11KitUri *uri), (uri), return NULL)
SOFTLINK(p11kit, int, p11_kit_uri_match_module_info, (const P11KitUri *uri, const CK_INFO *info),
         (uri, info), return 0)
SOFTLINK(p11kit, CK_TOKEN_INFO_PTR, p11_kit_uri_get_token_info, (P11KitUri *uri), (uri), return NULL)
SOFTLINK(p11kit, int, p11_kit_uri_match_token_info, (const P11KitUri *uri, const CK_TOKEN_INFO *info),
         (uri, info), return 0)
SOFTLINK(p11kit, CK_ATTRIBUTE_PTR, p11_kit_uri_get_attribute, (P11KitUri *uri, CK_ATTRIBUTE_TYPE type),
         (uri, type), return NULL)
SOFTLINK(p11kit, int, p11_kit_uri_set_attribute, (P11KitUri *uri, CK_ATTRIBUTE_PTR attribute),
         (uri, attribute), return P11_KIT_URI_UNEXPECTED)
SOFTLINK(p11kit, CK_ATTRIBUTE_PTR, p11_kit_uri_get_attributes, (P11KitUri *uri, CK_ULONG *count),
         (uri, count), { if (count) *count = 0; return NULL; })
SOFTLINK(p11kit, const char *, p11_kit_uri_get_pin_value, (const P11KitUri *uri), (uri), return NULL)
SOFTLINK(p11kit, const char *, p11_kit_uri_get_pin_source, (const P11KitUri *uri), (uri), return NULL)

/* PINs */
SOFTLINK(p11kit, P11KitPin *, p11_kit_pin_new_for_string, (const char *value), (value), return NULL)
SOFTLINK_VOID(p11kit, p11_kit_pin_unref, (P11KitPin *pin), (pin))
SOFTLINK(p11kit, const unsigned char *, p11_kit_pin_get_value, (P11KitPin *pin, size_t *length),
         (pin, length), { if (length) *length = 0; return NULL; })
SOFTLINK(p11kit, size_t, p11_kit_pin_get_length, (P11KitPin *pin), (pin), return 0)
SOFTLINK(p11kit, int, p11_kit_pin_register_callback,
         (const char *source, p11_kit_pin_callback callback, void *data, p11_kit_pin_destroy_func destroy),
         (source, callback, data, destroy), return -1)
SOFTLINK_VOID(p11kit, p11_kit_pin_unregister_callback,
              (const char *source, p11_kit_pin_callback callback, void *data), (source, callback, data))
SOFTLINK(p11kit, P11KitPin *, p11_kit_pin_request,
         (const char *source, P11KitUri *uri, const char *description, P11KitPinFlags flags),
         (source, uri, description, flags), return NULL)
SOFTLINK(p11kit, P11KitPin *, p11_kit_pin_file_callback,
         (const char *source, P11KitUri *uri, const char *description, P11KitPinFlags flags, void *data),
         (source, uri, description, flags, data), return NULL)
