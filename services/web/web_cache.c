/* web_cache.c - the national page's rows, kept a few seconds per role
 * (see web_int.h). A result is shared by reference count: the cache holds
 * one reference, each request rendering it another; the last one clears
 * it. PGresults are read-only once made, so requests read them at once. */
#include "web_int.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TP_WEB_CACHE_SLOTS 16

struct tp_web_shared {
        PGresult *res;
        int refs;
};

struct tp_web_cache {
        pthread_mutex_t lock;
        int64_t max_age_ms;
        struct {
                char *role;
                struct tp_web_shared *sh;
                int64_t at_ms;
        } slot[TP_WEB_CACHE_SLOTS];
};

struct tp_web_cache *tp_web_cache_new(int max_age_s)
{
        struct tp_web_cache *cache = tp_xcalloc(1, sizeof(*cache));
        pthread_mutex_init(&cache->lock, NULL);
        cache->max_age_ms = (int64_t)max_age_s * 1000;
        return cache;
}

/* Drops one reference (the lock held). */
static void tp_web_cache_unref(struct tp_web_shared *sh)
{
        if (sh && --sh->refs == 0) {
                PQclear(sh->res);
                free(sh);
        }
}

void tp_web_cache_destroy(struct tp_web_cache *cache)
{
        if (!cache)
                return;
        for (int i = 0; i < TP_WEB_CACHE_SLOTS; i++) {
                tp_web_cache_unref(cache->slot[i].sh);
                free(cache->slot[i].role);
        }
        pthread_mutex_destroy(&cache->lock);
        free(cache);
}

struct tp_web_shared *tp_web_cache_get(struct tp_web_cache *cache,
                                       const char *role)
{
        struct tp_web_shared *sh = NULL;
        int64_t now = tp_mono_ms();
        if (cache->max_age_ms <= 0)
                return NULL;
        pthread_mutex_lock(&cache->lock);
        for (int i = 0; i < TP_WEB_CACHE_SLOTS && !sh; i++)
                if (cache->slot[i].role &&
                    strcmp(cache->slot[i].role, role) == 0 &&
                    now - cache->slot[i].at_ms < cache->max_age_ms) {
                        sh = cache->slot[i].sh;
                        sh->refs++;
                }
        pthread_mutex_unlock(&cache->lock);
        return sh;
}

struct tp_web_shared *tp_web_cache_put(struct tp_web_cache *cache,
                                       const char *role, PGresult *res)
{
        struct tp_web_shared *sh = tp_xcalloc(1, sizeof(*sh));
        int k = 0;

        sh->res = res;
        sh->refs = 1; /* the caller's */
        if (cache->max_age_ms <= 0)
                return sh;
        pthread_mutex_lock(&cache->lock);
        /* the role's slot, else a free one, else the oldest */
        for (int i = 0; i < TP_WEB_CACHE_SLOTS; i++) {
                if (cache->slot[i].role &&
                    strcmp(cache->slot[i].role, role) == 0) {
                        k = i;
                        break;
                }
                if (!cache->slot[i].role ||
                    (cache->slot[k].role &&
                     cache->slot[i].at_ms < cache->slot[k].at_ms))
                        k = i;
        }
        tp_web_cache_unref(cache->slot[k].sh);
        free(cache->slot[k].role);
        cache->slot[k].role = tp_xstrdup(role);
        cache->slot[k].sh = sh;
        cache->slot[k].at_ms = tp_mono_ms();
        sh->refs++; /* the cache's */
        pthread_mutex_unlock(&cache->lock);
        return sh;
}

const PGresult *tp_web_shared_res(const struct tp_web_shared *sh)
{
        return sh->res;
}

void tp_web_cache_release(struct tp_web_cache *cache, struct tp_web_shared *sh)
{
        pthread_mutex_lock(&cache->lock);
        tp_web_cache_unref(sh);
        pthread_mutex_unlock(&cache->lock);
}
