/*
 * Password redaction for PostgreSQL connection URIs. Every message and log
 * line that shows a URL goes through ln_postgres_redact_url, and error text
 * from libpq or the server is also scrubbed of the password itself.
 */
#include "data/data_internal.h"

#include <stdio.h>

static const char *const url_schemes[] = {"postgresql://", "postgres://"};

/* Returns the length of the scheme that url starts with, or 0. */
static size_t scheme_length(const char *url)
{
    for (size_t i = 0; i < sizeof url_schemes / sizeof url_schemes[0]; i++) {
        size_t length = strlen(url_schemes[i]);
        if (strncmp(url, url_schemes[i], length) == 0)
            return length;
    }
    return 0;
}

int ln_postgres_is_url(const char *text)
{
    return text != NULL && scheme_length(text) > 0;
}

/*
 * Finds the password between "user:" and "@". The last @ of the whole URL
 * ends the user information, so a password holding an unencoded @, / or ?
 * is still covered; this can hide more than the password, never less.
 */
static int find_userinfo_password(const char *url, size_t *begin, size_t *end)
{
    size_t start = scheme_length(url);
    const char *at = strrchr(url + start, '@');

    if (start == 0 || at == NULL)
        return 0;
    const char *colon = memchr(url + start, ':', (size_t)(at - (url + start)));
    if (colon == NULL)
        return 0;
    *begin = (size_t)(colon + 1 - url);
    *end = (size_t)(at - url);
    return 1;
}

/* Finds the value of a password= parameter at or after from; returns 0 when there is none. */
static int find_password_parameter(const char *url, size_t from, size_t *begin, size_t *end)
{
    static const char key[] = "password=";
    const char *p = url + from;

    while ((p = strstr(p, key)) != NULL) {
        int at_boundary = p == url || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ';
        if (at_boundary) {
            size_t value = (size_t)(p - url) + sizeof key - 1;
            *begin = value;
            *end = value + strcspn(url + value, "& ");
            return 1;
        }
        p++;
    }
    return 0;
}

/* Appends length bytes of text to buffer at *used, keeping room for the NUL. */
static void append(char *buffer, size_t capacity, size_t *used, const char *text, size_t length)
{
    size_t room = capacity - 1 - *used;
    size_t count = length < room ? length : room;

    memcpy(buffer + *used, text, count);
    *used += count;
    buffer[*used] = '\0';
}

void ln_postgres_redact_url(const char *url, char *buffer, size_t capacity)
{
    size_t used = 0;
    size_t copied = 0;
    size_t begin;
    size_t end;

    if (capacity == 0)
        return;
    buffer[0] = '\0';
    if (url == NULL)
        return;

    if (find_userinfo_password(url, &begin, &end)) {
        append(buffer, capacity, &used, url, begin);
        append(buffer, capacity, &used, "***", 3);
        copied = end;
    }
    while (find_password_parameter(url, copied, &begin, &end)) {
        append(buffer, capacity, &used, url + copied, begin - copied);
        append(buffer, capacity, &used, "***", 3);
        copied = end;
    }
    append(buffer, capacity, &used, url + copied, strlen(url + copied));
}

/* Replaces every copy of secret (NUL-terminated, length bytes) in the message with ***. */
static void replace_secret(char *message, const char *secret, size_t length)
{
    char *from = message;
    char *hit;

    while ((hit = strstr(from, secret)) != NULL) {
        size_t offset = (size_t)(hit - message);
        size_t tail = strlen(hit + length);

        /* The message only shrinks or keeps its length, because length >= 3. */
        memmove(hit + 3, hit + length, tail + 1);
        memcpy(hit, "***", 3);
        from = message + offset + 3;
    }
}

/*
 * Passwords shorter than this are not scrubbed from free text, where they
 * would match ordinary words; the URL itself is always redacted.
 */
#define MIN_SCRUBBED_SECRET 4

void data_pg_scrub_message(char *message, const char *url)
{
    size_t begin;
    size_t end;
    size_t from = 0;

    if (url == NULL)
        return;
    if (find_userinfo_password(url, &begin, &end) && end - begin >= MIN_SCRUBBED_SECRET) {
        char secret[LN_ERROR_MESSAGE_MAX];
        size_t length = end - begin < sizeof secret - 1 ? end - begin : sizeof secret - 1;
        memcpy(secret, url + begin, length);
        secret[length] = '\0';
        replace_secret(message, secret, length);
    }
    while (find_password_parameter(url, from, &begin, &end)) {
        if (end - begin >= MIN_SCRUBBED_SECRET && end - begin < LN_ERROR_MESSAGE_MAX) {
            char secret[LN_ERROR_MESSAGE_MAX];
            memcpy(secret, url + begin, end - begin);
            secret[end - begin] = '\0';
            replace_secret(message, secret, end - begin);
        }
        from = end;
    }
}
