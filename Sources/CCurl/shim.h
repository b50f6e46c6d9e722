#include <curl/curl.h>
/* curl_easy_setopt is variadic, which Swift cannot call; these typed wrappers can be. */
static inline CURLcode slipway_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slipway_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slipway_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode slipway_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode slipway_curl_getinfo_ptr(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }

/* ---- Registry additions: typed callback setters, blobs, off_t info and a locked share. ---- */
#include <pthread.h>
#include <stdlib.h>

static inline CURLcode slipway_curl_setopt_write(CURL *h, CURLoption o, curl_write_callback f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode slipway_curl_setopt_read(CURL *h, curl_read_callback f) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }
static inline CURLcode slipway_curl_setopt_seek(CURL *h, curl_seek_callback f) { return curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, f); }
static inline CURLcode slipway_curl_setopt_xferinfo(CURL *h, curl_xferinfo_callback f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
/* Copies the bytes (CURL_BLOB_COPY), so the caller's buffer may go away after the call. */
static inline CURLcode slipway_curl_setopt_blob(CURL *h, CURLoption o, const void *data, size_t len) {
    struct curl_blob blob; blob.data = (void *)data; blob.len = len; blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &blob);
}
static inline CURLcode slipway_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

/* ---- The multi interface: one loop drives every transfer of a client. ---- */
static inline CURLMcode slipway_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
/* The next finished transfer (its easy handle, and its result in *result); NULL when none is left. */
static inline CURL *slipway_curl_multi_next_done(CURLM *m, CURLcode *result) {
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) { *result = msg->data.result; return msg->easy_handle; }
    }
    return NULL;
}

/* A share handle (DNS, TLS sessions) safe to use from many threads: one mutex per
   lock_data kind, allocated with the share and freed by slipway_curl_share_free. */
struct slipway_share_locks { pthread_mutex_t m[CURL_LOCK_DATA_LAST]; };
static inline void slipway_share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u) {
    (void)h; (void)a; pthread_mutex_lock(&((struct slipway_share_locks *)u)->m[d]);
}
static inline void slipway_share_unlock(CURL *h, curl_lock_data d, void *u) {
    (void)h; pthread_mutex_unlock(&((struct slipway_share_locks *)u)->m[d]);
}
static inline CURLSH *slipway_curl_share_new(void **locks_out) {
    struct slipway_share_locks *l = (struct slipway_share_locks *)malloc(sizeof *l);
    if (!l) return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&l->m[i], NULL);
    CURLSH *s = curl_share_init();
    if (!s) { free(l); return NULL; }
    curl_share_setopt(s, CURLSHOPT_LOCKFUNC, slipway_share_lock);
    curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, slipway_share_unlock);
    curl_share_setopt(s, CURLSHOPT_USERDATA, (void *)l);
    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    /* Connections are not shared here: they live in the client's one multi handle, which
       multiplexes HTTP/2 streams over them (a shared connection cache would bypass it). */
    *locks_out = l;
    return s;
}
static inline void slipway_curl_share_free(CURLSH *s, void *locks) {
    curl_share_cleanup(s);
    struct slipway_share_locks *l = (struct slipway_share_locks *)locks;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&l->m[i]);
    free(l);
}
