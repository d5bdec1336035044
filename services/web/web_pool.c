/* web_pool.c - the PostgreSQL connections (see web_int.h). A mutex and a
 * condition variable guard the free list; the connections are used
 * outside the lock. */
#include "web_int.h"
#include "pgutil.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_web_pool {
        pthread_mutex_t lock;
        pthread_cond_t freed;
        char *conninfo;
        PGconn **conns; /* NULL: not connected yet (or closed) */
        int *busy;
        int n;
};

/* Session settings: read-only, Vietnam time (dates and times are shown
 * as PostgreSQL prints them), ISO dates, and a bound on every query. */
static const char tp_web_session_sql[] =
        "SET default_transaction_read_only = on; "
        "SET TIME ZONE 'Asia/Ho_Chi_Minh'; SET DateStyle = 'ISO, YMD'; "
        "SET statement_timeout = '10s'";

static PGconn *tp_web_pool_connect(const char *conninfo, char *errstr,
                                   size_t errstr_size)
{
        char err[512];
        PGconn *conn = tp_pg_connect(conninfo, "tthc-web", errstr, errstr_size);
        if (!conn)
                return NULL;
        if (tp_pg_exec(conn, tp_web_session_sql, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size,
                         "could not set up the session: %s", err);
                PQfinish(conn);
                return NULL;
        }
        return conn;
}

struct tp_web_pool *tp_web_pool_new(const char *conninfo, int n, char *errstr,
                                    size_t errstr_size)
{
        struct tp_web_pool *pool = tp_xcalloc(1, sizeof(*pool));
        pthread_mutex_init(&pool->lock, NULL);
        pthread_cond_init(&pool->freed, NULL);
        pool->n = n > 0 ? n : 1;
        pool->conninfo = tp_xstrdup(conninfo);
        pool->conns = tp_xcalloc((size_t)pool->n, sizeof(*pool->conns));
        pool->busy = tp_xcalloc((size_t)pool->n, sizeof(*pool->busy));
        pool->conns[0] = tp_web_pool_connect(conninfo, errstr, errstr_size);
        if (!pool->conns[0])
                goto fail;
        return pool;
fail:
        tp_web_pool_destroy(pool);
        return NULL;
}

void tp_web_pool_destroy(struct tp_web_pool *pool)
{
        if (!pool)
                return;
        for (int i = 0; i < pool->n; i++)
                if (pool->conns[i])
                        PQfinish(pool->conns[i]);
        free(pool->conns);
        free(pool->busy);
        free(pool->conninfo);
        pthread_cond_destroy(&pool->freed);
        pthread_mutex_destroy(&pool->lock);
        free(pool);
}

/* Takes a slot, connected ones first. */
static int tp_web_pool_take(struct tp_web_pool *pool)
{
        int slot = -1;
        pthread_mutex_lock(&pool->lock);
        for (;;) {
                for (int i = 0; i < pool->n; i++)
                        if (!pool->busy[i] &&
                            (slot < 0 ||
                             (pool->conns[i] && !pool->conns[slot])))
                                slot = i;
                if (slot >= 0)
                        break;
                pthread_cond_wait(&pool->freed, &pool->lock);
        }
        pool->busy[slot] = 1;
        pthread_mutex_unlock(&pool->lock);
        return slot;
}

static void tp_web_pool_release(struct tp_web_pool *pool, int slot)
{
        pthread_mutex_lock(&pool->lock);
        pool->busy[slot] = 0;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
}

PGconn *tp_web_pool_get(struct tp_web_pool *pool, const char *role,
                        char *errstr, size_t errstr_size)
{
        int slot = tp_web_pool_take(pool);
        PGconn *conn = pool->conns[slot];
        char *ident = NULL, *sql = NULL, err[512];

        if (conn && !tp_pg_ok(conn)) {
                PQfinish(conn);
                conn = pool->conns[slot] = NULL;
        }
        if (!conn) {
                conn = pool->conns[slot] = tp_web_pool_connect(
                        pool->conninfo, errstr, errstr_size);
                if (!conn)
                        goto fail;
        }
        ident = PQescapeIdentifier(conn, role, strlen(role));
        if (!ident) {
                snprintf(errstr, errstr_size, "could not quote role: %s",
                         PQerrorMessage(conn));
                tp_chomp(errstr);
                goto fail;
        }
        size_t len = strlen(ident) + 16;
        sql = tp_xmalloc(len);
        snprintf(sql, len, "SET ROLE %s", ident);
        if (tp_pg_exec(conn, sql, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "could not SET ROLE %s: %s",
                         ident, err);
                goto fail;
        }
        PQfreemem(ident);
        free(sql);
        return conn;
fail:
        if (ident)
                PQfreemem(ident);
        free(sql);
        tp_web_pool_release(pool, slot);
        return NULL;
}

void tp_web_pool_put(struct tp_web_pool *pool, PGconn *conn)
{
        char err[256];
        int slot = -1;
        for (int i = 0; i < pool->n; i++)
                if (pool->conns[i] == conn)
                        slot = i;
        if (slot < 0)
                return;
        /* a connection is never reused with the role of its last user */
        if (tp_pg_exec(conn, "RESET ROLE", err, sizeof(err)) != 0) {
                PQfinish(conn);
                pool->conns[slot] = NULL;
        }
        tp_web_pool_release(pool, slot);
}
