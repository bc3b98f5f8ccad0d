/* A minimal fork-join helper: the loaders split work into independent tasks (chunks, columns). */
#include "data/data_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct parallel_job {
    void (*task)(void *context, size_t index);
    void *context;
    size_t n_tasks;
    atomic_size_t next;
} parallel_job;

static void *run_tasks(void *argument)
{
    parallel_job *job = argument;

    for (;;) {
        size_t index = atomic_fetch_add(&job->next, 1);
        if (index >= job->n_tasks)
            break;
        job->task(job->context, index);
    }
    return NULL;
}

int data_thread_count(const ln_load_options *options)
{
    if (options != NULL && options->threads > 0)
        return options->threads;

    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

void data_parallel_for(size_t n_tasks, int threads, void (*task)(void *context, size_t index),
                       void *context)
{
    parallel_job job = {.task = task, .context = context, .n_tasks = n_tasks};
    pthread_t workers[256];
    int started = 0;

    atomic_init(&job.next, 0);
    if (threads > 256)
        threads = 256;
    if ((size_t)threads > n_tasks)
        threads = (int)n_tasks;

    /* The calling thread works too; a worker that fails to start only costs speed. */
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&workers[started], NULL, run_tasks, &job) == 0)
            started++;
    }
    run_tasks(&job);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
}
