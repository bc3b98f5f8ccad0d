/*
 * A small pthread pool for the learners' parallel loops. Workers sleep on a
 * condition variable between jobs and claim task numbers from an atomic
 * counter, so a job of many small tasks balances itself. Results never
 * depend on which thread ran a task, because callers give each task its own
 * output and combine outputs in task order.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "learn/learn_internal.h"

struct learn_pool {
    int n_threads; /* workers + the calling thread */
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    uint64_t generation; /* bumped for each job */
    int stopping;
    int busy;            /* workers still inside the current job */

    learn_task_fn fn;
    void *context;
    size_t n_tasks;
    atomic_size_t next_task;
};

static void run_tasks(learn_pool *pool)
{
    for (;;) {
        size_t task = atomic_fetch_add(&pool->next_task, 1);
        if (task >= pool->n_tasks)
            return;
        pool->fn(pool->context, task);
    }
}

static void *worker_main(void *arg)
{
    learn_pool *pool = arg;
    uint64_t seen = 0;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && pool->generation == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stopping)
            break;
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);

        run_tasks(pool);

        pthread_mutex_lock(&pool->lock);
        if (--pool->busy == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

learn_pool *learn_pool_new(int threads)
{
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)(cores < 256 ? cores : 256) : 1;
    }

    learn_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->n_threads = 1;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->next_task, 0);

    pool->workers = calloc((size_t)threads, sizeof *pool->workers);
    if (pool->workers == NULL) {
        learn_pool_free(pool);
        return NULL;
    }

    /* A pool that could start fewer workers than requested still works, only slower. */
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&pool->workers[i - 1], NULL, worker_main, pool) != 0)
            break;
        pool->n_threads++;
    }
    return pool;
}

void learn_pool_free(learn_pool *pool)
{
    if (pool == NULL)
        return;

    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->n_threads - 1; i++)
        pthread_join(pool->workers[i], NULL);

    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool->workers);
    free(pool);
}

int learn_pool_threads(const learn_pool *pool)
{
    return pool->n_threads;
}

void learn_pool_run(learn_pool *pool, size_t n_tasks, learn_task_fn fn, void *context)
{
    if (n_tasks == 0)
        return;
    if (pool->n_threads == 1 || n_tasks == 1) {
        for (size_t task = 0; task < n_tasks; task++)
            fn(context, task);
        return;
    }

    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->context = context;
    pool->n_tasks = n_tasks;
    atomic_store(&pool->next_task, 0);
    pool->busy = pool->n_threads - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    run_tasks(pool);

    pthread_mutex_lock(&pool->lock);
    while (pool->busy > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}
