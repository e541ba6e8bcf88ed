/*
 * name.c -- validation of process, pool and queue names.
 *
 * The alphabet is small so that a name is safe in file names, log lines
 * and shell words; names that are all digits are refused so that a
 * command-line argument is unambiguously an id or a name.
 */
#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

static bool
name_char_ok(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '@' || c == ':' || c == '+' || c == '-';
}

bool
proto_name_valid(const char *s, size_t len, const char **why)
{
        const char *dummy;
        bool digits = true;

        if (why == NULL)
                why = &dummy;
        if (len == 0) {
                *why = "is empty";
                return false;
        }
        if (len > PROTO_NAME_MAX) {
                *why = "is longer than 64 bytes";
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (!name_char_ok(c)) {
                        *why = "may only contain A-Z a-z 0-9 . _ @ : + -";
                        return false;
                }
                if (c < '0' || c > '9')
                        digits = false;
        }
        if (s[0] == '-' || s[0] == '.') {
                *why = "may not start with '-' or '.'";
                return false;
        }
        if (digits) {
                *why = "may not be all digits";
                return false;
        }
        return true;
}
