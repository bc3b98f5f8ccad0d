/*
 * A small pthread pool for the learners' parallel loops. Workers claim task
 * numbers from an atomic counter, so a job of many small tasks balances
 * itself. Results never depend on which thread ran a task, because callers
 * give each task its own output and combine outputs in task order.
 *
 * Growing a tree runs a few short jobs per split, thousands per model. Between
 * jobs, workers and the caller first poll for a short while (POOL_SPINS
 * polls) and only then sleep on a condition variable, because a futex wake
 * costs microseconds on every job. The poll is kept short so that a machine
 * with more threads than free cores loses little to it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "learn/learn_internal.h"

/*
 * Polls before sleeping, each with one pause instruction: about 25
 * microseconds where a pause takes 25 ns (measured on an AMD EPYC), and
 * longer where it is slower. NOTE: the count is an estimate.
 */
#define POOL_SPINS 1000

struct learn_pool {
    int n_threads; /* workers + the calling thread */
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    atomic_uint_fast64_t generation; /* job counter, bumped after the job's fields are set */
    atomic_bool stopping;
    atomic_int busy;     /* workers still inside the current job */

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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Polls for a job newer than seen or for a stop, then sleeps until one comes. */
static void wait_for_job(learn_pool *pool, uint64_t seen)
{
    for (int spin = 0; spin < POOL_SPINS; spin++) {
        if (atomic_load(&pool->generation) != seen || atomic_load(&pool->stopping))
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&pool->lock);
    while (!atomic_load(&pool->stopping) && atomic_load(&pool->generation) == seen)
        pthread_cond_wait(&pool->wake, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

static void *worker_main(void *arg)
{
    learn_pool *pool = arg;
    uint64_t seen = 0;

    for (;;) {
        wait_for_job(pool, seen);
        if (atomic_load(&pool->stopping))
            break;
        seen = atomic_load(&pool->generation);

        run_tasks(pool);

        /* The lock orders this signal after the caller's check of busy, so the wake is not lost. */
        if (atomic_fetch_sub(&pool->busy, 1) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
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
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->stopping, false);
    atomic_init(&pool->busy, 0);
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
    atomic_store(&pool->stopping, true);
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

    /* Workers read the job's fields only after they see the new generation, which is stored last. */
    pool->fn = fn;
    pool->context = context;
    pool->n_tasks = n_tasks;
    atomic_store(&pool->next_task, 0);
    atomic_store(&pool->busy, pool->n_threads - 1);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    run_tasks(pool);

    for (int spin = 0; spin < POOL_SPINS && atomic_load(&pool->busy) > 0; spin++)
        cpu_relax();
    if (atomic_load(&pool->busy) > 0) {
        pthread_mutex_lock(&pool->lock);
        while (atomic_load(&pool->busy) > 0)
            pthread_cond_wait(&pool->done, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
}
