/*
 * Bearer-token check. The comparison runs over the whole expected token
 * whatever the received text is, so its time does not reveal how many
 * leading bytes of a guess were right.
 */
#include <string.h>
#include <strings.h>

#include "serve/serve_internal.h"

int serve_token_matches(const char *token, const char *authorization)
{
    static const char scheme[] = "Bearer ";
    size_t scheme_length = sizeof scheme - 1;

    if (authorization == NULL || strncasecmp(authorization, scheme, scheme_length) != 0)
        return 0;

    const char *given = authorization + scheme_length;
    size_t given_length = strlen(given);
    size_t token_length = strlen(token);
    volatile unsigned char difference = given_length != token_length;

    /* Only the received length decides when to stop reading given, and the client sent that length itself. */
    for (size_t i = 0; i < token_length; i++) {
        unsigned char received = i < given_length ? (unsigned char)given[i] : 0;
        difference |= (unsigned char)((unsigned char)token[i] ^ received);
    }
    return difference == 0;
}
